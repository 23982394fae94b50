package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// crossCheck compares the load generator with the stock npm socket.io-client
// on the same workload (W0 echo, 50 sockets) against the same server, both
// pinned the same way: at a fixed rate both can sustain, and closed loop.
type crossCheck struct {
	Server string                     `json:"server"`
	Rate   float64                    `json:"rate"`
	Runs   map[string]json.RawMessage `json:"runs"` // loadgen-rate, npm-rate, loadgen-closed, npm-closed
}

const crossCheckRate = 1000

func runCrossCheck(o *options) (*crossCheck, error) {
	k := servers["typed"]
	p, err := start(&o.e, k, "echo", true, "crosscheck")
	if err != nil {
		return nil, err
	}
	defer p.stop()
	warm, dur := "1", "3"
	if o.quick {
		warm, dur = "0.3", "1"
	}
	pid := fmt.Sprint(p.cmd.Process.Pid)
	cc := &crossCheck{Server: k.Name, Rate: crossCheckRate, Runs: map[string]json.RawMessage{}}
	logf("cross-check: loadgen and npm socket.io-client, echo with ack, 50 sockets, against %s (echo)", k.Name)
	logFile, err := os.Create(filepath.Join(o.e.logs, "crosscheck.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	for _, mode := range []string{"rate", "closed"} {
		rate := "0"
		if mode == "rate" {
			rate = fmt.Sprint(crossCheckRate)
		}
		runs := map[string][]string{
			"loadgen": {filepath.Join(o.e.bin, "loadgen"), "--url", p.url(), "--server-pid", pid, "--workload", "echo",
				"--conns", "50", "--rate", rate, "--warmup", warm + "s", "--duration", dur + "s"},
			"npm": {"node", "crosscheck.js", "--url", p.url(), "--server-pid", pid, "--conns", "50", "--rate", rate,
				"--warmup", warm, "--duration", dur},
		}
		for _, client := range []string{"loadgen", "npm"} {
			argv := append([]string{"taskset", "-c", "1"}, runs[client]...)
			dir := ""
			if client == "npm" {
				dir = o.e.nodeRef
			}
			out, err := runTool(context.Background(), 2*time.Minute, dir, argv, logFile)
			if err != nil {
				return cc, fmt.Errorf("%s %s: %w", client, mode, err)
			}
			raw := json.RawMessage(strings.TrimSpace(string(out)))
			cc.Runs[client+"-"+mode] = raw
			logf("  %-8s %-6s: %s", client, mode, brief(raw))
		}
	}
	return cc, nil
}
