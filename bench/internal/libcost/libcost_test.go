// Package libcost holds minimal reproductions of the costs docs/BENCHMARKS.md
// attributes to the libraries under the Go server (zishang520/socket.io
// v3.0.6, gorilla/websocket, modernc.org/sqlite), so they can be shown to
// their maintainers: `go test -run '^$' -bench . -benchmem ./bench/internal/libcost`.
package libcost

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/v3/pkg/queue"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/app/store/sqlite"
)

// frame is a broadcast packet as the adapter pre-encodes it: 42["new-user-connected",{...}].
var frame = []byte(`42["new-user-connected",{"username":"Alice Liddell"}]`)

var sink any

// BenchmarkPreparedMessagePerRecipient is what zishang520's WebSocket
// transport (servers/engine/v3/transports/websocket.go, send) does for every
// socket a broadcast reaches: the adapter encodes the packet once and passes
// it as WsPreEncodedFrame, and the transport builds a new
// websocket.PreparedMessage from it, per socket. Each one allocates a
// throw-away Conn with a 4 KB write buffer to render one frame.
func BenchmarkPreparedMessagePerRecipient(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame)
		if err != nil {
			b.Fatal(err)
		}
		sink = pm
	}
}

// BenchmarkFrameHeaderPerRecipient is what writing the same frame costs a
// server that frames it itself: a 2-byte header before the payload (what
// gorilla's NextWriter/WriteMessage does in its connection's own buffer).
func BenchmarkFrameHeaderPerRecipient(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = append(append(buf[:0], 0x81, byte(len(frame))), frame...)
	}
	sink = buf
}

// BenchmarkQueueEnqueueOnIdle is zishang520's per-socket task queue
// (v3/pkg/queue) receiving one task at a time, as a socket does when its
// client waits for each ack: every task starts a new goroutine, whose stack
// then grows with the task's depth.
func BenchmarkQueueEnqueueOnIdle(b *testing.B) {
	q := queue.New()
	defer q.Close()
	done := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		q.Enqueue(func() { deep(40); done <- struct{}{} })
		<-done
	}
}

// BenchmarkWorkerOnIdle is the same task handed to a goroutine that lives on.
func BenchmarkWorkerOnIdle(b *testing.B) {
	tasks := make(chan func())
	defer close(tasks)
	go func() {
		for t := range tasks {
			t()
		}
	}()
	done := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		tasks <- func() { deep(40); done <- struct{}{} }
		<-done
	}
}

// deep uses about as much stack as decoding, handling and answering an event
// does in the server (tens of frames, some with large locals).
//
//go:noinline
func deep(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[n%64])
}

// BenchmarkSQLiteRename is one RenameSession of the KARL store (a write
// transaction with one UPDATE, synchronous=FULL, on tmpfs when available) with
// a context that cannot be cancelled, as the raw server passes.
func BenchmarkSQLiteRename(b *testing.B) {
	benchRename(b, func() (context.Context, context.CancelFunc) { return context.Background(), func() {} })
}

// BenchmarkSQLiteRenameWithDeadline is the same with the per-event deadline
// the runtime gives every handler: modernc.org/sqlite then starts a goroutine
// per statement (BEGIN, UPDATE, COMMIT) to interrupt it on cancellation, and
// installs a progress handler.
func BenchmarkSQLiteRenameWithDeadline(b *testing.B) {
	benchRename(b, func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 5*time.Second)
	})
}

func benchRename(b *testing.B, newCtx func() (context.Context, context.CancelFunc)) {
	dir := b.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		d, err := os.MkdirTemp("/dev/shm", "libcost-")
		if err == nil {
			dir = d
			b.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "karl.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	id, err := st.CreateSession(context.Background(), "user", store.HashToken("t"), now, now.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := newCtx()
		if err := st.RenameSession(ctx, id, "Alice", now); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}
