package multinode_test

import (
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/karl-app/karl/app/multinode"
	"github.com/karl-app/karl/internal/testdb"
	"github.com/karl-app/karl/runtime/presence"
)

func member(key, id, node string, joined time.Time) presence.Member {
	return presence.Member{Key: key, ID: id, Node: node, Kind: "chat", Params: json.RawMessage(`{"room":"lobby"}`),
		Data: json.RawMessage(`{"id":"` + id + `","username":"` + id + `"}`), Joined: joined}
}

func ids(ms []presence.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

// TestRedisPresence runs the store against a real Redis: members listed in join
// order, untracked, a node that stops beating left out at once after its TTL
// and removed by the next beat of another (returned to one sweeper only, when
// two sweep at once), and a Redis that lost its data whole after one beat.
func TestRedisPresence(t *testing.T) {
	rds := testdb.NewRedis(t)
	open := func() presence.Heartbeater {
		r, err := multinode.OpenRedis(t.Context(), rds.URL(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r.Presence(100 * time.Millisecond) // TTL 300 ms
	}
	a, b, c := open(), open(), open()
	ctx := t.Context()
	t0 := time.Now()
	for _, m := range []presence.Member{member("k", "amy", "A", t0.Add(2)), member("k", "bob", "B", t0.Add(1)), member("k", "al", "A", t0.Add(3))} {
		if err := a.Track(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	list, err := b.List(ctx, "k")
	if err != nil || !slices.Equal(ids(list), []string{"bob", "amy", "al"}) {
		t.Fatalf("List = %v, %v; want join order bob, amy, al", ids(list), err)
	}
	if string(list[0].Data) != `{"id":"bob","username":"bob"}` || string(list[0].Params) != `{"room":"lobby"}` || list[0].Kind != "chat" {
		t.Errorf("member read back as %+v", list[0])
	}
	if err := a.Untrack(ctx, "k", "al"); err != nil {
		t.Fatal(err)
	}

	// B beats; A does not: after its TTL, A's members are out of the lists, and the
	// sweeps of B and C (two of them at once, at the end) remove them, each returned once.
	var mu sync.Mutex
	var removed []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := b.Heartbeat(ctx, "B", []presence.Member{member("k", "bob", "B", t0.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		removed = append(removed, ids(got)...)
		list, _ = c.List(ctx, "k")
		if slices.Equal(ids(list), []string{"bob"}) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !slices.Equal(ids(list), []string{"bob"}) {
		t.Fatalf("List after A stopped beating = %v, want [bob]", ids(list))
	}
	var wg sync.WaitGroup
	for _, hb := range []struct {
		s    presence.Heartbeater
		node string
	}{{b, "B"}, {c, "C"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := hb.s.Heartbeat(ctx, hb.node, nil)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			removed = append(removed, ids(got)...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if !slices.Equal(removed, []string{"amy"}) {
		t.Errorf("the sweeps removed %v, want amy once", removed)
	}

	// Redis loses everything; one beat of B writes bob again.
	rds.Kill()
	if err := rds.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		_, err := b.Heartbeat(ctx, "B", []presence.Member{member("k", "bob", "B", t0.Add(1))})
		list, _ = c.List(ctx, "k")
		if err == nil && slices.Equal(ids(list), []string{"bob"}) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !slices.Equal(ids(list), []string{"bob"}) {
		t.Errorf("List after Redis restarted and one beat = %v, want [bob]", ids(list))
	}
}
