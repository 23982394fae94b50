package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/karl-app/karl/bench/internal/stats"
	"github.com/karl-app/karl/bench/internal/wire"
)

const benchRoom = "bench"

// broadcast is W4: --conns sockets with a session join one room; socket 0
// sends "send-message" and the server emits "new-message" to every member,
// the sender included. A message's text carries its sequence number, so each
// receiver measures its own latency from the time the message was due.
// Fixed rate: --rate messages per second. Closed loop: --window messages in
// flight, the next sent when every member received one.
func broadcast(c config) (*Result, error) {
	// Sessions first, in batches, then every member restores its session from
	// its token (no broadcast) and joins the room.
	tokens, err := createSessions(c.wsURL, c.conns, 50)
	if err != nil {
		return nil, fmt.Errorf("set-up: %w", err)
	}
	conns, err := dialAll(context.Background(), c.wsURL, c.conns, 64, func(i int) []byte {
		return []byte(`{"token":"` + tokens[i] + `"}`)
	})
	if err != nil {
		return nil, err
	}
	defer func() { closeAll(conns); waitDone(conns, 10*time.Second) }()
	hs := make([]*member, len(conns))
	m := &meter{pid: c.pid}
	rec := stats.NewRecorder(max(c.maxSamples/len(conns), 16))
	maxMsgs := 1 << 20
	if c.rate > 0 {
		maxMsgs = min(maxMsgs, int(c.rate*(c.warmup+c.duration+5*time.Second).Seconds())+16)
	}
	b := &board{due: make([]atomic.Int64, maxMsgs), left: make([]atomic.Int32, maxMsgs), complete: make(chan struct{}, maxMsgs), members: int32(len(conns))}
	for i := range conns {
		hs[i] = &member{m: m, b: b, shard: rec.Shard()}
	}
	err = forAll(conns, 64, func(conn *wire.Conn) error {
		_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
		defer conn.SetReadDeadline(time.Time{})
		id := conn.NextID
		conn.NextID++
		ack, err := call(conn, wire.AppendEmit(nil, int64(id), "join-room", []byte(`{"room":"`+benchRoom+`"}`)), id, nil)
		if err == nil && !bytes.Contains(ack, okField) {
			err = fmt.Errorf("join-room: %s", ack)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, conn := range conns {
		conn.Run(hs[i])
	}

	sender := conns[0]
	var sent atomic.Int64
	send := func(seq int, due time.Time) bool {
		if seq >= maxMsgs {
			return false
		}
		b.due[seq].Store(due.UnixNano())
		b.left[seq].Store(b.members)
		frame := wire.AppendEmit(nil, int64(seq), "send-message", []byte(`{"room":"`+benchRoom+`","text":"m`+strconv.Itoa(seq)+`"}`))
		if err := sender.Write(frame); err != nil {
			if !m.stopped() {
				m.fail(err)
			}
			return false
		}
		sent.Add(1)
		return true
	}
	if c.rate > 0 {
		go schedule(m, c.rate, func(i int, due time.Time) { send(i, due) })
		m.run(c.warmup, c.duration)
	} else {
		go func() {
			inFlight := 0
			for seq := 0; !m.stopped(); {
				for inFlight < c.window && !m.stopped() {
					if !send(seq, time.Now()) {
						return
					}
					seq++
					inFlight++
				}
				select {
				case <-b.complete:
					inFlight--
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		m.run(c.warmup, c.duration)
	}
	// Let the deliveries in flight arrive (bounded) before closing.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if b.pending(int(sent.Load())) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	lost := b.pending(int(sent.Load()))
	closeAll(conns)
	waitDone(conns, 10*time.Second)
	var deliveries int64
	for _, h := range hs {
		deliveries += h.delivered
	}
	r := m.result(deliveries, "deliveries/s", rec.Summarize())
	r.Extra = map[string]any{"messages_sent": sent.Load(), "room": len(conns), "deliveries_missing": lost}
	if lost > 0 {
		m.fail(errors.New("deliveries missing at the end"))
		r.Errors, r.FirstError = m.errs.Load(), m.errMsg
	}
	return r, nil
}

// board is what the sender and the receivers share: when each message was
// due, and how many members still have to receive it.
type board struct {
	due      []atomic.Int64
	left     []atomic.Int32
	complete chan struct{}
	members  int32
}

func (b *board) pending(sent int) int64 {
	var n int64
	for i := range min(sent, len(b.left)) {
		n += int64(b.left[i].Load())
	}
	return n
}

// member is one socket in the room.
type member struct {
	m         *meter
	b         *board
	shard     *stats.Shard
	delivered int64 // touched by the reader only
}

var newMessage = []byte("new-message")

func (h *member) Event(c *wire.Conn, f []byte) {
	now := time.Now()
	if !bytes.Equal(wire.EventName(f), newMessage) {
		return
	}
	text, ok := wire.StringField(f, "text")
	if !ok || len(text) < 2 {
		h.m.fail(fmt.Errorf("new-message without a sequence: %.200s", f))
		return
	}
	seq, err := strconv.Atoi(string(text[1:]))
	if err != nil || seq >= len(h.b.due) {
		h.m.fail(fmt.Errorf("new-message with a bad sequence: %.200s", f))
		return
	}
	if h.m.measuring() {
		h.delivered++
		h.shard.Add(now.Sub(time.Unix(0, h.b.due[seq].Load())))
	}
	if h.b.left[seq].Add(-1) == 0 {
		select {
		case h.b.complete <- struct{}{}:
		default:
		}
	}
}

func (h *member) Ack(c *wire.Conn, id uint64, f []byte) {
	if !bytes.Contains(f, okField) {
		h.m.fail(fmt.Errorf("ack %.200s", f))
	}
}
