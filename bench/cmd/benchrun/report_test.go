package main

import (
	"os"
	"path/filepath"
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
