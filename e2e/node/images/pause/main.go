// The pod sandbox ("pause") container of the local real node: holds the pod's namespaces, reaps zombies (it is
// PID 1 when the pod shares its process namespace) and exits on SIGINT/SIGTERM. Built from source by
// hack/node-images.sh, because no image can be pulled here; the same job as registry.k8s.io/pause.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		switch sig {
		case syscall.SIGCHLD:
			for {
				var status syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		default:
			os.Exit(0)
		}
	}
}
