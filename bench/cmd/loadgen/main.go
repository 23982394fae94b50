// Command loadgen drives one workload against one Socket.IO server on
// loopback and prints one JSON result: throughput, latency percentiles, and
// the CPU time of both the server (from /proc/<pid>/stat) and itself
// (getrusage), so a run shows when the generator, not the server, was the
// bottleneck.
//
//	loadgen --url http://127.0.0.1:3000 --server-pid 1234 --workload set-username --conns 50
//
// Every loop is bounded: in time by --warmup + --duration (plus fixed set-up
// timeouts), and in memory by --max-samples.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/karl-app/karl/bench/internal/stats"
	"github.com/karl-app/karl/bench/internal/wire"
)

// Result is what loadgen prints.
type Result struct {
	Workload   string  `json:"workload"`
	Mode       string  `json:"mode"` // closed (peak throughput) or rate (fixed arrival rate)
	Conns      int     `json:"conns"`
	Rate       float64 `json:"rate,omitempty"`
	Ops        int64   `json:"ops"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput"` // ops per second in the measured window
	Unit       string  `json:"unit"`

	Latency stats.Summary `json:"latency"`

	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`

	ClientCPU      float64 `json:"client_cpu_cores"` // cores the generator used on average
	ServerCPU      float64 `json:"server_cpu_cores"` // cores the server used on average
	ServerCPUPerOp float64 `json:"server_cpu_us_per_op"`
	ClientCPUPerOp float64 `json:"client_cpu_us_per_op"`

	Extra map[string]any `json:"extra,omitempty"`
}

type config struct {
	url, wsURL, statsURL string
	pid                  int
	workload             string
	conns                int
	rate                 float64
	warmup, duration     time.Duration
	window               int
	kill                 int
	maxSamples           int
	// idemKeys: set-username sends the request metadata object
	// {"idempotencyKey": "<fresh key>"} after the payload (issue 13).
	idemKeys bool
}

func main() {
	var c config
	flag.StringVar(&c.url, "url", "http://127.0.0.1:3000", "server base URL (loopback only)")
	flag.StringVar(&c.statsURL, "stats-url", "", "the server's /debug/bench/stats URL (idle workload)")
	flag.IntVar(&c.pid, "server-pid", 0, "the server's process id, for its CPU time and memory")
	flag.StringVar(&c.workload, "workload", "echo", "echo, set-username, upload, handshake, broadcast or idle")
	flag.IntVar(&c.conns, "conns", 50, "sockets (handshake: concurrent connectors; broadcast: room members)")
	flag.Float64Var(&c.rate, "rate", 0, "fixed arrival rate per second (0: closed loop, for peak throughput)")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "load before measuring")
	flag.DurationVar(&c.duration, "duration", 3*time.Second, "measured time")
	flag.IntVar(&c.window, "window", 8, "broadcast, closed loop: messages in flight")
	flag.IntVar(&c.kill, "kill", -1, "idle: connections to drop abruptly (-1: half)")
	flag.IntVar(&c.maxSamples, "max-samples", 2_000_000, "latency samples kept at most")
	flag.BoolVar(&c.idemKeys, "idempotency-keys", false, `set-username: send {"idempotencyKey": "<fresh random 16-byte base64url>"} as the request metadata of every request`)
	flag.Parse()
	if c.duration > 5*time.Minute || c.warmup > time.Minute {
		fail(errors.New("--duration is at most 5m and --warmup 1m"))
	}
	var err error
	if c.idemKeys && c.workload != "set-username" {
		fail(errors.New("--idempotency-keys is for --workload set-username only"))
	}
	if c.wsURL, err = wire.URL(c.url); err != nil {
		fail(err)
	}
	var res *Result
	switch c.workload {
	case "echo", "set-username", "upload":
		res, err = requestResponse(c)
	case "handshake":
		res, err = handshake(c)
	case "broadcast":
		res, err = broadcast(c)
	case "idle":
		res, err = idle(c)
	default:
		err = fmt.Errorf("unknown workload %q", c.workload)
	}
	if err != nil {
		fail(err)
	}
	res.Workload, res.Conns, res.Rate = c.workload, c.conns, c.rate
	if res.Mode == "" {
		res.Mode = "closed"
		if c.rate > 0 {
			res.Mode = "rate"
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

// Phases of a run: load before measuring, the measured window, then stop.
const (
	warming int32 = iota
	measuring
	stopping
)

// meter runs the warm-up and measured phases and takes the CPU readings at
// their edges.
type meter struct {
	phase  atomic.Int32
	pid    int
	errs   atomic.Int64
	errMu  sync.Mutex
	errMsg string

	seconds              float64
	clientCPU, serverCPU time.Duration
}

func (m *meter) measuring() bool { return m.phase.Load() == measuring }
func (m *meter) stopped() bool   { return m.phase.Load() == stopping }

// run sleeps through warm-up and the measured window, moving the phase.
func (m *meter) run(warmup, duration time.Duration) {
	time.Sleep(warmup)
	t0, c0 := time.Now(), stats.SelfCPU()
	s0, _ := stats.ProcCPU(m.pid)
	m.phase.Store(measuring)
	time.Sleep(duration)
	m.phase.Store(stopping)
	m.seconds = time.Since(t0).Seconds()
	m.clientCPU = stats.SelfCPU() - c0
	s1, _ := stats.ProcCPU(m.pid)
	m.serverCPU = s1 - s0
}

func (m *meter) fail(err error) {
	if m.errs.Add(1) == 1 {
		m.errMu.Lock()
		m.errMsg = err.Error()
		m.errMu.Unlock()
	}
}

// result fills the fields every workload shares.
func (m *meter) result(ops int64, unit string, lat stats.Summary) *Result {
	r := &Result{Ops: ops, Seconds: m.seconds, Unit: unit, Latency: lat, Errors: m.errs.Load(), FirstError: m.errMsg}
	if m.seconds > 0 {
		r.Throughput = float64(ops) / m.seconds
		r.ClientCPU = m.clientCPU.Seconds() / m.seconds
		r.ServerCPU = m.serverCPU.Seconds() / m.seconds
	}
	if ops > 0 {
		r.ServerCPUPerOp = float64(m.serverCPU.Microseconds()) / float64(ops)
		r.ClientCPUPerOp = float64(m.clientCPU.Microseconds()) / float64(ops)
	}
	return r
}

// dialAll connects n sockets, at most par at a time, each with auth(i).
func dialAll(ctx context.Context, wsURL string, n, par int, auth func(i int) []byte) ([]*wire.Conn, error) {
	conns := make([]*wire.Conn, n)
	sem := make(chan struct{}, par)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var a []byte
			if auth != nil {
				a = auth(i)
			}
			var err error
			for try := 0; try < 3; try++ { // a loaded listener may drop a SYN; try again
				dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
				var c *wire.Conn
				c, err = wire.Dial(dctx, wsURL, a)
				cancel()
				if err == nil {
					c.Index = i
					conns[i] = c
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			mu.Lock()
			if first == nil {
				first = fmt.Errorf("connect socket %d: %w", i, err)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if first != nil {
		closeAll(conns)
		return nil, first
	}
	return conns, nil
}

func closeAll(conns []*wire.Conn) {
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// waitDone waits, bounded, for the readers of conns to stop after closeAll.
func waitDone(conns []*wire.Conn, timeout time.Duration) {
	deadline := time.After(timeout)
	for _, c := range conns {
		select {
		case <-c.Done():
		case <-deadline:
			return
		}
	}
}

// call sends frame on a connection that is not running yet and reads until
// the ack with id, handing other frames to onFrame. For set-up steps.
func call(c *wire.Conn, frame []byte, id uint64, onFrame func([]byte)) ([]byte, error) {
	if err := c.Write(frame); err != nil {
		return nil, err
	}
	for {
		f, err := c.Next()
		if err != nil {
			return nil, err
		}
		if len(f) >= 2 && f[0] == '4' && f[1] == '3' {
			if got, ok := wire.ParseAckID(f); ok && got == id {
				return f, nil
			}
			continue
		}
		if onFrame != nil {
			onFrame(f)
		}
	}
}

var okField = []byte(`"ok":true`)
