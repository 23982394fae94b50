// Command karl-testdb starts a throwaway PostgreSQL and Redis for tests
// written in other languages (app/interop's multinode test), with the same
// code as Go tests use (internal/testdb).
//
// It prints one JSON line once both are ready:
//
//	{"postgres":"postgres://karl@127.0.0.1:41234/karl?sslmode=disable","redis":"redis://127.0.0.1:41235"}
//
// then reads commands, one per line on stdin, answering each with a JSON line
// ({"ok":true} or {"error":"..."}):
//
//	redis-kill      kill Redis with SIGKILL
//	redis-restart   start it again, empty, on the same port
//
// When stdin closes, or on SIGTERM or SIGINT, it stops both servers, deletes
// their files and exits. If it is killed, the servers die with it.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/karl-app/karl/internal/testdb"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "karl-testdb:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	pg, err := testdb.StartPostgres(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, pg.Stop()) }()
	dbURL, err := pg.CreateDatabase(ctx, "karl")
	if err != nil {
		return err
	}
	rds, err := testdb.StartRedis(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rds.Stop()) }()

	enc := json.NewEncoder(out)
	if err := enc.Encode(map[string]string{"postgres": dbURL, "redis": rds.URL()}); err != nil {
		return err
	}

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if err := enc.Encode(answer(command(ctx, rds, line))); err != nil {
				return err
			}
		}
	}
}

func command(ctx context.Context, rds *testdb.Redis, line string) error {
	switch line {
	case "redis-kill":
		rds.Kill()
		return nil
	case "redis-restart":
		return rds.Restart(ctx)
	}
	return fmt.Errorf("unknown command %q (want redis-kill or redis-restart)", line)
}

func answer(err error) map[string]any {
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"ok": true}
}
