package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// microBench is one line of `go test -bench -benchmem`.
type microBench struct {
	Package  string  `json:"package"`
	Name     string  `json:"name"`
	NsPerOp  float64 `json:"ns_per_op"`
	BPerOp   float64 `json:"bytes_per_op"`
	AllocsOp float64 `json:"allocs_per_op"`
}

// microPackages are the Go micro-benchmarks a full run records: the
// runtime's decoders, encoders and dispatch, the generated code's, the store,
// the photo check, and the reproductions of the library costs.
var microPackages = []string{"./runtime/", "./app/...", "./bench/internal/libcost/"}

func runMicro(o *options) ([]microBench, error) {
	logf("go micro-benchmarks: %s", strings.Join(microPackages, " "))
	argv := append([]string{"go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "300ms", "-count", "1"}, microPackages...)
	logFile, err := os.Create(filepath.Join(o.e.logs, "micro.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	out, err := runTool(context.Background(), 10*time.Minute, "", argv, logFile)
	_, _ = logFile.Write(out)
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %w (see %s)", err, logFile.Name())
	}
	return parseMicro(string(out)), nil
}

func parseMicro(out string) []microBench {
	var res []microBench
	pkg := ""
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "pkg:" {
			pkg = strings.TrimPrefix(f[1], "github.com/karl-app/karl/")
			continue
		}
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		m := microBench{Package: pkg, Name: strings.TrimPrefix(f[0], "Benchmark")}
		if i := strings.LastIndexByte(m.Name, '-'); i > 0 {
			m.Name = m.Name[:i]
		}
		for i := 2; i+1 < len(f); i += 2 {
			var v float64
			fmt.Sscan(f[i], &v)
			switch f[i+1] {
			case "ns/op":
				m.NsPerOp = v
			case "B/op":
				m.BPerOp = v
			case "allocs/op":
				m.AllocsOp = v
			}
		}
		res = append(res, m)
	}
	return res
}

func renderMicro(b *strings.Builder, ms []microBench) {
	if len(ms) == 0 {
		return
	}
	b.WriteString("### Go micro-benchmarks (`go test -run '^$' -bench . -benchmem -benchtime 300ms`)\n\n")
	b.WriteString("| package | benchmark | ns/op | B/op | allocs/op |\n|---|---|---:|---:|---:|\n")
	for _, m := range ms {
		fmt.Fprintf(b, "| %s | %s | %s | %.0f | %.0f |\n", m.Package, m.Name, num(m.NsPerOp), m.BPerOp, m.AllocsOp)
	}
	b.WriteString("\n")
}
