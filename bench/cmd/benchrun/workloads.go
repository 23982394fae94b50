package main

import (
	"fmt"
	"slices"
	"time"
)

// workload is one row group of docs/BENCHMARKS.md: one loadgen invocation
// run against each server, in alternating order, Rounds times.
type workload struct {
	ID     string // e.g. "W2-50"
	Group  string // the section: W0 ... W5
	Title  string
	App    string // what the typed server serves: karl or echo
	Pinned bool   // server on CPU 0, load generator on CPU 1 (GOMAXPROCS follows)
	Args   []string
	Rounds int
	// Metric names what the chart shows: throughput, p99 or memory.
	Metric string
	// Servers overrides the default four (experiments).
	Servers []string
	// Timeout bounds one loadgen run.
	Timeout time.Duration
	// Needs names a server variant without which the workload shows nothing
	// new (an experiment): the workload is skipped when its binary is missing.
	Needs string
	// Base is the server a cost experiment (group C) compares the others
	// with, in %; empty: typed. Note is the sentence saying what it measures.
	Base string `json:",omitempty"`
	Note string `json:",omitempty"`
}

// base is the reference server of a cost experiment.
func (w workload) base() string {
	if w.Base != "" {
		return w.Base
	}
	return "typed"
}

// plan returns the workloads of a run.
func plan(quick bool) []workload {
	warm, dur, rounds := "1s", "2s", 3
	if quick {
		warm, dur, rounds = "200ms", "600ms", 1
	}
	t := func(extra ...string) []string { return append([]string{"--warmup", warm, "--duration", dur}, extra...) }
	r2 := min(rounds, 2)
	w := []workload{
		{ID: "W0-pinned", Group: "W0", Title: "echo with ack, 32-byte payload, 50 sockets, closed loop; server and load generator each pinned to one core",
			App: "echo", Pinned: true, Args: t("--workload", "echo", "--conns", "50"), Rounds: rounds, Metric: "throughput"},
		{ID: "W1", Group: "W1", Title: "handshake with token restore (upgrade, open, CONNECT with token, store lookup, reconnected), 16 connectors, closed loop",
			App: "karl", Args: t("--workload", "handshake", "--conns", "16"), Rounds: r2, Metric: "throughput"},
		{ID: "W1-rate", Group: "W1", Title: "handshake with token restore at a fixed 300 connections/s",
			App: "karl", Args: t("--workload", "handshake", "--rate", "300"), Rounds: 1, Metric: "p99"},
		{ID: "W2-1", Group: "W2", Title: "set-username with ack, 1 socket, closed loop",
			App: "karl", Args: t("--workload", "set-username", "--conns", "1"), Rounds: rounds, Metric: "throughput"},
		{ID: "W2-50", Group: "W2", Title: "set-username with ack, 50 sockets, closed loop",
			App: "karl", Args: t("--workload", "set-username", "--conns", "50"), Rounds: rounds, Metric: "throughput"},
		{ID: "W2-50-pinned", Group: "W2", Title: "set-username with ack, 50 sockets, closed loop; server and load generator each pinned to one core",
			App: "karl", Pinned: true, Args: t("--workload", "set-username", "--conns", "50"), Rounds: rounds, Metric: "throughput"},
		{ID: "W2-50-rate", Group: "W2", Title: "set-username with ack, 50 sockets, fixed 300 requests/s",
			App: "karl", Args: t("--workload", "set-username", "--conns", "50", "--rate", "300"), Rounds: rounds, Metric: "p99"},
		{ID: "W2-500", Group: "W2", Title: "set-username with ack, 500 sockets, closed loop",
			App: "karl", Args: t("--workload", "set-username", "--conns", "500"), Rounds: 1, Metric: "throughput"},
		{ID: "W3", Group: "W3", Title: "upload-profile-image with ack, 50 KB JPEG, 8 sockets, closed loop (5 rounds: the photo check makes it the noisiest)",
			App: "karl", Args: t("--workload", "upload", "--conns", "8"), Rounds: rounds + rounds*2/3, Metric: "throughput"},
		{ID: "W3-rate", Group: "W3", Title: "upload-profile-image with ack, 50 KB JPEG, 8 sockets, fixed 40 uploads/s",
			App: "karl", Args: t("--workload", "upload", "--conns", "8", "--rate", "40"), Rounds: rounds, Metric: "p99"},
		{ID: "W4-rate", Group: "W4", Title: "send-message to a room of 1,000 sockets at a fixed 20 messages/s (20,000 deliveries/s), receiver-side latency",
			App: "karl", Args: t("--workload", "broadcast", "--conns", "1000", "--rate", "20"), Rounds: r2, Metric: "p99", Timeout: 5 * time.Minute},
		{ID: "W4", Group: "W4", Title: "send-message to a room of 1,000 sockets, 4 messages in flight, closed loop",
			App: "karl", Args: t("--workload", "broadcast", "--conns", "1000", "--window", "4"), Rounds: 1, Metric: "throughput", Timeout: 5 * time.Minute},
		{ID: "W5", Group: "W5", Title: "10,000 idle connections, then 5,000 dropped without a goodbye",
			App: "karl", Args: []string{"--workload", "idle", "--conns", "10000"}, Rounds: 1, Metric: "memory", Timeout: 5 * time.Minute},
	}
	if quick {
		out := w[:0]
		for _, x := range w {
			switch x.ID {
			case "W1-rate", "W2-1", "W2-50-pinned", "W2-500", "W3-rate", "W4":
				continue
			case "W4-rate":
				x.Args = t("--workload", "broadcast", "--conns", "200", "--rate", "20")
				x.Title = "send-message to a room of 200 sockets at a fixed 20 messages/s (quick: 200 instead of 1,000)"
			case "W5":
				x.Args = []string{"--workload", "idle", "--conns", "1000"}
				x.Title = "1,000 idle connections, then 500 dropped without a goodbye (quick: 1,000 instead of 10,000)"
			}
			out = append(out, x)
		}
		w = out
	}
	return w
}

