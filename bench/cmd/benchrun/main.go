// Command benchrun runs the benchmarks of docs/BENCHMARKS.md: every
// workload against every server under test, each server its own process on
// loopback, in alternating order, then writes the results (JSON), the tables
// into docs/BENCHMARKS.md and a chart (PNG). bench/run.sh builds what it
// needs and calls it; see bench/README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type options struct {
	quick                   bool
	only                    map[string]bool
	servers                 []string
	out, docs, chart        string
	profiles                bool
	crosscheck              bool
	experiments             bool
	e                       env
	started                 time.Time
	command                 string
	resultsJSON, profileDir string
	render                  string
	profileMatch            string
}

func main() {
	var (
		o       options
		only    string
		servers string
	)
	flag.BoolVar(&o.quick, "quick", false, "a short run for development (under a minute)")
	flag.StringVar(&only, "only", "", "comma-separated workload ids to run (default: all)")
	flag.StringVar(&servers, "servers", "typed,raw,node,limit", "servers under test")
	flag.StringVar(&o.e.bin, "bin", "bench/out/bin", "directory of the built Go binaries")
	flag.StringVar(&o.e.nodeRef, "node-ref", "bench/node-ref", "the Node.js reference server")
	flag.StringVar(&o.e.work, "work", "", "databases of the servers (default: a fresh directory on /dev/shm when it exists)")
	flag.StringVar(&o.out, "out", "bench/out", "results, logs and profiles")
	flag.StringVar(&o.docs, "docs", "", "Markdown file whose generated section is replaced (default: none in --quick, docs/BENCHMARKS.md otherwise)")
	flag.StringVar(&o.chart, "chart", "", "PNG chart (default: bench/results/benchmarks.png; in --quick under --out)")
	flag.StringVar(&o.resultsJSON, "results", "", "results JSON (default: bench/results/results.json; in --quick under --out)")
	flag.StringVar(&o.profileDir, "profile-dir", "bench/results/profiles", "where the CPU profiles go")
	flag.BoolVar(&o.profiles, "profiles", true, "capture CPU profiles of the Go servers (full runs)")
	flag.BoolVar(&o.crosscheck, "crosscheck", true, "cross-check the load generator against the npm socket.io-client")
	flag.BoolVar(&o.experiments, "experiments", true, "run the experiments behind the proposals (full runs)")
	flag.StringVar(&o.command, "command", "make bench", "the command to print as the one that produced the results")
	flag.StringVar(&o.profileMatch, "profiles-match", "", "only the profiles whose name contains this")
	flag.StringVar(&o.render, "render", "", "only render the chart and Markdown of an existing results JSON")
	flag.Parse()
	if only != "" {
		o.only = map[string]bool{}
		for _, id := range strings.Split(only, ",") {
			o.only[strings.TrimSpace(id)] = true
		}
	}
	o.servers = strings.Split(servers, ",")
	if err := run(&o); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

// measurement is one loadgen run against one server.
type measurement struct {
	Workload string          `json:"workload"`
	Server   string          `json:"server"`
	Round    int             `json:"round"`
	Result   json.RawMessage `json:"result"`
	Error    string          `json:"error,omitempty"`
}

// results is the whole run, as written to results.json.
type results struct {
	Meta         meta          `json:"meta"`
	Workloads    []workload    `json:"workloads"`
	Measurements []measurement `json:"measurements"`
	CrossCheck   *crossCheck   `json:"crosscheck,omitempty"`
	Profiles     []profile     `json:"profiles,omitempty"`
	Micro        []microBench  `json:"micro,omitempty"`
}

func run(o *options) error {
	if o.render != "" {
		return render(o)
	}
	o.started = time.Now()
	if o.e.work == "" {
		base := os.TempDir()
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			base = "/dev/shm"
		}
		dir, err := os.MkdirTemp(base, "karl-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.e.work = dir
	}
	o.e.logs = filepath.Join(o.out, "logs")
	if err := os.MkdirAll(o.e.logs, 0o755); err != nil {
		return err
	}
	var err error
	if o.e.nodeRef, err = filepath.Abs(o.e.nodeRef); err != nil {
		return err
	}
	if o.docs == "" && !o.quick {
		o.docs = "docs/BENCHMARKS.md"
	}
	if o.chart == "" {
		o.chart = "bench/results/benchmarks.png"
		if o.quick {
			o.chart = filepath.Join(o.out, "benchmarks.png")
		}
	}
	res := &results{Meta: collectMeta(o)}
	logf("machine: %s; load average at start: %s", res.Meta.CPU, res.Meta.LoadStart)

	all := plan(o.quick)
	if o.experiments {
		all = append(all, experiments(o.quick)...)
		all = append(all, costs(o.quick)...)
		all = append(all, transports(o.quick)...)
	}
	for _, w := range all {
		if o.only != nil && !o.only[w.ID] {
			continue
		}
		if len(w.Servers) == 0 {
			w.Servers = o.servers
		}
		ms, err := runWorkload(o, w)
		if err != nil {
			return fmt.Errorf("%s: %w", w.ID, err)
		}
		if len(ms) == 0 {
			continue // skipped
		}
		res.Workloads = append(res.Workloads, w)
		res.Measurements = append(res.Measurements, ms...)
	}
	if o.crosscheck && (o.only == nil || o.only["crosscheck"]) {
		cc, err := runCrossCheck(o)
		if err != nil {
			logf("cross-check failed: %v", err)
		}
		res.CrossCheck = cc
	}
	if o.profiles && !o.quick && (o.only == nil || o.only["profiles"]) {
		ps, err := runProfiles(o)
		if err != nil {
			logf("profiles failed: %v", err)
		}
		res.Profiles = ps
	}
	if !o.quick && (o.only == nil || o.only["micro"]) {
		ms, err := runMicro(o)
		if err != nil {
			logf("micro-benchmarks failed: %v", err)
		}
		res.Micro = ms
	}
	res.Meta.LoadEnd = loadAverage()
	res.Meta.Minutes = time.Since(o.started).Minutes()

	resultsPath := o.resultsJSON
	if resultsPath == "" {
		resultsPath = "bench/results/results.json"
		if o.quick {
			resultsPath = filepath.Join(o.out, "results.json")
		}
	}
	if err := writeJSON(resultsPath, res); err != nil {
		return err
	}
	if err := writeChart(o.chart, res); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	md := renderMarkdown(res, o)
	mdPath := filepath.Join(o.out, "BENCHMARKS.md")
	if err := os.WriteFile(mdPath, []byte(md), 0o644); err != nil {
		return err
	}
	if o.docs != "" {
		if err := replaceGenerated(o.docs, md); err != nil {
			return err
		}
	}
	logf("done in %.1f min: %s, %s, %s", res.Meta.Minutes, resultsPath, o.chart, firstNonEmpty(o.docs, mdPath))
	return nil
}

// runWorkload starts the servers of w, runs Rounds rounds with the order of
// the servers rotated each round, and stops them.
func runWorkload(o *options, w workload) ([]measurement, error) {
	kinds := make([]serverKind, 0, len(w.Servers))
	for _, name := range w.Servers {
		k, err := variant(name)
		if err != nil {
			return nil, err
		}
		if !built(o, k, w.App) {
			if name == w.Needs {
				logf("%s: skipped, no %s server built", w.ID, name)
				return nil, nil
			}
			logf("%s: skipping %s, not built", w.ID, name)
			continue
		}
		kinds = append(kinds, k)
	}
	procs := map[string]*process{}
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for _, k := range kinds {
		p, err := start(&o.e, k, w.App, w.Pinned, w.ID)
		if err != nil {
			return nil, err
		}
		procs[k.Name] = p
	}
	logf("%s: %s", w.ID, w.Title)
	var out []measurement
	for round := range w.Rounds {
		for i := range kinds {
			k := kinds[(i+round)%len(kinds)]
			p := procs[k.Name]
			m := measurement{Workload: w.ID, Server: k.Name, Round: round}
			raw, err := loadgen(o, w, p)
			if err != nil {
				m.Error = err.Error()
				logf("  %-16s round %d: %v", k.Name, round+1, err)
			} else {
				m.Result = raw
				logf("  %-16s round %d: %s", k.Name, round+1, brief(raw))
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// built reports whether the binary of a Go server variant exists (variants
// such as typed+proposals are built only when run.sh could build them).
func built(o *options, k serverKind, app string) bool {
	_, argv := k.cmd(&o.e, app, 0, 0, "")
	if !strings.HasPrefix(argv[0], o.e.bin) {
		return true // not one of ours (node)
	}
	_, err := os.Stat(argv[0])
	return err == nil
}

// loadgen runs the load generator once against p, on CPU 1 when pinned.
func loadgen(o *options, w workload, p *process) (json.RawMessage, error) {
	argv := []string{filepath.Join(o.e.bin, "loadgen"), "--url", p.url(), "--server-pid", fmt.Sprint(p.cmd.Process.Pid),
		"--stats-url", p.statsURL()}
	argv = append(argv, w.Args...)
	argv = append(argv, p.kind.LoadArgs...)
	if w.Pinned {
		argv = append([]string{"taskset", "-c", "1"}, argv...)
	}
	timeout := w.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	logFile, err := os.OpenFile(filepath.Join(o.e.logs, w.ID+"-loadgen.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	out, err := runTool(context.Background(), timeout, "", argv, logFile)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w (see %s)", err, logFile.Name())
	}
	var check map[string]any
	if err := json.Unmarshal(out, &check); err != nil {
		return nil, fmt.Errorf("loadgen output: %w: %.200s", err, out)
	}
	return json.RawMessage(strings.TrimSpace(string(out))), nil
}

func brief(raw json.RawMessage) string {
	var r struct {
		Throughput float64 `json:"throughput"`
		Unit       string  `json:"unit"`
		Latency    struct {
			P50 float64 `json:"p50_us"`
			P99 float64 `json:"p99_us"`
		} `json:"latency"`
		Errors    int64   `json:"errors"`
		ServerCPU float64 `json:"server_cpu_cores"`
		ClientCPU float64 `json:"client_cpu_cores"`
	}
	_ = json.Unmarshal(raw, &r)
	return fmt.Sprintf("%.0f %s, p50 %.2f ms, p99 %.2f ms, server %.2f cores, client %.2f cores, %d errors",
		r.Throughput, r.Unit, r.Latency.P50/1e3, r.Latency.P99/1e3, r.ServerCPU, r.ClientCPU, r.Errors)
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func firstNonEmpty(ss ...string) string {
	if i := slices.IndexFunc(ss, func(s string) bool { return s != "" }); i >= 0 {
		return ss[i]
	}
	return ""
}

// render writes the chart and the Markdown of a results file again, e.g.
// after the report's layout changed.
func render(o *options) error {
	b, err := os.ReadFile(o.render)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return err
	}
	if o.docs == "" && !res.Meta.Quick {
		o.docs = "docs/BENCHMARKS.md"
	}
	if o.chart == "" {
		o.chart = "bench/results/benchmarks.png"
		if res.Meta.Quick {
			o.chart = filepath.Join(o.out, "benchmarks.png")
		}
	}
	if err := writeChart(o.chart, &res); err != nil {
		return err
	}
	md := renderMarkdown(&res, o)
	if err := os.WriteFile(filepath.Join(o.out, "BENCHMARKS.md"), []byte(md), 0o644); err != nil {
		return err
	}
	if o.docs != "" {
		return replaceGenerated(o.docs, md)
	}
	return nil
}
