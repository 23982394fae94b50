package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/karl-app/karl/bench/internal/stats"
	"github.com/karl-app/karl/bench/internal/wire"
)

// snapshot is the server's memory at one point of W5.
type snapshot struct {
	RSSKB  int64              `json:"rss_kb"`
	Server map[string]float64 `json:"server,omitempty"` // /debug/bench/stats after a full GC
}

// idle is W5: --conns sockets connect and stay idle; the server's memory per
// connection is read (VmRSS, and its own heap figures after a full GC). Then
// --kill of them vanish without a goodbye (TCP closed, no Socket.IO or
// WebSocket close), and the server must drop what it held for them:
// goroutines and heap are read again once they stop falling, then after the
// rest left.
func idle(c config) (*Result, error) {
	if c.kill < 0 {
		c.kill = c.conns / 2
	}
	m := &meter{pid: c.pid}
	snap := func() (snapshot, error) {
		s := snapshot{}
		st, err := stats.ProcStatus(c.pid)
		if err != nil {
			return s, err
		}
		if c.statsURL != "" {
			if s.Server, err = serverStats(c.statsURL); err != nil {
				return s, err
			}
		}
		s.RSSKB = st["VmRSS"]
		if st, err := stats.ProcStatus(c.pid); err == nil { // again, after the GC the stats asked for
			s.RSSKB = st["VmRSS"]
		}
		return s, nil
	}
	before, err := snap()
	if err != nil {
		return nil, err
	}
	cpu0 := stats.SelfCPU()
	t0 := time.Now()
	conns, err := dialAll(context.Background(), c.wsURL, c.conns, 64, nil)
	if err != nil {
		return nil, err
	}
	connectSecs := time.Since(t0).Seconds()
	clientCPU := (stats.SelfCPU() - cpu0).Seconds()
	for _, conn := range conns {
		conn.Run(nopHandler{})
	}
	time.Sleep(2 * time.Second)
	full, err := snap()
	if err != nil {
		closeAll(conns)
		return nil, err
	}
	for _, conn := range conns[:c.kill] {
		_ = conn.Kill()
	}
	afterKill, settleKill := settle(snap)
	closeAll(conns[c.kill:])
	waitDone(conns, 10*time.Second)
	afterAll, settleAll := settle(snap)

	r := m.result(int64(c.conns), "connections", stats.Summary{})
	r.Seconds = connectSecs
	r.Throughput = float64(c.conns) / connectSecs
	r.ClientCPU = clientCPU / connectSecs
	r.Extra = map[string]any{
		"killed": c.kill, "before": before, "connected": full, "after_kill": afterKill, "after_all": afterAll,
		"settle_kill_s": settleKill, "settle_all_s": settleAll,
		"rss_per_conn_kb": float64(full.RSSKB-before.RSSKB) / float64(c.conns),
	}
	for _, k := range []string{"goroutines", "heap_alloc", "heap_inuse", "stack_inuse", "heap_used"} {
		b, ok1 := before.Server[k]
		f, ok2 := full.Server[k]
		if ok1 && ok2 {
			r.Extra[k+"_per_conn"] = (f - b) / float64(c.conns)
		}
	}
	return r, nil
}

// settle reads snapshots every 500 ms until two in a row agree on the
// goroutines (or, without them, the heap within 1%), for at most 30 s.
func settle(snap func() (snapshot, error)) (snapshot, float64) {
	start := time.Now()
	prev, _ := snap()
	for time.Since(start) < 30*time.Second {
		time.Sleep(500 * time.Millisecond)
		cur, err := snap()
		if err != nil {
			return prev, time.Since(start).Seconds()
		}
		if stable(prev, cur) {
			return cur, time.Since(start).Seconds()
		}
		prev = cur
	}
	return prev, time.Since(start).Seconds()
}

func stable(a, b snapshot) bool {
	if g, ok := a.Server["goroutines"]; ok {
		return g == b.Server["goroutines"]
	}
	h1, h2 := a.Server["heap_used"], b.Server["heap_used"]
	if h1 == 0 {
		return a.RSSKB == b.RSSKB
	}
	d := (h2 - h1) / h1
	return d < 0.01 && d > -0.01
}

func serverStats(url string) (map[string]float64, error) {
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url + "?gc=1")
	if err != nil {
		return nil, fmt.Errorf("server stats: %w", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("server stats: %w", err)
	}
	return out, nil
}

type nopHandler struct{}

func (nopHandler) Event(*wire.Conn, []byte)       {}
func (nopHandler) Ack(*wire.Conn, uint64, []byte) {}
