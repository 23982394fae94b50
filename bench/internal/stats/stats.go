// Package stats records latencies and CPU time for the load generator.
package stats

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Recorder keeps latency samples in shards, one per goroutine that records,
// so recording needs no lock. Each shard keeps at most its capacity: a bound
// on memory whatever the rate and duration.
type Recorder struct {
	mu     sync.Mutex
	shards []*Shard
	cap    int
}

// NewRecorder returns a recorder whose shards keep at most perShard samples.
func NewRecorder(perShard int) *Recorder { return &Recorder{cap: perShard} }

// Shard is one goroutine's part of a Recorder; it is not safe for concurrent use.
type Shard struct {
	samples []int64
	dropped int64
	max     int
}

// Shard returns a new shard of r.
func (r *Recorder) Shard() *Shard {
	s := &Shard{max: r.cap, samples: make([]int64, 0, min(r.cap, 1024))}
	r.mu.Lock()
	r.shards = append(r.shards, s)
	r.mu.Unlock()
	return s
}

// Add records one latency.
func (s *Shard) Add(d time.Duration) {
	if len(s.samples) >= s.max {
		s.dropped++
		return
	}
	s.samples = append(s.samples, int64(d))
}

// Summary is what a run reports about its latencies, in microseconds.
type Summary struct {
	Count   int64   `json:"count"`
	Dropped int64   `json:"dropped,omitempty"`
	P50     float64 `json:"p50_us"`
	P90     float64 `json:"p90_us"`
	P99     float64 `json:"p99_us"`
	P999    float64 `json:"p999_us"`
	Max     float64 `json:"max_us"`
	Mean    float64 `json:"mean_us"`
}

// Summarize merges the shards (read them only after their goroutines stopped).
func (r *Recorder) Summarize() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []int64
	var sum Summary
	for _, s := range r.shards {
		all = append(all, s.samples...)
		sum.Dropped += s.dropped
	}
	sum.Count = int64(len(all))
	if len(all) == 0 {
		return sum
	}
	slices.Sort(all)
	q := func(p float64) float64 {
		i := int(p * float64(len(all)-1))
		return float64(all[i]) / 1e3
	}
	var total float64
	for _, v := range all {
		total += float64(v)
	}
	sum.P50, sum.P90, sum.P99, sum.P999 = q(0.50), q(0.90), q(0.99), q(0.999)
	sum.Max = float64(all[len(all)-1]) / 1e3
	sum.Mean = total / float64(len(all)) / 1e3
	return sum
}

// SelfCPU returns the CPU time this process used so far (user + system).
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; 100 on Linux.
const clockTicks = 100

// ProcCPU returns the CPU time process pid used so far, from /proc/<pid>/stat.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after its ')' are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// ProcStatus returns fields of /proc/<pid>/status in kB (VmRSS, VmHWM) or counts (Threads).
func ProcStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch k {
		case "VmRSS", "VmHWM", "RssAnon", "Threads":
			n, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			if err == nil {
				out[k] = n
			}
		}
	}
	return out, sc.Err()
}
