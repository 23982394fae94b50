package runtime_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

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

// TestHugeUnknownEventNamesAreNotEchoed reproduces finding 6: 40 events named
// with 340,000 characters each came back whole in request-error (13.6 MB)
// and were logged whole at info (13.6 MB).
func TestHugeUnknownEventNamesAreNotEchoed(t *testing.T) {
	logs := &logBuffer{}
	ts, _ := startServer(t, runtime.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	c := dial(t, ts.URL, nil)
	name := strings.Repeat("x", 340_000)
	const n = 40
	for range n {
		if err := c.WriteRaw(`42["` + name + `"]`); err != nil {
			t.Fatal(err)
		}
	}
	back := 0
	for i := range n {
		ev, err := c.Wait("request-error", 5*time.Second)
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		back += len(ev.Args[0])
		got := string(ev.Args[0])
		if !strings.Contains(got, `"code":"unknown-event"`) || !strings.Contains(got, `"event":"xxx`) {
			t.Fatalf("answer %d: %.200s", i, got)
		}
	}
	logged := len(logs.String())
	t.Logf("%d events named with %d characters: %d bytes answered, %d bytes logged", n, len(name), back, logged)
	if back > n*400 {
		t.Errorf("%d bytes answered, want the names cut (under %d)", back, n*400)
	}
	if logged > 4000 {
		t.Errorf("%d bytes logged for %d bad events of one socket, want a line or two", logged, n)
	}
	if !strings.Contains(logs.String(), "outcome=unknown-event") {
		t.Errorf("the bad events were not logged at all:\n%s", logs.String())
	}
}
