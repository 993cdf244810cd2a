module sapp.local/pause

go 1.22
