// Package debugsrv is the bench-only debug listener of the Go servers under
// test: net/http/pprof, and /debug/bench/stats with what the memory workload
// (W5) reads. It is what `karl-server --debug-addr` would serve (a flag the
// benchmarks propose; see docs/BENCHMARKS.md). Serve it on loopback only.
package debugsrv

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/pprof"
	goruntime "runtime"
	"runtime/debug"
)

// Stats is the answer of /debug/bench/stats.
type Stats struct {
	Goroutines int    `json:"goroutines"`
	HeapAlloc  uint64 `json:"heap_alloc"`  // bytes of live and not yet collected objects
	HeapInuse  uint64 `json:"heap_inuse"`  // bytes in in-use spans
	StackInuse uint64 `json:"stack_inuse"` // bytes of goroutine stacks
	Sys        uint64 `json:"sys"`         // bytes obtained from the OS
	NumGC      uint32 `json:"num_gc"`
	GOMAXPROCS int    `json:"gomaxprocs"`
}

// Handler serves the debug endpoints.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/bench/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" { // collect first, so heap figures count live objects only
			goruntime.GC()
			debug.FreeOSMemory()
		}
		var m goruntime.MemStats
		goruntime.ReadMemStats(&m)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Stats{
			Goroutines: goruntime.NumGoroutine(), HeapAlloc: m.HeapAlloc, HeapInuse: m.HeapInuse,
			StackInuse: m.StackInuse, Sys: m.Sys, NumGC: m.NumGC, GOMAXPROCS: goruntime.GOMAXPROCS(0),
		})
	})
	return mux
}

// Start serves Handler on addr in the background; an empty addr serves nothing.
func Start(addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, Handler()) }()
	return nil
}
