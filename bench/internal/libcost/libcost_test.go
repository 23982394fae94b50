// Package libcost holds minimal reproductions of the costs docs/BENCHMARKS.md
// attributes to the libraries under the Go server (zishang520/socket.io
// v3.0.6 and gorilla/websocket), so they can be shown to their maintainers
// without KARL: `go test -run '^$' -bench . -benchmem ./bench/internal/libcost`.
package libcost

import (
	"testing"

	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/v3/pkg/queue"
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
