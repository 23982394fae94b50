package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/karl-app/karl/bench/internal/stats"
	"github.com/karl-app/karl/bench/internal/wire"
)

// echoPayload is the 32-byte payload of the calibration workload W0.
var echoPayload = []byte(`{"m":"0123456789abcdefghijklmn"}`)

// requestResponse runs the workloads where every request is an event with an
// ack: echo (W0), set-username (W2) and upload (W3). In a closed loop each
// socket sends its next request from its reader as soon as the ack arrives;
// at a fixed rate one scheduler spreads requests over the sockets and
// latencies count from the time a request was due, so a server that falls
// behind shows it (no coordinated omission).
func requestResponse(c config) (*Result, error) {
	ctx := context.Background()
	conns, err := dialAll(ctx, c.wsURL, c.conns, 64, nil)
	if err != nil {
		return nil, err
	}
	defer func() { closeAll(conns); waitDone(conns, 5*time.Second) }()

	event, payload := "echo", echoPayload
	switch c.workload {
	case "set-username":
		event = "set-username"
	case "upload":
		event = "upload-profile-image"
		img, err := photo()
		if err != nil {
			return nil, err
		}
		payload = []byte(`{"imageBase64":"` + img + `"}`)
		if err := setUsernames(conns, nil); err != nil { // a photo needs a session
			return nil, err
		}
	}
	m := &meter{pid: c.pid}
	rec := stats.NewRecorder(max(c.maxSamples/len(conns), 1))
	closed := c.rate <= 0
	hs := make([]*rrConn, len(conns))
	for i, conn := range conns {
		body := payload
		if event == "set-username" {
			body = []byte(`{"username":"user ` + strconv.Itoa(i) + `"}`)
		}
		h := &rrConn{m: m, shard: rec.Shard(), closed: closed, pending: map[uint64]time.Time{},
			prefix: []byte(`["` + event + `",`), body: body}
		if c.idemKeys {
			h.keys = newKeySource()
		}
		hs[i] = h
		conn.Run(h)
	}
	if closed {
		for i, h := range hs {
			h.send(conns[i], time.Now())
		}
		m.run(c.warmup, c.duration)
	} else {
		go schedule(m, c.rate, func(i int, due time.Time) {
			hs[i%len(hs)].send(conns[i%len(conns)], due)
		})
		m.run(c.warmup, c.duration)
	}
	// Let the requests in flight finish (bounded) so they are not counted as lost.
	deadline := time.Now().Add(3 * time.Second)
	for _, h := range hs {
		for h.inFlight() > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	closeAll(conns)
	waitDone(conns, 5*time.Second)
	var ops, events, unanswered int64
	for _, h := range hs {
		ops += h.ops
		events += h.events
		unanswered += int64(h.inFlight())
	}
	unit := map[string]string{"echo": "round trips/s", "set-username": "round trips/s", "upload": "uploads/s"}[c.workload]
	r := m.result(ops, unit, rec.Summarize())
	r.Extra = map[string]any{"events_received": events, "unanswered": unanswered, "request_bytes": len(payload)}
	if c.idemKeys {
		r.Extra["idempotency_keys"] = true
	}
	return r, nil
}

// schedule calls send at a fixed rate until the meter stops, i counting the
// requests; a late scheduler catches up with a burst rather than skipping.
func schedule(m *meter, rate float64, send func(i int, due time.Time)) {
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	for i := 0; !m.stopped(); i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		send(i, due)
	}
}

// rrConn is one socket of a request-response workload.
type rrConn struct {
	m      *meter
	shard  *stats.Shard
	closed bool
	prefix []byte     // `["event",`
	body   []byte     // the payload
	keys   *keySource // nil: no request metadata; else a fresh idempotencyKey per request

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]time.Time // id -> when the request was due
	head    []byte
	meta    []byte // `,{"idempotencyKey":"..."}` of the request being sent
	ops     int64  // touched by the reader only
	events  int64
}

