#!/bin/bash
# Command of every database container. It runs on every start of the container: an init container would not
# run again when only the container restarts, and a bootstrap that broke off must be noticed then too.
# Prepares the configuration and the data directory (prepare.sh), then hands over to the image's own
# entrypoint with the server command, exactly as the image would start.
set -euo pipefail
bash "${CONFIG_DIR:-/config}/prepare.sh"
exec docker-entrypoint.sh "$@"
