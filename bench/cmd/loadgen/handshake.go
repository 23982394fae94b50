package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/karl-app/karl/bench/internal/stats"
	"github.com/karl-app/karl/bench/internal/wire"
)

// tokenSessions is how many sessions the handshake workload restores, in turn.
const tokenSessions = 64

// handshake is W1: a returning user connects with the reconnect token it got
// from username-saved. One handshake is the WebSocket upgrade, the Engine.IO
// open packet, CONNECT with the token (the server resolves it in the store)
// and the "reconnected" event with the saved profile; then the client leaves.
// Closed loop: --conns connectors back to back. Fixed rate: a new connector
// every 1/rate s (at most 4096 open at once).
func handshake(c config) (*Result, error) {
	tokens, err := restoreTokens(c.wsURL)
	if err != nil {
		return nil, err
	}
	m := &meter{pid: c.pid}
	rec := stats.NewRecorder(max(c.maxSamples/256, 1))
	var (
		ops    atomic.Int64
		shards sync.Pool
	)
	shards.New = func() any { return rec.Shard() }
	one := func(i int, due time.Time) {
		auth := []byte(`{"token":"` + tokens[i%len(tokens)] + `"}`)
		if err := restore(c.wsURL, auth); err != nil {
			if !m.stopped() {
				m.fail(err)
			}
			return
		}
		if m.measuring() {
			ops.Add(1)
			s := shards.Get().(*stats.Shard)
			s.Add(time.Since(due))
			shards.Put(s)
		}
	}
	var wg sync.WaitGroup
	if c.rate <= 0 {
		for w := range c.conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; !m.stopped(); i += c.conns {
					one(i, time.Now())
				}
			}()
		}
		m.run(c.warmup, c.duration)
	} else {
		sem := make(chan struct{}, 4096)
		go schedule(m, c.rate, func(i int, due time.Time) {
			select {
			case sem <- struct{}{}:
			default:
				m.fail(errors.New("more than 4096 handshakes pending"))
				return
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				one(i, due)
			}()
		})
		m.run(c.warmup, c.duration)
	}
	wg.Wait()
	return m.result(ops.Load(), "connections/s", rec.Summarize()), nil
}

// restore is one handshake with a token, until "reconnected".
func restore(wsURL string, auth []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := wire.Dial(ctx, wsURL, auth)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		f, err := conn.Next()
		if err != nil {
			return fmt.Errorf("waiting for reconnected: %w", err)
		}
		switch name := wire.EventName(f); {
		case bytes.Equal(name, []byte("reconnected")):
			return nil
		case bytes.Equal(name, []byte("token-expired")):
			return errors.New("token-expired")
		}
	}
}

// restoreTokens creates the sessions W1 restores and returns their tokens.
func restoreTokens(wsURL string) ([]string, error) {
	return createSessions(wsURL, tokenSessions, tokenSessions)
}

// createSessions creates n sessions, batch sockets at a time (each
// set-username is told to every connected socket, so small batches keep the
// set-up from costing n² frames), and returns their reconnect tokens.
func createSessions(wsURL string, n, batch int) ([]string, error) {
	tokens := make([]string, 0, n)
	for len(tokens) < n {
		k := min(batch, n-len(tokens))
		conns, err := dialAll(context.Background(), wsURL, k, 16, nil)
		if err != nil {
			return nil, err
		}
		got := make([]string, k)
		err = forAll(conns, 16, func(c *wire.Conn) error {
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			name := fmt.Sprintf(`{"username":"user %d"}`, len(tokens)+c.Index)
			for try := 0; try < 3 && got[c.Index] == ""; try++ { // a swamped server may shed one
				id := c.NextID
				c.NextID++
				_, err := call(c, wire.AppendEmit(nil, int64(id), "set-username", []byte(name)), id, func(f []byte) {
					if bytes.Equal(wire.EventName(f), []byte("username-saved")) {
						if t, ok := wire.StringField(f, "token"); ok {
							got[c.Index] = string(t)
						}
					}
				})
				if err != nil {
					return err
				}
			}
			if got[c.Index] == "" {
				return errors.New("no token in username-saved before the ack")
			}
			return nil
		})
		closeAll(conns)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, got...)
	}
	return tokens, nil
}
