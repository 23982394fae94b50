package runtime_test

import (
	"fmt"
	"log/slog"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/testapi"
)

// TestBroadcastToManyKeepsOrder: a broadcast to hundreds of sockets is written
// by several goroutines (writeAll); every socket still gets every event, once,
// in the order they were sent, on both transports, with and without the
// recovery adapter (which has its own fan-out).
func TestBroadcastToManyKeepsOrder(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(4)) // split the writes even on one core
	const clients, events = 300, 30
	for _, tc := range []struct {
		transport string
		recovery  time.Duration
	}{{"library", 0}, {"karl", 0}, {"karl", time.Minute}} {
		t.Run(fmt.Sprintf("%s/recovery=%v", tc.transport, tc.recovery), func(t *testing.T) {
			ts, _, srv := startTestAPI(t, runtime.Options{
				Transport:      tc.transport,
				RecoveryWindow: tc.recovery,
				Logger:         slog.New(slog.NewTextHandler(testLogOutput(), nil)), // not every frame of 300 clients
			})
			cs := make([]*sioclient.Client, clients)
			for i := range cs {
				cs[i] = dial(t, ts.URL, nil)
			}
			for i := range events {
				if err := srv.EmitHello(testapi.Hello{Name: fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for n, c := range cs {
				wg.Go(func() {
					for i := range events {
						ev, err := c.Wait("hello", 10*time.Second)
						if err != nil {
							errs <- fmt.Errorf("client %d, event %d: %v", n, i, err)
							return
						}
						if got, want := string(ev.Args[0]), fmt.Sprintf(`{"name":"%d"}`, i); got != want {
							errs <- fmt.Errorf("client %d got %s as event %d, want %s", n, got, i, want)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