// experiments are the variants behind the proposals of docs/BENCHMARKS.md,
// run in a full run after the main tables: typed+proposals is karl-server
// built with the patches of bench/proposals/ applied (see bench/run.sh; its
// experiments are skipped when there are none), typed+jsonv2 the same server
// built with GOEXPERIMENT=jsonv2, and GOGC=400 the library's garbage collected
// less often.
func experiments(quick bool) []workload {
	if quick {
		return nil
	}
	t := []string{"--warmup", "1s", "--duration", "2s"}
	all := []string{"typed", "typed+proposals", "raw", "node"}
	args := func(extra ...string) []string { return append(slices.Clone(t), extra...) }
	return []workload{
		{ID: "X-W0-pinned", Group: "X", Title: "W0 echo, 50 sockets, pinned: with the proposed runtime changes", App: "echo", Pinned: true,
			Args: args("--workload", "echo", "--conns", "50"), Rounds: 2, Metric: "throughput", Servers: all, Needs: "typed+proposals"},
		{ID: "X-W2-1", Group: "X", Title: "W2 set-username, 1 socket: with the proposed changes", App: "karl",
			Args: args("--workload", "set-username", "--conns", "1"), Rounds: 3, Metric: "throughput", Servers: all, Needs: "typed+proposals"},
		{ID: "X-W2-50", Group: "X", Title: "W2 set-username, 50 sockets, whole machine: with the proposed runtime changes", App: "karl",
			Args: args("--workload", "set-username", "--conns", "50"), Rounds: 2, Metric: "throughput", Servers: all, Needs: "typed+proposals"},
		{ID: "X-W2-50-pinned", Group: "X", Title: "W2 set-username, 50 sockets, pinned: with the proposed runtime changes", App: "karl", Pinned: true,
			Args: args("--workload", "set-username", "--conns", "50"), Rounds: 2, Metric: "throughput", Servers: all, Needs: "typed+proposals"},
		{ID: "X-W2-500", Group: "X", Title: "W2 set-username, 500 sockets (250,000 broadcast frames per second): with the proposed runtime changes", App: "karl",
			Args: args("--workload", "set-username", "--conns", "500"), Rounds: 1, Metric: "throughput", Servers: all, Needs: "typed+proposals"},
		{ID: "X-W4-rate", Group: "X", Title: "W4 room of 1,000 at a fixed 20 messages/s, receiver-side latency: with the proposed runtime changes", App: "karl",
			Args: args("--workload", "broadcast", "--conns", "1000", "--rate", "20"), Rounds: 2, Metric: "p99", Servers: all, Timeout: 5 * time.Minute, Needs: "typed+proposals"},
		{ID: "X-W4", Group: "X", Title: "W4 room of 1,000, 4 messages in flight: with the proposed runtime changes", App: "karl",
			Args: args("--workload", "broadcast", "--conns", "1000", "--window", "4"), Rounds: 1, Metric: "throughput",
			Servers: all, Timeout: 5 * time.Minute, Needs: "typed+proposals"},
		{ID: "X-W3", Group: "X", Title: "W3 upload, 8 sockets: the typed server built with GOEXPERIMENT=jsonv2 (the library's JSON decoding of the photo)", App: "karl",
			Args: args("--workload", "upload", "--conns", "8"), Rounds: 3, Metric: "throughput",
			Servers: []string{"typed", "typed+jsonv2", "raw", "node"}, Needs: "typed+jsonv2"},
		{ID: "X-W5", Group: "X", Title: "W5 10,000 idle connections: with the proposed runtime changes", App: "karl",
			Args: []string{"--workload", "idle", "--conns", "10000"}, Rounds: 1, Metric: "memory",
			Servers: []string{"typed", "typed+proposals"}, Timeout: 5 * time.Minute, Needs: "typed+proposals"},
		{ID: "X-gogc", Group: "X", Title: "W0 echo pinned with GOGC=400", App: "echo", Pinned: true,
			Args: args("--workload", "echo", "--conns", "50"), Rounds: 2, Metric: "throughput",
			Servers: []string{"typed", "typed+gogc400", "raw", "raw+gogc400"}},
	}
}

