package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/testapi"
	"github.com/karl-app/karl/runtime/presence"
)

// member is a table member as the clients see it.
type member struct {
	ID   string `json:"id"`
	Nick string `json:"nick"`
}

type tableState struct {
	Game    string   `json:"game"`
	Number  int      `json:"number"`
	Self    string   `json:"self"`
	Members []member `json:"members"`
}

type tableDiff struct {
	Game   string   `json:"game"`
	Number int      `json:"number"`
	Joins  []member `json:"joins"`
	Leaves []member `json:"leaves"`
}

func waitJSON[T any](t *testing.T, c *sioclient.Client, event string, timeout time.Duration) T {
	t.Helper()
	ev, err := c.Wait(event, timeout)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(ev.Args[0], &v); err != nil {
		t.Fatalf("%s %s: %v", event, ev.Args[0], err)
	}
	return v
}

func sit(t *testing.T, c *sioclient.Client, game string, number int, nick string) {
	t.Helper()
	if env := ack(t, c, "sit", map[string]any{"game": game, "number": number, "nick": nick}); !env.OK {
		t.Fatalf("sit: %+v", env.Error)
	}
}

func nicks(ms []member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Nick)
	}
	return out
}

// TestPresenceJoinLeaveDisconnect: the second member gets the state with both,
// the first the diff with the join; the second then drops without a goodbye and
// the first gets its leave within the ping timeout; Members follows.
func TestPresenceJoinLeaveDisconnect(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 300 * time.Millisecond})
	a, b := dial(t, ts.URL, nil), dial(t, ts.URL, nil)

	sit(t, a, "go", 1, "ann")
	first := waitJSON[tableState](t, a, "table-presence", 2*time.Second)
	if first.Game != "go" || first.Number != 1 || len(first.Members) != 1 || first.Members[0].Nick != "ann" || first.Members[0].ID == "" {
		t.Fatalf("a's state = %+v, want table go/1 with ann", first)
	}
	annID := first.Members[0].ID

	sit(t, b, "go", 1, "bob")
	state := waitJSON[tableState](t, b, "table-presence", 2*time.Second)
	if got := nicks(state.Members); !slices.Equal(got, []string{"ann", "bob"}) || state.Members[0].ID != annID {
		t.Fatalf("b's state = %+v, want ann (id %s) then bob", state, annID)
	}
	bobID := state.Members[1].ID
	if state.Self != bobID || first.Self != annID {
		t.Errorf("self = %q for b and %q for a, want their own ids %q and %q", state.Self, first.Self, bobID, annID)
	}
	diff := waitJSON[tableDiff](t, a, "table-presence-diff", 2*time.Second)
	if len(diff.Joins) != 1 || diff.Joins[0] != (member{bobID, "bob"}) || len(diff.Leaves) != 0 || diff.Game != "go" || diff.Number != 1 {
		t.Fatalf("a's diff = %+v, want the join of bob (%s)", diff, bobID)
	}

	var reply struct {
		Data struct {
			Members []member `json:"members"`
		} `json:"data"`
	}
	raw, err := a.EmitAck("shout", map[string]any{"game": "go", "number": 1, "text": "hi"}, 2*time.Second)
	if err != nil || json.Unmarshal(raw, &reply) != nil {
		t.Fatalf("shout: %s %v", raw, err)
	}
	if got := nicks(reply.Data.Members); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Errorf("Members = %v, want [ann bob]", got)
	}

	start := time.Now()
	_ = b.Kill()
	diff = waitJSON[tableDiff](t, a, "table-presence-diff", 3*time.Second)
	if len(diff.Leaves) != 1 || diff.Leaves[0] != (member{bobID, "bob"}) || len(diff.Joins) != 0 {
		t.Fatalf("after b dropped: diff = %+v, want the leave of bob", diff)
	}
	t.Logf("leave seen %v after the drop (ping interval 200ms + timeout 300ms)", time.Since(start).Round(time.Millisecond))

	if env := ack(t, a, "stand", map[string]any{"game": "go", "number": 1}); !env.OK {
		t.Fatalf("stand: %+v", env.Error)
	}
	raw, err = a.EmitAck("shout", map[string]any{"game": "go", "number": 1, "text": "anyone?"}, 2*time.Second)
	if err != nil || json.Unmarshal(raw, &reply) != nil || len(reply.Data.Members) != 0 {
		t.Errorf("Members after everyone left = %s (%v), want none", raw, err)
	}
}

