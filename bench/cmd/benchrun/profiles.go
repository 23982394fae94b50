package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// profile is a CPU profile of a Go server under one workload, with the share
// of the time spent under a few functions that tell where it goes.
type profile struct {
	Name     string             `json:"name"`
	Server   string             `json:"server"`
	Workload string             `json:"workload"`
	File     string             `json:"file"` // the .pprof, under bench/results/profiles
	Top      string             `json:"top"`  // the -top text file
	Shares   map[string]float64 `json:"shares"`
}

// profileTargets are the profiles a full run records.
var profileTargets = []struct {
	name, server, app string
	pinned            bool
	args              []string
}{
	{"raw-echo-pinned", "raw", "echo", true, []string{"--workload", "echo", "--conns", "50"}},
	{"typed-echo-pinned", "typed", "echo", true, []string{"--workload", "echo", "--conns", "50"}},
	{"limit-echo-pinned", "limit", "echo", true, []string{"--workload", "echo", "--conns", "50"}},
	{"raw-w2-50", "raw", "karl", false, []string{"--workload", "set-username", "--conns", "50"}},
	{"typed-w2-50", "typed", "karl", false, []string{"--workload", "set-username", "--conns", "50"}},
	{"typed-w3", "typed", "karl", false, []string{"--workload", "upload", "--conns", "8"}},
	{"library-transport-echo-pinned", "typed+library", "echo", true, []string{"--workload", "echo", "--conns", "50"}},
	{"library-transport-w2-50", "typed+library", "karl", false, []string{"--workload", "set-username", "--conns", "50"}},
	{"proposals-echo-pinned", "typed+proposals", "echo", true, []string{"--workload", "echo", "--conns", "50"}},
	{"proposals-w2-50", "typed+proposals", "karl", false, []string{"--workload", "set-username", "--conns", "50"}},
}

var errSkipped = errors.New("skipped")

// shareOf lists the functions whose cumulative share a profile reports.
var shareOf = []struct{ label, fn string }{
	{"write syscalls", "syscall.write"},
	{"write/writev syscalls of karl's transport", "github.com/karl-app/karl/runtime/wstransport.(*rawWriter).do"},
	{"read syscalls", "syscall.read"},
	{"goroutine stack growth", "runtime.newstack"},
	{"allocation (mallocgc)", "runtime.mallocgc"},
	{"GC background marking", "runtime.gcBgMarkWorker"},
	{"scheduler (findRunnable)", "runtime.findRunnable"},
	{"JSON decode (library parser)", "encoding/json.(*Decoder).Decode"},
	{"JSON encode (library encoder)", "encoding/json.Marshal"},
	{"per-socket PreparedMessage (broadcasts)", "github.com/gorilla/websocket.NewPreparedMessage"},
	{"SQLite store", "database/sql.(*Tx).Commit"},
	{"photo check", "github.com/karl-app/karl/app/imagecheck.Check"},
	{"typed layer: runtime onEvent (all of a handled event)", "github.com/karl-app/karl/runtime.(*Socket).onEvent"},
	{"typed layer: connect gate", "github.com/karl-app/karl/runtime.(*connectGate).wait"},
	{"typed layer: per-event context", "context.WithTimeout"},
	{"typed layer: slog calls", "log/slog.(*Logger).log"},
	{"regexp checks", "regexp.(*Regexp).MatchString"},
}

func runProfiles(o *options) ([]profile, error) {
	dir := o.profileDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []profile
	for _, t := range profileTargets {
		if o.profileMatch != "" && !strings.Contains(t.name, o.profileMatch) {
			continue
		}
		p, err := runProfile(o, dir, t.name, t.server, t.app, t.pinned, t.args)
		if errors.Is(err, errSkipped) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", t.name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func runProfile(o *options, dir, name, server, app string, pinned bool, args []string) (profile, error) {
	k, err := variant(server)
	if err != nil {
		return profile{}, err
	}
	if !built(o, k, app) {
		logf("profile %s: skipped, no %s server built", name, server)
		return profile{}, errSkipped
	}
	proc, err := start(&o.e, k, app, pinned, "profile-"+name)
	if err != nil {
		return profile{}, err
	}
	defer proc.stop()
	logf("profile %s", name)
	argv := append([]string{filepath.Join(o.e.bin, "loadgen"), "--url", proc.url(), "--server-pid", fmt.Sprint(proc.cmd.Process.Pid),
		"--warmup", "1s", "--duration", "5s"}, args...)
	if pinned {
		argv = append([]string{"taskset", "-c", "1"}, argv...)
	}
	done := make(chan error, 1)
	go func() {
		_, err := runTool(context.Background(), 2*time.Minute, "", argv, io.Discard)
		done <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	file := filepath.Join(dir, name+".pprof")
	perr := fetch(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=3", proc.debugPort), file)
	if err := <-done; err != nil {
		return profile{}, err
	}
	if perr != nil {
		return profile{}, perr
	}
	_, argv0 := k.cmd(&o.e, app, 0, 0, "")
	bin := argv0[0] // the server's binary, for the symbols
	top, err := runTool(context.Background(), time.Minute, "", []string{"go", "tool", "pprof", "-top", "-nodecount=40", bin, file}, io.Discard)
	if err != nil {
		return profile{}, err
	}
	topFile := filepath.Join(dir, name+".top.txt")
	if err := os.WriteFile(topFile, top, 0o644); err != nil {
		return profile{}, err
	}
	cum, err := runTool(context.Background(), time.Minute, "", []string{"go", "tool", "pprof", "-top", "-cum", "-nodecount=100000", bin, file}, io.Discard)
	if err != nil {
		return profile{}, err
	}
	return profile{Name: name, Server: server, Workload: strings.Join(args, " "), File: file, Top: topFile, Shares: shares(string(cum))}, nil
}

func fetch(url, file string) error {
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// shares reads the cum% column of `pprof -top -cum` for the functions of shareOf.
func shares(cumTop string) map[string]float64 {
	byFn := map[string]float64{}
	for _, line := range strings.Split(cumTop, "\n") {
		f := strings.Fields(line)
		// flat flat% sum% cum cum% name...
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err != nil {
			continue
		}
		fn := strings.Join(f[5:], " ")
		fn = strings.TrimSuffix(fn, " (inline)")
		if _, seen := byFn[fn]; !seen {
			byFn[fn] = pct
		}
	}
	out := map[string]float64{}
	for _, s := range shareOf {
		if v, ok := byFn[s.fn]; ok {
			out[s.label] = v
		}
	}
	return out
}
