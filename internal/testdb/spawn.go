package testdb

import (
	"os/exec"
	goruntime "runtime"
	"sync"
	"syscall"
)

// The servers must not outlive the process that started them, even when it
// dies without running its cleanups (a go test -timeout panic, a SIGKILL).
// Linux's parent-death signal does that, but it fires when the *thread* that
// forked the child exits, and Go may retire threads. So every server is
// started from one goroutine locked to its thread for the life of the
// process (see syscall.SysProcAttr.Pdeathsig).
var (
	spawnOnce sync.Once
	spawns    chan spawnRequest
)

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// start starts cmd so that it receives sig when this process exits.
func start(cmd *exec.Cmd, sig syscall.Signal) error {
	spawnOnce.Do(func() {
		spawns = make(chan spawnRequest)
		go func() {
			goruntime.LockOSThread() // never unlocked: the thread lives as long as the process
			for req := range spawns {
				req.done <- req.cmd.Start()
			}
		}()
	})
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = sig
	done := make(chan error, 1)
	spawns <- spawnRequest{cmd, done}
	return <-done
}