// costs are the experiments of issues 13 and 15 (group C): what a feature
// of karl-server costs on a workload, the typed server with and without it
// in alternating rounds. The variants are the same binary (see variant):
// typed+idempotent is the load generator sending an idempotency key with
// every set-username, typed+norecovery the server with
// --recovery-window 0 (typed has karl-server's 2m), typed+metrics and
// typed+tracing the server with --metrics and --tracing.
func costs(quick bool) []workload {
	if quick {
		return nil
	}
	args := func(extra ...string) []string {
		return append([]string{"--warmup", "1s", "--duration", "2s"}, extra...)
	}
	idem := []string{"typed", "typed+idempotent"}
	recov := []string{"typed+norecovery", "typed"}
	obs := []string{"typed", "typed+metrics", "typed+tracing"}
	rooms := []string{"typed+before-rooms", "typed"}
	const (
		idemNote = "What an idempotency key costs on an idempotent event: the same set-username requests, each with the request metadata " +
			"`{\"idempotencyKey\": <a fresh random 16-byte base64url key>}` as its second argument (typed+idempotent) or without (typed), " +
			"so every keyed request claims, records and completes its key in the SQLite store (never a replay); % versus typed."
		recovNote = "What connection-state recovery costs on a broadcast: typed as karl-server runs (`--recovery-window 2m`: every " +
			"room emit is kept for clients that come back) against the same server with `--recovery-window 0`; % versus recovery off."
		roomsNote = "What typed rooms cost on a broadcast: karl-server as it is (send-message to a typed chat room: the key built " +
			"from the kind and the escaped name, the typed emitter, presence tracked on join) against the same server built from " +
			"the commit before typed rooms (free room names); % versus before."
		obsNote = "What observability costs: typed with the Prometheus collectors of runtime/metrics and the store (`--metrics`: " +
			"interceptor and observer as karl-server wires them; the registry is not scraped during the run) and with OpenTelemetry " +
			"tracing (`--tracing`: runtime/tracing's span per event plus the store's child spans, an SDK TracerProvider sampling every " +
			"trace into a batch span processor whose exporter discards the spans, so making and batching spans is measured, exporting " +
			"them is not); % versus typed with neither."
	)
	return []workload{
		{ID: "C-idem-W2-50", Group: "C", Title: "W2 set-username, 50 sockets, closed loop, whole machine: with and without idempotency keys", App: "karl",
			Args: args("--workload", "set-username", "--conns", "50"), Rounds: 3, Metric: "throughput", Servers: idem, Note: idemNote},
		{ID: "C-idem-W2-50-pinned", Group: "C", Title: "W2 set-username, 50 sockets, closed loop, pinned: with and without idempotency keys", App: "karl", Pinned: true,
			Args: args("--workload", "set-username", "--conns", "50"), Rounds: 3, Metric: "throughput", Servers: idem, Note: idemNote},
		{ID: "C-recovery-W4", Group: "C", Title: "W4 send-message to a room of 1,000, 4 messages in flight: connection-state recovery on (2m) and off", App: "karl",
			Args: args("--workload", "broadcast", "--conns", "1000", "--window", "4"), Rounds: 2, Metric: "throughput",
			Servers: recov, Base: "typed+norecovery", Timeout: 5 * time.Minute, Note: recovNote},
		{ID: "C-recovery-W4-rate", Group: "C", Title: "W4 room of 1,000 at a fixed 20 messages/s, receiver-side latency: connection-state recovery on (2m) and off", App: "karl",
			Args: args("--workload", "broadcast", "--conns", "1000", "--rate", "20"), Rounds: 2, Metric: "p99",
			Servers: recov, Base: "typed+norecovery", Timeout: 5 * time.Minute, Note: recovNote},
		{ID: "C-rooms-W4", Group: "C", Title: "W4 send-message to a room of 1,000, 4 messages in flight: typed rooms and before", App: "karl",
			Args: args("--workload", "broadcast", "--conns", "1000", "--window", "4"), Rounds: 2, Metric: "throughput",
			Servers: rooms, Base: "typed+before-rooms", Timeout: 5 * time.Minute, Note: roomsNote, Needs: "typed+before-rooms"},
		{ID: "C-rooms-W4-rate", Group: "C", Title: "W4 room of 1,000 at a fixed 20 messages/s, receiver-side latency: typed rooms and before", App: "karl",
			Args: args("--workload", "broadcast", "--conns", "1000", "--rate", "20"), Rounds: 2, Metric: "p99",
			Servers: rooms, Base: "typed+before-rooms", Timeout: 5 * time.Minute, Note: roomsNote, Needs: "typed+before-rooms"},
		{ID: "C-obs-W0-pinned", Group: "C", Title: "W0 echo, 50 sockets, closed loop, pinned: metrics and tracing on and off", App: "echo", Pinned: true,
			Args: args("--workload", "echo", "--conns", "50"), Rounds: 3, Metric: "throughput", Servers: obs, Note: obsNote},
		{ID: "C-obs-W2-50", Group: "C", Title: "W2 set-username, 50 sockets, closed loop, whole machine: metrics and tracing on and off", App: "karl",
			Args: args("--workload", "set-username", "--conns", "50"), Rounds: 3, Metric: "throughput", Servers: obs, Note: obsNote},
	}
}

