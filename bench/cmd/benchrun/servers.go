package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverKind is one of the servers under test.
type serverKind struct {
	Name  string // typed, raw, node, limit (and variants in experiments)
	Label string // for tables
	Env   []string
	// Flags adds command-line flags (experiments).
	Flags []string
	// LoadArgs adds loadgen flags for the runs against this server: a
	// variant of the client's requests rather than of the server
	// (typed+idempotent sends idempotency keys).
	LoadArgs []string
	cmd      func(e *env, app string, port, debugPort int, db string) (dir string, argv []string)
	// stats is the /debug/bench/stats URL.
	stats func(port, debugPort int) string
}

// env is where the benchmark runs: its binaries, the Node reference server,
// the working directory for databases and logs.
type env struct {
	bin     string // directory of typedserver, rawserver, limitserver, loadgen
	nodeRef string // bench/node-ref
	work    string // databases and logs of this run (on tmpfs when there is one)
	logs    string
}

func goStats(_, debugPort int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/debug/bench/stats", debugPort)
}

var servers = map[string]serverKind{
	"typed": {
		Name: "typed", Label: "typed (karl-server)",
		cmd: func(e *env, app string, port, debugPort int, db string) (string, []string) {
			return "", []string{filepath.Join(e.bin, "typedserver"), "--app", app, "--addr", addr(port), "--db", db,
				"--debug-addr", addr(debugPort)}
		},
		stats: goStats,
	},
	"raw": {
		Name: "raw", Label: "raw zishang520",
		cmd: func(e *env, app string, port, debugPort int, db string) (string, []string) {
			return "", []string{filepath.Join(e.bin, "rawserver"), "--addr", addr(port), "--db", db, "--debug-addr", addr(debugPort)}
		},
		stats: goStats,
	},
	"node": {
		Name: "node", Label: "Node.js socket.io",
		cmd: func(e *env, app string, port, debugPort int, db string) (string, []string) {
			return e.nodeRef, []string{"node", "--expose-gc", "server.js", "--addr", addr(port), "--db", db, "--debug"}
		},
		stats: func(port, _ int) string { return fmt.Sprintf("http://127.0.0.1:%d/debug/bench/stats", port) },
	},
	"limit": {
		Name: "limit", Label: "limit (gorilla echo)",
		cmd: func(e *env, app string, port, debugPort int, db string) (string, []string) {
			return "", []string{filepath.Join(e.bin, "limitserver"), "--addr", addr(port), "--debug-addr", addr(debugPort)}
		},
		stats: goStats,
	},
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// process is a running server.
type process struct {
	kind      serverKind
	cmd       *exec.Cmd
	port      int
	debugPort int
	exited    chan struct{}
}

func (p *process) url() string      { return "http://" + addr(p.port) }
func (p *process) statsURL() string { return p.kind.stats(p.port, p.debugPort) }

// start runs a server, on CPU 0 when pinned, with a fresh database, and waits
// for its "listening on" line.
func start(e *env, k serverKind, app string, pinned bool, tag string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	debugPort, err := freePort()
	if err != nil {
		return nil, err
	}
	db := filepath.Join(e.work, tag+"-"+k.Name+".db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(db + suffix)
	}
	dir, argv := k.cmd(e, app, port, debugPort, db)
	argv = append(argv, k.Flags...)
	if pinned {
		argv = append([]string{"taskset", "-c", "0"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), k.Env...)
	logf, err := os.Create(filepath.Join(e.logs, tag+"-"+k.Name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", k.Name, err)
	}
	p := &process{kind: k, cmd: cmd, port: port, debugPort: debugPort, exited: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := false
		for sc.Scan() {
			if !once && strings.HasPrefix(sc.Text(), "listening on") {
				once = true
				close(ready)
			}
			fmt.Fprintln(logf, sc.Text())
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { _ = cmd.Wait(); logf.Close(); close(p.exited) }()
	select {
	case <-ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s exited at start; see %s", k.Name, logf.Name())
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not listen within 30s", k.Name)
	}
}

// stop sends SIGTERM, then SIGKILL after 5 s.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// runTool runs a command to completion (bounded by timeout) and returns its stdout.
func runTool(ctx context.Context, timeout time.Duration, dir string, argv []string, stderr io.Writer) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return out, fmt.Errorf("%s: timed out after %v", argv[0], timeout)
	}
	return out, err
}