// TestPresenceRejoinUpdates: joining a table again keeps the member's id and
// tells the others with its old entry as a leave and the new one as a join.
func TestPresenceRejoinUpdates(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	a, b := dial(t, ts.URL, nil), dial(t, ts.URL, nil)
	sit(t, a, "chess", 2, "ann")
	waitJSON[tableState](t, a, "table-presence", 2*time.Second)
	sit(t, b, "chess", 2, "bob")
	bob := waitJSON[tableState](t, b, "table-presence", 2*time.Second).Members[1]
	waitJSON[tableDiff](t, a, "table-presence-diff", 2*time.Second)

	sit(t, b, "chess", 2, "robert")
	diff := waitJSON[tableDiff](t, a, "table-presence-diff", 2*time.Second)
	if len(diff.Leaves) != 1 || diff.Leaves[0] != bob || len(diff.Joins) != 1 || diff.Joins[0] != (member{bob.ID, "robert"}) {
		t.Fatalf("rejoin diff = %+v, want leave %v and join of the same id as robert", diff, bob)
	}
	state := waitJSON[tableState](t, b, "table-presence", 2*time.Second)
	if got := nicks(state.Members); !slices.Equal(got, []string{"ann", "robert"}) {
		t.Errorf("state after rejoin = %v, want [ann robert] (one entry for b)", got)
	}
}

// TestTypedRoomsAreTheirOwnKeySpace: a table named after another socket's id
// reaches its members only, not that socket; a free room name in the typed
// key space is refused by Join, so it reaches no typed room; each table is
// its own room; Others leaves the sender out; a kind without presence sends
// no presence events.
func TestTypedRoomsAreTheirOwnKeySpace(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	a, c := dial(t, ts.URL, nil), dial(t, ts.URL, nil)
	other := dial(t, ts.URL, nil) // at table 2
	sit(t, c, a.SID, 1, "cat")
	sit(t, other, a.SID, 2, "olga")
	if env := ack(t, c, "shout", map[string]any{"game": a.SID, "number": 1, "text": "to the table"}); !env.OK {
		t.Fatalf("shout: %+v", env.Error)
	}
	if got := waitJSON[map[string]string](t, c, "shouted", 2*time.Second)["text"]; got != "to the table" {
		t.Errorf("member got %q", got)
	}
	if ev, err := a.Wait("shouted", 300*time.Millisecond); err == nil {
		t.Errorf("the socket whose id names the table got %s", ev.Args[0])
	}
	if ev, err := other.Wait("shouted", 100*time.Millisecond); err == nil {
		t.Errorf("a member of another table of the same game got %s", ev.Args[0])
	}

	// a joins a free room spelled like the table's key and greets it: refused, so the table hears nothing.
	if env := ack(t, a, "greet", map[string]any{"room": "\x00table/" + a.SID + "/1"}); !env.OK {
		t.Fatalf("greet: %+v", env.Error)
	}
	if ev, err := c.Wait("hello", 300*time.Millisecond); err == nil {
		t.Errorf("a free room name reached the typed table: %s", ev.Args[0])
	}

	b := dial(t, ts.URL, nil)
	sit(t, b, a.SID, 1, "bob")
	if env := ack(t, b, "whisper", map[string]any{"game": a.SID, "number": 1, "text": "psst"}); !env.OK {
		t.Fatalf("whisper: %+v", env.Error)
	}
	if got := waitJSON[map[string]string](t, c, "whispered", 2*time.Second)["text"]; got != "psst" {
		t.Errorf("other member got %q", got)
	}
	if ev, err := b.Wait("whispered", 300*time.Millisecond); err == nil {
		t.Errorf("the sender got its own whisper: %s", ev.Args[0])
	}

	if env := ack(t, a, "enter-hall", map[string]any{"color": "red"}); !env.OK {
		t.Fatalf("enter-hall: %+v", env.Error)
	}
	if got := waitJSON[map[string]string](t, a, "hall-news", 2*time.Second)["color"]; got != "red" {
		t.Errorf("hall-news color %q", got)
	}
	for ev := range drain(a) {
		if ev == "hall-presence" || ev == "hall-presence-diff" {
			t.Errorf("a kind without presence sent %s", ev)
		}
	}
}