// transports are the workloads of issue 16's targets with karl-server on both
// WebSocket transports, side by side with Node and the limit (group T).
func transports(quick bool) []workload {
	if quick {
		return nil
	}
	t := func(extra ...string) []string {
		return append([]string{"--warmup", "1s", "--duration", "2s"}, extra...)
	}
	all := []string{"typed", "typed+library", "node", "limit"}
	return []workload{
		{ID: "T-W0-pinned", Group: "T", Title: "W0 echo with ack, 50 sockets, closed loop, pinned: karl's transport and the library's", App: "echo", Pinned: true,
			Args: t("--workload", "echo", "--conns", "50"), Rounds: 3, Metric: "throughput", Servers: all},
		{ID: "T-W2-50-pinned", Group: "T", Title: "W2 set-username, 50 sockets, closed loop, pinned: both transports", App: "karl", Pinned: true,
			Args: t("--workload", "set-username", "--conns", "50"), Rounds: 3, Metric: "throughput", Servers: all[:3]},
		{ID: "T-W2-50", Group: "T", Title: "W2 set-username, 50 sockets, closed loop, whole machine: both transports", App: "karl",
			Args: t("--workload", "set-username", "--conns", "50"), Rounds: 2, Metric: "throughput", Servers: all[:3]},
		{ID: "T-W4", Group: "T", Title: "W4 room of 1,000, 4 messages in flight, closed loop: both transports", App: "karl",
			Args: t("--workload", "broadcast", "--conns", "1000", "--window", "4"), Rounds: 2, Metric: "throughput", Servers: all[:3], Timeout: 5 * time.Minute},
		{ID: "T-W4-rate", Group: "T", Title: "W4 room of 1,000 at a fixed 20 messages/s, receiver-side latency: both transports", App: "karl",
			Args: t("--workload", "broadcast", "--conns", "1000", "--rate", "20"), Rounds: 2, Metric: "p99", Servers: all[:3], Timeout: 5 * time.Minute},
		{ID: "T-W5", Group: "T", Title: "W5 10,000 idle connections, then 5,000 dropped: both transports", App: "karl",
			Args: []string{"--workload", "idle", "--conns", "10000"}, Rounds: 1, Metric: "memory", Servers: all[:3], Timeout: 5 * time.Minute},
	}
}

