package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReplaceGeneratedKeepsTheTextAround(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	if err := replaceGenerated(path, "first\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	doc := strings.Replace(string(b), "# Benchmarks\n", "# Benchmarks\n\nwritten by hand\n", 1) + "after\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceGenerated(path, "second\n"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	got := string(b)
	for _, want := range []string{"written by hand\n", beginMarker + "\nsecond\n" + endMarker + "\n", "after\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "first") {
		t.Errorf("the old generated text is still there:\n%s", got)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
}

func TestParseMicro(t *testing.T) {
	out := "goos: linux\npkg: github.com/karl-app/karl/runtime\n" +
		"BenchmarkLibraryEncodeAck-2   \t  213754\t      1864 ns/op\t     456 B/op\t      16 allocs/op\n" +
		"PASS\n"
	got := parseMicro(out)
	if len(got) != 1 {
		t.Fatalf("parseMicro = %+v", got)
	}
	want := microBench{Package: "runtime", Name: "LibraryEncodeAck", NsPerOp: 1864, BPerOp: 456, AllocsOp: 16}
	if got[0] != want {
		t.Errorf("parseMicro = %+v, want %+v", got[0], want)
	}
}

func TestShares(t *testing.T) {
	cum := "      flat  flat%   sum%        cum   cum%\n" +
		"     0.42s 14.79% 27.11%      0.42s 14.79%  internal/runtime/syscall/linux.Syscall6\n" +
		"         0     0% 29.23%      0.34s 11.97%  syscall.write\n" +
		"     0.01s  0.35%  3.52%      0.59s 20.77%  runtime.mallocgc\n"
	got := shares(cum)
	if got["write syscalls"] != 11.97 || got["allocation (mallocgc)"] != 20.77 {
		t.Errorf("shares = %v", got)
	}
}

// TestRenderCost: a cost experiment's table shows each variant's medians and
// their change in % against the base server, and the note once per pair.
func TestRenderCost(t *testing.T) {
	m := func(w, s string, round int, tput, p99, perOp float64) measurement {
		return measurement{Workload: w, Server: s, Round: round, Result: []byte(fmt.Sprintf(
			`{"throughput":%g,"unit":"round trips/s","latency":{"p50_us":100,"p99_us":%g},"server_cpu_us_per_op":%g}`, tput, p99, perOp))}
	}
	var res results
	for _, id := range []string{"C-obs-W0-pinned", "C-obs-W2-50", "C-recovery-W4"} {
		i := slices.IndexFunc(costs(false), func(w workload) bool { return w.ID == id })
		if i < 0 {
			t.Fatalf("no cost experiment %s", id)
		}
		res.Workloads = append(res.Workloads, costs(false)[i])
	}
	res.Measurements = []measurement{
		m("C-obs-W0-pinned", "typed", 0, 10000, 2000, 50), m("C-obs-W0-pinned", "typed", 1, 12000, 1000, 40),
		m("C-obs-W0-pinned", "typed+metrics", 0, 10000, 1500, 50),
		m("C-obs-W0-pinned", "typed+tracing", 0, 8000, 3000, 60),
		m("C-obs-W2-50", "typed", 0, 5000, 4000, 100),
		m("C-recovery-W4", "typed+norecovery", 0, 20000, 1000, 10),
		m("C-recovery-W4", "typed", 0, 18000, 1100, 12),
	}
	md := renderMarkdown(&res, &options{out: t.TempDir(), chart: "x.png"})
	for _, want := range []string{
		"### What the features cost",
		// typed: medians 11000, 1.50 ms, 45 µs/op; tracing: -27.3%, +100%, +33.3%
		"| typed (karl-server) | 11000 | 1.50 | 45.0 | – | – | – | 0 |",
		"| typed + Prometheus metrics (--metrics) | 10000 | 1.50 | 50.0 | -9.1% | +0.0% | +11.1% | 0 |",
		"| typed + OpenTelemetry tracing (--tracing) | 8000 | 3.00 | 60.0 | -27.3% | +100.0% | +33.3% | 0 |",
		"| server | round trips/s | p99 ms | server µs/op | throughput vs typed+norecovery |",
		"| typed (karl-server) | 18000 | 1.10 | 12.0 | -10.0% | +10.0% | +20.0% | 0 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in:\n%s", want, md)
		}
	}
	if n := strings.Count(md, "What observability costs"); n != 1 {
		t.Errorf("the observability note is written %d times, want once", n)
	}
}

// TestEveryServerOfARunResolves: a misspelt variant would otherwise fail a
// full run only when its workload comes up, minutes in.
func TestEveryServerOfARunResolves(t *testing.T) {
	ids := map[string]bool{}
	for _, w := range slices.Concat(plan(false), experiments(false), costs(false)) {
		if ids[w.ID] {
			t.Errorf("workload id %s twice", w.ID)
		}
		ids[w.ID] = true
		for _, s := range w.Servers {
			if _, err := variant(s); err != nil {
				t.Errorf("%s: %v", w.ID, err)
			}
		}
		if w.Group == "C" && (len(w.Servers) < 2 || !slices.Contains(w.Servers, w.base()) || w.Rounds < 2) {
			t.Errorf("%s: a cost experiment needs its base %q among >= 2 servers and >= 2 rounds: %v, %d rounds", w.ID, w.base(), w.Servers, w.Rounds)
		}
	}
	for name, want := range map[string][2]string{
		"typed+idempotent": {"", "--idempotency-keys"}, "typed+norecovery": {"--recovery-window 0", ""},
		"typed+metrics": {"--metrics", ""}, "typed+tracing": {"--tracing", ""},
	} {
		k, _ := variant(name)
		if got := [2]string{strings.Join(k.Flags, " "), strings.Join(k.LoadArgs, " ")}; got != want || k.Name != name {
			t.Errorf("%s: flags, loadgen args %q, name %q; want %q", name, got, k.Name, want)
		}
	}
}