var closeBracket = []byte("]")

func (h *rrConn) send(c *wire.Conn, due time.Time) {
	h.mu.Lock()
	id := h.nextID
	h.nextID++
	h.pending[id] = due
	h.head = append(strconv.AppendUint(append(h.head[:0], '4', '2'), id, 10), h.prefix...)
	var err error
	if h.keys != nil {
		h.meta = h.keys.appendMeta(h.meta[:0])
		err = c.WriteParts(h.head, h.body, h.meta, closeBracket)
	} else {
		err = c.WriteParts(h.head, h.body, closeBracket)
	}
	h.mu.Unlock()
	if err != nil && !h.m.stopped() {
		h.m.fail(err)
	}
}

func (h *rrConn) inFlight() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.pending)
}

func (h *rrConn) Event(c *wire.Conn, f []byte) { h.events++ }

func (h *rrConn) Ack(c *wire.Conn, id uint64, f []byte) {
	now := time.Now()
	h.mu.Lock()
	due, ok := h.pending[id]
	delete(h.pending, id)
	h.mu.Unlock()
	switch {
	case !ok:
		h.m.fail(fmt.Errorf("ack for unknown id %d", id))
	case !bytes.Contains(f, okField):
		h.m.fail(fmt.Errorf("ack %.200s", f))
	case h.m.measuring():
		h.ops++
		h.shard.Add(now.Sub(due))
	}
	if h.closed && !h.m.stopped() {
		h.send(c, time.Now())
	}
}

// keySource makes the idempotency keys of one socket: 16 random bytes each,
// base64url without padding (22 characters), from a ChaCha8 stream seeded by
// crypto/rand, so that keys never repeat across sockets, runs or servers and
// making one costs the generator little. Used under rrConn.mu.
type keySource struct {
	rng *rand.ChaCha8
	raw [16]byte
}

func newKeySource() *keySource {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails on Linux
	return &keySource{rng: rand.NewChaCha8(seed)}
}

var metaOpen, metaClose = []byte(`,{"idempotencyKey":"`), []byte(`"}`)

// appendMeta appends the request metadata argument `,{"idempotencyKey":"<key>"}`.
func (k *keySource) appendMeta(b []byte) []byte {
	_, _ = k.rng.Read(k.raw[:])
	b = append(b, metaOpen...)
	b = base64.RawURLEncoding.AppendEncode(b, k.raw[:])
	return append(b, metaClose...)
}

// setUsernames gives every socket a session, 16 at a time, handing the other
// frames read meanwhile to onFrame (may be nil); conns must not run yet. A
// server swamped by the broadcasts this sends (each set-username tells every
// socket) may answer "internal" when a handler's deadline passed: set-up is
// not measured, so such a call is tried again, up to 3 times.
func setUsernames(conns []*wire.Conn, onFrame func(c *wire.Conn, f []byte)) error {
	return forAll(conns, 16, func(c *wire.Conn) error {
		_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
		defer c.SetReadDeadline(time.Time{})
		var each func([]byte)
		if onFrame != nil {
			each = func(f []byte) { onFrame(c, f) }
		}
		var ack []byte
		for try := 0; try < 3; try++ {
			frame := wire.AppendEmit(nil, int64(c.NextID), "set-username", []byte(`{"username":"user `+strconv.Itoa(c.Index)+`"}`))
			var err error
			ack, err = call(c, frame, c.NextID, each)
			c.NextID++
			if err != nil {
				return fmt.Errorf("set-username: %w", err)
			}
			if bytes.Contains(ack, okField) {
				return nil
			}
		}
		return fmt.Errorf("set-username: %s", ack)
	})
}

// forAll runs fn on every connection, par at a time, and returns the first error.
func forAll(conns []*wire.Conn, par int, fn func(*wire.Conn) error) error {
	sem := make(chan struct{}, par)
	errs := make(chan error, len(conns))
	var wg sync.WaitGroup
	for _, c := range conns {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(c); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
