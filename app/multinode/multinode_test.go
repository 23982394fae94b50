package multinode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/app/multinode"
	"github.com/karl-app/karl/app/server"
	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/internal/testdb"
)

// These tests run two nodes in this process, each a server.Server with its
// own Socket.IO server, Redis adapter and database pool, on one PostgreSQL
// database and one Redis. app/interop/test/multinode.test.mjs runs two
// karl-server processes with the npm client.
func TestMain(m *testing.M) { testdb.Main(m) }

// node is one KARL server of a cluster.
type node struct {
	url string
	log *syncBuffer
}

// startNode starts a node on db and Redis; it stops when the test ends.
// With recovery it runs the streams adapter (the server's default), else
// the pub/sub adapter with its relay.
func startNode(t *testing.T, db, redisURL string, recovery bool) *node {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	rds, err := multinode.OpenRedis(t.Context(), redisURL, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{DB: db, Adapter: rds.Adapter(recovery)}
	if recovery {
		cfg.RecoveryWindow = 2 * time.Minute
	}
	srv, err := server.New(t.Context(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
		if err := rds.Close(); err != nil {
			t.Errorf("close Redis: %v", err)
		}
	})
	return &node{url: ts.URL, log: logs}
}

// cluster starts two nodes with the pub/sub adapter on a new database and a
// Redis of the test's own.
func cluster(t *testing.T) (a, b *node, rds *testdb.Redis) { return clusterOf(t, false) }

// clusterOf is cluster, with the streams adapter and recovery when recovery is set.
func clusterOf(t *testing.T, recovery bool) (a, b *node, rds *testdb.Redis) {
	t.Helper()
	db := testdb.NewDatabase(t)
	rds = testdb.NewRedis(t)
	return startNode(t, db, rds.URL(), recovery), startNode(t, db, rds.URL(), recovery), rds
}

// TestBroadcastsReachEveryNodeOnce checks each kind of broadcast the app
// sends (to all, to a room, to a room but the sender) reaches the sockets
// of both nodes exactly once, with its payload intact after the Redis
// adapter's msgpack round trip.
//
// The streams adapter (with recovery) has no relay: it reads broadcasts to
// everyone from its stream, so the pub/sub adapter's bug does not apply, and
// a duplicate here would mean it does after all.
func TestBroadcastsReachEveryNodeOnce(t *testing.T) {
	t.Run("pubsub", func(t *testing.T) { testBroadcastsReachEveryNodeOnce(t, false) })
	t.Run("streams", func(t *testing.T) { testBroadcastsReachEveryNodeOnce(t, true) })
}

func testBroadcastsReachEveryNodeOnce(t *testing.T, recovery bool) {
	a, b, _ := clusterOf(t, recovery)
	ann, bob := user(t, a, "Ann"), user(t, b, "Bob") // Bob's new-user-connected reaches Ann: drained below
	eve := user(t, b, "Eve")                         // on B, never in the room
	drain(ann, bob, eve)

	user(t, a, "Zoë Ångström 日本")
	joined := map[string][]string{"new-user-connected": {`{"username":"Zoë Ångström 日本"}`}}
	wantEvents(t, expect{ann, joined}, expect{bob, joined}, expect{eve, joined})

	for _, c := range []*sioclient.Client{ann, bob} {
		wantAck(t, c, "join-room", map[string]any{"room": "general"})
	}
	text := "hé 🚀\u0000\u2028 \"quoted\" " + strings.Repeat("long ", 300)
	before := time.Now().UnixMilli()
	wantAck(t, ann, "send-message", map[string]any{"room": "general", "text": text})
	received := collectAll(ann, bob, eve)
	for _, events := range received[:2] {
		if len(events["new-message"]) != 1 {
			t.Fatalf("new-message arrived %d times, want once: %v", len(events["new-message"]), events)
		}
		var m struct {
			Room, Username, Text string
			SentAt               json.Number
		}
		dec := json.NewDecoder(strings.NewReader(events["new-message"][0]))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		sentAt, err := m.SentAt.Int64() // an integer, not 1.7e+12 after a float round trip
		if err != nil || sentAt < before || sentAt > time.Now().UnixMilli() {
			t.Errorf("sentAt = %s, want the send time in integer Unix ms", m.SentAt)
		}
		if m.Room != "general" || m.Username != "Ann" || m.Text != text {
			t.Errorf("new-message = %+v", m)
		}
	}
	if len(received[2]) > 0 {
		t.Errorf("Eve, not in the room, received %v", received[2])
	}

	wantAck(t, bob, "typing", map[string]any{"room": "general"})
	typing := map[string][]string{"user-typing": {`{"room":"general","username":"Bob"}`}}
	wantEvents(t, expect{ann, typing}, expect{bob, nil}, expect{eve, nil}) // not to the sender
}

// TestTokenFromOneNodeRestoresOnTheOther checks the shared database: a
// token node A issued restores the user on node B.
func TestTokenFromOneNodeRestoresOnTheOther(t *testing.T) {
	a, b, _ := clusterOf(t, true) // the server's default: streams adapter, recovery on
	c := dial(t, a, nil)
	wantAck(t, c, "set-username", map[string]any{"username": "Ann"})
	saved, err := c.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var token struct{ Token string }
	mustNil(t, json.Unmarshal(saved.Args[0], &token))
	c.Close()

	back := dial(t, b, map[string]any{"token": token.Token})
	ev, err := back.Wait("reconnected", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(ev.Args[0]); got != `{"username":"Ann"}` {
		t.Errorf("reconnected on node B = %s, want Ann", got)
	}
}

// TestLogoutReachesTheOtherNode: a logout on node A tells the socket of the
// same session on node B token-expired at once (finding 3), through the
// adapter's server-side emit.
func TestLogoutReachesTheOtherNode(t *testing.T) {
	a, b, _ := clusterOf(t, true) // the server's default: streams adapter, recovery on
	c := dial(t, a, nil)
	wantAck(t, c, "set-username", map[string]any{"username": "Ann"})
	saved, err := c.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var token struct{ Token string }
	mustNil(t, json.Unmarshal(saved.Args[0], &token))
	onB := dial(t, b, map[string]any{"token": token.Token})
	if _, err := onB.Wait("reconnected", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	wantAck(t, c, "logout", nil)
	if _, err := onB.Wait("token-expired", 5*time.Second); err != nil {
		t.Errorf("the socket on node B was not told of the logout on A: %v", err)
	}
	raw, err := onB.EmitAck("get-profile", nil, 5*time.Second)
	if err != nil || !strings.Contains(string(raw), `"no-session"`) {
		t.Errorf("get-profile on B after the logout on A: %s %v", raw, err)
	}
}

// TestRedisOutage kills Redis under two nodes and starts it again. While it
// is down each node keeps serving its own sockets, a broadcast costs the
// handler little, and the nodes do not spin on reconnecting; once it is
// back, broadcasts cross between nodes again without a restart.
func TestRedisOutage(t *testing.T) {
	t.Run("pubsub", func(t *testing.T) { testRedisOutage(t, false) })
	t.Run("streams", func(t *testing.T) { testRedisOutage(t, true) })
}

func testRedisOutage(t *testing.T, recovery bool) {
	a, b, rds := clusterOf(t, recovery)
	ann, bob := user(t, a, "Ann"), user(t, b, "Bob")
	annToo := user(t, a, "Ann2") // a second socket on A
	drain(ann, bob, annToo)

	rds.Kill()
	cpuBefore, wallBefore := cpuTime(t), time.Now()
	start := time.Now()
	wantAck(t, ann, "set-username", map[string]any{"username": "Ann during the outage"})
	if d := time.Since(start); d > time.Second {
		t.Errorf("set-username took %s with Redis down, want under a second", d)
	} else {
		t.Logf("set-username answered in %s with Redis down", d.Round(time.Microsecond))
	}
	// Ann's node tells its own sockets; Bob's never hears of it: pub/sub does not queue.
	wantEvents(t, expect{annToo, map[string][]string{"new-user-connected": {`{"username":"Ann during the outage"}`}}}, expect{bob, nil})
	time.Sleep(2 * time.Second)
	cpu, wall := cpuTime(t)-cpuBefore, time.Since(wallBefore)
	t.Logf("Redis down for %s: the process used %s of CPU", wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
	if cpu > wall/4 {
		t.Errorf("the process used %s of CPU in %s with Redis down: reconnecting spins", cpu, wall)
	}

	mustNil(t, rds.Restart(t.Context()))
	restarted := time.Now()
	for i := 0; ; i++ {
		wantAck(t, ann, "set-username", map[string]any{"username": "Ann back"})
		if _, err := bob.Wait("new-user-connected", 200*time.Millisecond); err == nil {
			break
		}
		if time.Since(restarted) > 10*time.Second {
			t.Fatalf("broadcasts from A still do not reach B %s after Redis restarted", time.Since(restarted))
		}
	}
	t.Logf("broadcasts crossed again %s after Redis restarted", time.Since(restarted).Round(time.Millisecond))
	// And the other way, through B's publisher and A's subscriber.
	for time.Since(restarted) < 10*time.Second {
		wantAck(t, bob, "set-username", map[string]any{"username": "Bob back"})
		if _, err := ann.Wait("new-user-connected", 200*time.Millisecond); err == nil {
			break
		}
	}
	if recovery {
		// The stream keeps what B published while A's reader was still waiting
		// out its error (the adapter sleeps 1 s): those arrive late, not never.
		time.Sleep(1500 * time.Millisecond)
	}
	drain(ann, bob, annToo)
	wantAck(t, bob, "set-username", map[string]any{"username": "Bob again"})
	wantEvents(t, expect{ann, map[string][]string{"new-user-connected": {`{"username":"Bob again"}`}}})

	t.Logf("node A's log:\n%s", a.log.String())
	for _, n := range []*node{a, b} {
		logs := n.log.String()
		for _, want := range []string{"Redis adapter error", "Redis adapter reconnected"} {
			if !strings.Contains(logs, want) {
				t.Errorf("node log lacks %q:\n%s", want, logs)
			}
		}
		if n := strings.Count(logs, "Redis adapter error"); n > 4 {
			t.Errorf("%d error lines for one outage: the log is flooded", n)
		}
	}
}

// TestOpenRedisFailsFast checks a wrong Redis URL stops the node at startup,
// and the error does not show the password.
func TestOpenRedisFailsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a connection to be refused")
	}
	for _, url := range []string{
		"redis://:hunter2@127.0.0.1:1",   // nothing listens on port 1
		"redis://:hunter2@127.0.0.1:x/0", // not a URL
		"http://:hunter2@127.0.0.1:6379", // not Redis
	} {
		_, err := multinode.OpenRedis(t.Context(), url, slog.New(slog.DiscardHandler))
		if err == nil {
			t.Errorf("OpenRedis(%q) succeeded", url)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("OpenRedis error shows the password: %v", err)
		}
	}
}

// dial connects a client to n.
func dial(t *testing.T, n *node, auth any) *sioclient.Client {
	t.Helper()
	c, err := sioclient.Dial(n.url, sioclient.Options{Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// user connects a client to n and saves its username.
func user(t *testing.T, n *node, name string) *sioclient.Client {
	t.Helper()
	c := dial(t, n, nil)
	wantAck(t, c, "set-username", map[string]any{"username": name})
	return c
}

func wantAck(t *testing.T, c *sioclient.Client, event string, payload any) {
	t.Helper()
	raw, err := c.EmitAck(event, payload, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	if string(raw) != `{"ok":true}` {
		t.Fatalf("%s: %s", event, raw)
	}
}

// quiet is how long collect waits for one more event: a broadcast through
// Redis takes a few milliseconds.
const quiet = 300 * time.Millisecond

// collect returns the events c receives until none came for quiet, by name,
// arguments as JSON; username-saved is left out (it carries a random token).
func collect(c *sioclient.Client) map[string][]string {
	got := map[string][]string{}
	for {
		select {
		case ev := <-c.Events():
			if ev.Name != "username-saved" && len(ev.Args) > 0 {
				got[ev.Name] = append(got[ev.Name], string(ev.Args[0]))
			}
		case <-time.After(quiet):
			return got
		}
	}
}

// collectAll collects what each client receives, all at once.
func collectAll(clients ...*sioclient.Client) []map[string][]string {
	got := make([]map[string][]string, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { got[i] = collect(c) })
	}
	wg.Wait()
	return got
}

// expect is what one client must receive: each event as often as listed.
type expect struct {
	c      *sioclient.Client
	events map[string][]string
}

// wantEvents checks each client receives exactly what it expects.
func wantEvents(t *testing.T, want ...expect) {
	t.Helper()
	clients := make([]*sioclient.Client, len(want))
	for i, w := range want {
		clients[i] = w.c
	}
	for i, got := range collectAll(clients...) {
		events := want[i].events
		if events == nil {
			events = map[string][]string{}
		}
		if diff := cmp.Diff(events, got); diff != "" {
			t.Errorf("client %d: events (-want +got):\n%s", i, diff)
		}
	}
}

// drain discards what the clients received so far.
func drain(clients ...*sioclient.Client) { collectAll(clients...) }

// cpuTime is the CPU this process used so far, user and system.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	mustNil(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRoomBroadcastsKeepTheirOrder: messages sent one after the other reach
// every member on both nodes in that order, once. The adapter's broadcasts
// are written through the transport's flushers (wstransport.Defer), which
// must not reorder a connection's frames.
func TestRoomBroadcastsKeepTheirOrder(t *testing.T) {
	t.Run("pubsub", func(t *testing.T) { testRoomBroadcastsKeepTheirOrder(t, false) })
	t.Run("streams", func(t *testing.T) { testRoomBroadcastsKeepTheirOrder(t, true) })
}

func testRoomBroadcastsKeepTheirOrder(t *testing.T, recovery bool) {
	a, b, _ := clusterOf(t, recovery)
	var members []*sioclient.Client
	for i := range 8 { // within the default handshake burst of each node
		for _, n := range []*node{a, b} {
			c := user(t, n, fmt.Sprintf("member%d%s", i, n.url[len(n.url)-2:]))
			wantAck(t, c, "join-room", map[string]any{"room": "general"})
			members = append(members, c)
		}
	}
	drain(members...)
	const messages = 20
	for i := range messages {
		wantAck(t, members[0], "send-message", map[string]any{"room": "general", "text": fmt.Sprint(i)})
	}
	for n, events := range collectAll(members...) {
		var texts []string
		for _, raw := range events["new-message"] {
			var m struct{ Text string }
			mustNil(t, json.Unmarshal([]byte(raw), &m))
			texts = append(texts, m.Text)
		}
		want := make([]string, messages)
		for i := range want {
			want[i] = fmt.Sprint(i)
		}
		if diff := cmp.Diff(want, texts); diff != "" {
			t.Errorf("member %d got new-message texts (-want +got):\n%s", n, diff)
		}
	}
}