// roomsBaseline is the commit before typed rooms (issue 14), which bench/run.sh
// builds the typed+before-rooms server from (BENCH_ROOMS_BASELINE overrides it).
const roomsBaseline = "1945586"

// variant returns a server kind by name, "kind+variant" for experiments.
func variant(name string) (serverKind, error) {
	if k, ok := servers[name]; ok {
		return k, nil
	}
	switch name {
	case "typed+gogc400", "raw+gogc400":
		k := servers[name[:len(name)-len("+gogc400")]]
		k.Name, k.Label, k.Env = name, k.Label+", GOGC=400", []string{"GOGC=400"}
		return k, nil
	case "typed+idempotent":
		// The same server; the load generator sends the request metadata
		// {"idempotencyKey": ...} with every set-username (an idempotent event).
		k := servers["typed"]
		k.Name, k.Label, k.LoadArgs = name, "typed, requests with idempotency keys", []string{"--idempotency-keys"}
		return k, nil
	case "typed+library":
		k := servers["typed"]
		k.Name, k.Label, k.Flags = name, "typed on the library's WebSocket transport (--transport library)", []string{"--transport", "library"}
		return k, nil
	case "typed+norecovery":
		k := servers["typed"]
		k.Name, k.Label, k.Flags = name, "typed, connection-state recovery off (--recovery-window 0)", []string{"--recovery-window", "0"}
		return k, nil
	case "typed+metrics":
		k := servers["typed"]
		k.Name, k.Label, k.Flags = name, "typed + Prometheus metrics (--metrics)", []string{"--metrics"}
		return k, nil
	case "typed+tracing":
		k := servers["typed"]
		k.Name, k.Label, k.Flags = name, "typed + OpenTelemetry tracing (--tracing)", []string{"--tracing"}
		return k, nil
	case "typed+proposals", "typed+jsonv2", "typed+before-rooms":
		k := servers["typed"]
		inner := k.cmd
		k.Name, k.Label = name, "typed + proposed changes (bench/proposals)"
		suffix := "-proposed"
		switch name {
		case "typed+jsonv2":
			k.Label, suffix = "typed, built with GOEXPERIMENT=jsonv2", "-jsonv2"
		case "typed+before-rooms":
			k.Label, suffix = "typed before typed rooms (bench/run.sh builds it from "+roomsBaseline+")", "-before-rooms"
		}
		k.cmd = func(e *env, app string, port, debugPort int, db string) (string, []string) {
			dir, argv := inner(e, app, port, debugPort, db)
			argv[0] += suffix
			return dir, argv
		}
		return k, nil
	}
	return serverKind{}, fmt.Errorf("unknown server %q", name)
}
