package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karl-app/karl/app/server"
	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
)

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func health(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func setUsername(t *testing.T, c *sioclient.Client, name string) string {
	t.Helper()
	raw, err := c.EmitAck("set-username", map[string]any{"username": name}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestDatabaseFileGoneIsNotAcknowledged reproduces finding 5: with the SQLite
// directory deleted under the running server, writes were acknowledged (and
// lost at the next start), /healthz said 200 and nothing was logged. Writes
// must answer internal, /healthz 503, one error logged; once the file is back
// at its path, both recover.
// startKarl serves a KARL server built from cfg (limits raised for tests
// unless set) and returns its URL; it is shut down with the test.
func startKarl(t *testing.T, cfg server.Config, log *slog.Logger) string {
	t.Helper()
	if cfg.EventLimit == (runtime.Limit{}) {
		cfg.EventLimit = runtime.Limit{PerSecond: 1000, Burst: 1000}
	}
	if cfg.HandshakeLimit == (runtime.Limit{}) {
		cfg.HandshakeLimit = runtime.Limit{PerSecond: 1000, Burst: 1000}
	}
	srv, err := server.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()); ts.Close() })
	return ts.URL
}

// userBefore connects a client that saved the username "Before".
func userBefore(t *testing.T, url string) *sioclient.Client {
	t.Helper()
	c, err := sioclient.Dial(url, sioclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if got := setUsername(t, c, "Before"); got != `{"ok":true}` {
		t.Fatalf("set-username: %s", got)
	}
	return c
}

// slowPing is a store whose Ping waits for its context, as a database that
// hangs does, and records how long that context gave it.
type slowPing struct {
	store.Store
	allowed chan time.Duration
}

func (s *slowPing) Ping(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok {
		s.allowed <- time.Until(d)
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestHealthTimeoutBoundsTheCheck: a database that hangs makes /healthz answer
// 503 after --health-timeout (300 ms here), not 2 s.
func TestHealthTimeoutBoundsTheCheck(t *testing.T) {
	slow := &slowPing{allowed: make(chan time.Duration, 1)}
	url := startKarl(t, server.Config{DB: filepath.Join(t.TempDir(), "karl.db"), HealthTimeout: 300 * time.Millisecond,
		OpenStore: func(ctx context.Context, db string, log *slog.Logger) (store.Store, error) {
			st, err := server.OpenStore(ctx, db, log)
			slow.Store = st
			return slow, err
		}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if got := health(t, url); got != http.StatusServiceUnavailable {
		t.Errorf("/healthz with a hanging database: %d, want 503", got)
	}
	if d := <-slow.allowed; d > 300*time.Millisecond {
		t.Errorf("the check was given %v, want at most the 300 ms health timeout", d)
	}
}

// TestDatabaseFileReplacedIsNotAcknowledged: another file renamed onto the
// database's path (a restore gone wrong, a deploy script) leaves the server
// writing to the file it opened, which nobody will read again: writes answer
// internal and /healthz 503, as when the file is deleted.
func TestDatabaseFileReplacedIsNotAcknowledged(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "karl.db")
	url := startKarl(t, server.Config{DB: db}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := userBefore(t, url)
	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, db); err != nil {
		t.Fatal(err)
	}
	if got := setUsername(t, c, "Lost"); !strings.Contains(got, `"code":"internal"`) {
		t.Errorf("write with the database file replaced: %s, want internal", got)
	}
	if got := health(t, url); got != http.StatusServiceUnavailable {
		t.Errorf("/healthz with the database file replaced: %d, want 503", got)
	}
}

func TestDatabaseFileGoneIsNotAcknowledged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	tsURL := startKarl(t, server.Config{DB: filepath.Join(dir, "karl.db")}, slog.New(slog.NewTextHandler(logs, nil)))
	c := userBefore(t, tsURL)

	moved := dir + ".moved" // as deleted, but we can put it back
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		other, err := sioclient.Dial(tsURL, sioclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := setUsername(t, other, "Lost"); !strings.Contains(got, `"code":"internal"`) {
			t.Errorf("write %d with the database directory gone: %s, want internal", i, got)
		}
		other.Close()
	}
	if got := health(t, tsURL); got != http.StatusServiceUnavailable {
		t.Errorf("/healthz with the database directory gone: %d, want 503", got)
	}
	health(t, tsURL)
	if n := strings.Count(logs.String(), "level=ERROR msg=\"database writes fail"); n != 1 {
		t.Errorf("%d 'database writes fail' errors logged, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "health check failed"); n != 1 {
		t.Errorf("%d 'health check failed' logged for two checks, want 1", n)
	}

	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}
	if got := health(t, tsURL); got != http.StatusOK {
		t.Errorf("/healthz with the file back: %d, want 200", got)
	}
	if got := setUsername(t, c, "After"); got != `{"ok":true}` {
		t.Errorf("set-username with the file back: %s", got)
	}
	if !strings.Contains(logs.String(), "database writes succeed again") {
		t.Error("the recovery was not logged")
	}
}

// TestFullDiskFailsTheHealthCheck: on a full disk writes answered internal
// but /healthz said 200 (finding 5). It needs a small file system of its own:
// it mounts a 4 MiB tmpfs, so it runs as root only.
func TestFullDiskFailsTheHealthCheck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounts a tmpfs: root only")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	logs := &logBuffer{}
	srv, err := server.New(context.Background(), server.Config{DB: filepath.Join(dir, "karl.db"),
		EventLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}, HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}},
		slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()); ts.Close() })
	c, err := sioclient.Dial(ts.URL, sioclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := setUsername(t, c, "Before"); got != `{"ok":true}` {
		t.Fatalf("set-username: %s", got)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 64<<10)); err != nil {
			break // ENOSPC
		}
	}
	f.Close()
	failed := false
	for i := range 50 { // until SQLite needs a page it does not have
		other, err := sioclient.Dial(ts.URL, sioclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := setUsername(t, other, fmt.Sprintf("Full%d", i))
		other.Close()
		if strings.Contains(got, `"code":"internal"`) {
			failed = true
			break
		}
	}
	if !failed {
		t.Fatal("no write failed on a full disk")
	}
	if got := health(t, ts.URL); got != http.StatusServiceUnavailable {
		t.Errorf("/healthz on a full disk after a failed write: %d, want 503", got)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if got := health(t, ts.URL); got != http.StatusOK {
		t.Errorf("/healthz with space again: %d, want 200", got)
	}
	if got := setUsername(t, c, "After"); got != `{"ok":true}` {
		t.Errorf("set-username with space again: %s", got)
	}
}

// TestHTTPErrorsGoThroughSlogRateLimited: net/http printed "http: Accept
// error: too many open files" with the standard logger, outside the slog log,
// once per retry (finding 1).
func TestHTTPErrorsGoThroughSlogRateLimited(t *testing.T) {
	logs := &logBuffer{}
	srv := server.NewHTTPServer(http.NotFoundHandler(), server.HTTPTimeouts{Read: time.Second, Idle: time.Second},
		slog.New(slog.NewJSONHandler(logs, nil)))
	if srv.ReadTimeout != time.Second || srv.IdleTimeout != time.Second || srv.ReadHeaderTimeout == 0 {
		t.Errorf("timeouts not set: read %v idle %v header %v", srv.ReadTimeout, srv.IdleTimeout, srv.ReadHeaderTimeout)
	}
	for range 100 {
		srv.ErrorLog.Printf("http: Accept error: accept tcp [::]:3000: accept4: too many open files; retrying in 5ms")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) > 6 {
		t.Errorf("%d lines for 100 accept errors in a burst, want at most 6", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `{"time":`) || !strings.Contains(l, `"level":"ERROR"`) || !strings.Contains(l, "too many open files") {
			t.Errorf("not a slog error line: %s", l)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	srv.ErrorLog.Printf("http: Accept error: again")
	if !strings.Contains(logs.String(), `"suppressed":`) {
		t.Errorf("the dropped lines were not counted:\n%s", logs.String())
	}
}