// drain returns the names of the events c received and has not read, within 100ms.
func drain(c *sioclient.Client) map[string]bool {
	seen := map[string]bool{}
	deadline := time.After(100 * time.Millisecond)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return seen
			}
			seen[ev.Name] = true
		case <-deadline:
			return seen
		}
	}
}

// TestPresenceAfterRecovery: a member whose connection drops leaves at once
// (the others see the leave), and when its connection is recovered it is back
// with the same id (the others see the join) and gets a fresh state.
func TestPresenceAfterRecovery(t *testing.T) {
	rt := runtime.NewServer(runtime.Options{RecoveryWindow: 5 * time.Second, HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000},
		EventLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}, Logger: slog.New(slog.NewTextHandler(testLogOutput(), nil))})
	testapi.Register(rt, handler{})
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(func() { srv.Close() })
	a, b := dial(t, srv.URL, nil), dial(t, srv.URL, nil)
	sit(t, a, "go", 7, "ann")
	waitJSON[tableState](t, a, "table-presence", 2*time.Second)
	sit(t, b, "go", 7, "bob")
	ev, err := b.Wait("table-presence", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var st tableState
	_ = json.Unmarshal(ev.Args[0], &st)
	bob := st.Members[1]
	offset := ""
	if len(ev.Args) > 1 {
		_ = json.Unmarshal(ev.Args[1], &offset)
	}
	waitJSON[tableDiff](t, a, "table-presence-diff", 2*time.Second)

	_ = b.Kill()
	if d := waitJSON[tableDiff](t, a, "table-presence-diff", 3*time.Second); len(d.Leaves) != 1 || d.Leaves[0] != bob {
		t.Fatalf("after the drop: %+v, want bob's leave", d)
	}
	back := dial(t, srv.URL, map[string]any{"pid": b.PID, "offset": offset})
	if back.SID != b.SID {
		t.Fatalf("not recovered: sid %q, want %q", back.SID, b.SID)
	}
	if d := waitJSON[tableDiff](t, a, "table-presence-diff", 3*time.Second); len(d.Joins) != 1 || d.Joins[0] != bob {
		t.Fatalf("after the recovery: %+v, want bob's join with the same id", d)
	}
	fresh := waitJSON[tableState](t, back, "table-presence", 3*time.Second)
	if got := nicks(fresh.Members); !slices.Equal(got, []string{"ann", "bob"}) {
		t.Errorf("fresh state after recovery = %v, want [ann bob]", got)
	}
}

// failingPresence is a presence store that is down.
type failingPresence struct{ presence.Memory }

func (*failingPresence) Track(context.Context, presence.Member) error {
	return errors.New("store down")
}

// TestJoinKeepsNothingHalfDoneWhenTheStoreFails: a join whose presence the
// store refuses answers internal and leaves the socket out of the room: the
// table's events do not reach it.
func TestJoinKeepsNothingHalfDoneWhenTheStoreFails(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{Presence: &failingPresence{}})
	a, b := dial(t, ts.URL, nil), dial(t, ts.URL, nil)
	env := ack(t, a, "sit", map[string]any{"game": "go", "number": 1, "nick": "ann"})
	if env.OK || env.Error == nil || env.Error.Code != "internal" {
		t.Fatalf("sit with the store down = %+v, want internal", env)
	}
	if env := ack(t, b, "shout", map[string]any{"game": "go", "number": 1, "text": "hi"}); !env.OK {
		t.Fatalf("shout: %+v", env.Error)
	}
	if ev, err := a.Wait("shouted", 300*time.Millisecond); err == nil {
		t.Errorf("the socket whose join failed is in the room: got %s", ev.Args[0])
	}
	if ev, err := a.Wait("table-presence", 10*time.Millisecond); err == nil {
		t.Errorf("a state after a failed join: %s", ev.Args[0])
	}
}
