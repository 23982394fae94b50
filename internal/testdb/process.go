package testdb

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// server is a database process started by this package.
type server struct {
	name    string // "PostgreSQL" or "Redis", for errors
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed when the process has exited
	waitErr error         // the process's exit status, set before exited is closed
}

// startServer starts cmd with its output in logPath; it dies with sig when this process exits.
func startServer(name string, cmd *exec.Cmd, logPath string, sig syscall.Signal) (*server, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := start(cmd, sig); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// waitReady calls ready until it succeeds, the process exits, or ctx ends.
func (s *server) waitReady(ctx context.Context, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
		err := ready(attempt)
		cancelAttempt()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited before it was ready (%v); its log:\n%s", s.name, s.waitErr, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after 30s: %v; its log:\n%s", s.name, err, s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop sends sig and waits for the process to exit, killing it after 10 seconds.
func (s *server) stop(sig syscall.Signal) {
	_ = s.cmd.Process.Signal(sig) // fails only when it already exited
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// running reports whether the process has not exited.
func (s *server) running() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// logTail returns the last lines of the server's log, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return string(bytes.Join(lines[max(0, len(lines)-20):], []byte("\n")))
}

// addrInUse reports whether a server failed because its port was taken
// between freePort and its bind: then starting again on another port helps.
func addrInUse(err error) bool {
	return err != nil && strings.Contains(err.Error(), "in use")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// lookPath finds a server binary on PATH, saying how to install it when it is missing.
func lookPath(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found (install PostgreSQL and Redis with `make deps-db`): %w", name, err)
	}
	return path, nil
}
