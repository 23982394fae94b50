package testdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Redis is a throwaway redis-server on 127.0.0.1 and a random port, without
// persistence (no snapshots, no append-only file): a restart loses
// everything, which pub/sub, all the Socket.IO adapter uses, does not mind.
type Redis struct {
	Port int
	dir  string
	srv  *server
}

// StartRedis starts redis-server on a free port.
func StartRedis(ctx context.Context) (*Redis, error) {
	dir, err := os.MkdirTemp("", "karl-redis-")
	if err != nil {
		return nil, fmt.Errorf("start Redis: %w", err)
	}
	r := &Redis{dir: dir}
	for range 3 {
		if err = r.start(ctx, 0); !addrInUse(err) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("start Redis: %w", errors.Join(err, os.RemoveAll(dir)))
	}
	return r, nil
}

// start runs redis-server on port (0: a free one) and waits until it answers PING.
func (r *Redis) start(ctx context.Context, port int) error {
	bin, err := lookPath("redis-server")
	if err != nil {
		return err
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return err
		}
	}
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", r.dir, "--daemonize", "no")
	srv, err := startServer("Redis", cmd, filepath.Join(r.dir, "redis.log"), syscall.SIGKILL)
	if err != nil {
		return err
	}
	r.Port, r.srv = port, srv
	if err := srv.waitReady(ctx, r.ping); err != nil {
		srv.stop(syscall.SIGKILL)
		return err
	}
	return nil
}

// ping sends PING and expects +PONG, in the protocol's own words: Redis is
// ready when it answers, not when it listens.
func (r *Redis) ping(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.Addr())
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.Port) }

// URL is the server's redis:// URL.
func (r *Redis) URL() string { return "redis://" + r.Addr() }

// Kill stops the server with SIGKILL, as a crash would.
func (r *Redis) Kill() {
	r.srv.stop(syscall.SIGKILL)
}

// Restart starts the server again, empty, on the same port, after Kill.
func (r *Redis) Restart(ctx context.Context) error {
	if r.srv.running() {
		return errors.New("restart Redis: it is still running")
	}
	// The port was ours a moment ago; another process taking it meanwhile is
	// unlikely enough to fail the test rather than move clients elsewhere.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := r.start(ctx, r.Port)
		if err == nil || !addrInUse(err) || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("restart Redis: %w", err)
			}
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server and deletes its directory.
func (r *Redis) Stop() error {
	r.Kill()
	return os.RemoveAll(r.dir)
}
