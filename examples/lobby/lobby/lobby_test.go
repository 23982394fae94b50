package lobby_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/runtime"

	"github.com/karl-app/karl/examples/lobby/events"
	"github.com/karl-app/karl/examples/lobby/lobby"
)

var epoch = time.UnixMilli(1_780_000_000_000)

// serve runs the app on a real HTTP server, with a clock fixed at epoch. wrap, if
// not nil, stands between the runtime and the app.
func serve(t *testing.T, wrap func(*lobby.App) events.Handler) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	lots := runtime.Limit{PerSecond: 1000, Burst: 1000}
	rt := runtime.NewServer(runtime.Options{Logger: log, EventLimit: lots, HandshakeLimit: lots})
	app := lobby.New(log, func() time.Time { return epoch })
	if wrap == nil {
		app.Register(rt)
	} else {
		events.Register(rt, wrap(app))
	}
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := rt.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

// The wire shapes of the schema's objects, with timestamps as Unix ms.
type (
	player struct {
		Name     string `json:"name"`
		Team     string `json:"team,omitempty"`
		Ready    bool   `json:"ready"`
		JoinedAt int64  `json:"joinedAt"`
	}
	roster struct {
		Team    string   `json:"team"`
		Players []string `json:"players"`
	}
	lobbyState struct {
		ID      string   `json:"id"`
		Status  string   `json:"status"`
		Host    string   `json:"host,omitempty"`
		Players []player `json:"players"`
		Teams   []roster `json:"teams"`
	}
)

func TestHandshake(t *testing.T) {
	srv := serve(t, nil)
	mustDial(t, srv, "Ann")
	mustDial(t, srv, "Jose\u0301") // e and a combining acute accent
	tests := []struct {
		name string
		auth map[string]any
		want refusal
	}{
		{"taken, in another case", map[string]any{"playerName": " ANN "},
			refusal{Code: "name-taken", Message: "Another player is using that name."}},
		{"taken, in another normalization form", map[string]any{"playerName": "Jos\u00e9"},
			refusal{Code: "name-taken", Message: "Another player is using that name."}},
		{"reserved", map[string]any{"playerName": "System"}, refusal{Code: "reserved-name", Message: "That name is reserved."}},
		{"missing", map[string]any{}, refusal{Code: "invalid-payload", Message: "required", Path: "playerName"}},
		{"blank", map[string]any{"playerName": "   "},
			refusal{Code: "invalid-payload", Message: "shorter than 1 character", Path: "playerName"}},
		{"optional field too long", map[string]any{"playerName": "Bob", "clientVersion": fmt.Sprintf("%033d", 0)},
			refusal{Code: "invalid-payload", Message: "longer than 32 characters", Path: "clientVersion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dial(t, srv, tt.auth)
			var got *refusal
			if !errors.As(err, &got) {
				t.Fatalf("dial = %v, want a refusal", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("connect_error data (-want +got):\n%s", diff)
			}
		})
	}
}

// refuseWith refuses every handshake with err: an undeclared code must reach the
// client as "internal", so that the schema stays the truth about what clients see.
type refuseWith struct {
	*lobby.App
	err error
}

func (r refuseWith) Connect(context.Context, *events.Socket, events.Auth) error { return r.err }

func TestUndeclaredConnectErrorIsInternal(t *testing.T) {
	for _, err := range []error{runtime.NewError("banned", "You are banned."), errors.New("database down"), events.ErrNotInLobby} {
		srv := serve(t, func(a *lobby.App) events.Handler { return refuseWith{a, err} })
		_, got := dial(t, srv, map[string]any{"playerName": "Ann"})
		want := &refusal{Code: "internal", Message: "internal error"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Connect returning %v: connect_error data (-want +got):\n%s", err, diff)
		}
	}
}

func TestLobby(t *testing.T) {
	srv := serve(t, nil)
	ann, ben, cat := mustDial(t, srv, "Ann"), mustDial(t, srv, "Ben"), mustDial(t, srv, "Cat")

	var got lobbyState
	ann.ok("join-lobby", map[string]any{"lobby": "arena"}, &got)
	want := lobbyState{ID: "arena", Status: "waiting", Host: "Ann",
		Players: []player{{Name: "Ann", JoinedAt: epoch.UnixMilli()}},
		Teams:   []roster{{Team: "red", Players: []string{}}, {Team: "blue", Players: []string{}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("join-lobby reply (-want +got):\n%s", diff)
	}

	// player-joined reaches the others in the room only: not Ben, who joined, nor Cat, outside.
	ben.ok("join-lobby", map[string]any{"lobby": "arena"}, nil)
	var joined struct {
		Lobby  string `json:"lobby"`
		Player player `json:"player"`
	}
	ann.next("player-joined", &joined)
	if joined.Lobby != "arena" || joined.Player.Name != "Ben" {
		t.Errorf("player-joined = %+v", joined)
	}
	ben.none("player-joined", 200*time.Millisecond)
	cat.none("player-joined", 0)
	if code := ben.code("join-lobby", map[string]any{"lobby": "other"}); code != "already-in-lobby" {
		t.Errorf("second join-lobby: %q", code)
	}

	if a := ann.call("pick-team", map[string]any{"team": "green"}); a.Error == nil || a.Error.Code != "invalid-payload" || a.Error.Path != "team" {
		t.Errorf("pick-team green: %+v", a)
	}
	if code := ann.code("set-ready", map[string]any{"ready": true}); code != "no-team" {
		t.Errorf("set-ready without a team: %q", code)
	}
	ann.ok("pick-team", map[string]any{"team": "red"}, nil)
	ben.ok("pick-team", map[string]any{"team": "blue"}, nil)
	for _, c := range []*client{ann, ben} {
		for _, name := range []string{"Ann", "Ben"} {
			var e struct{ Lobby, Name, Team string }
			c.next("team-picked", &e)
			if e.Name != name || e.Lobby != "arena" {
				t.Errorf("team-picked = %+v, want %s's", e, name)
			}
		}
	}

	ben.ok("chat", map[string]any{"text": " hi "}, nil)
	for _, c := range []*client{ann, ben} {
		var m struct {
			From, Team, Text string
			SentAt           int64
		}
		c.next("chat-message", &m)
		if m.From != "Ben" || m.Team != "blue" || m.Text != "hi" || m.SentAt != epoch.UnixMilli() {
			t.Errorf("chat-message = %+v", m)
		}
	}
	cat.none("chat-message", 0)

	var mine, named lobbyState
	ben.ok("get-lobby", map[string]any{}, &mine)
	cat.ok("get-lobby", map[string]any{"lobby": "arena"}, &named)
	want = lobbyState{ID: "arena", Status: "waiting", Host: "Ann",
		Players: []player{{Name: "Ann", Team: "red", JoinedAt: epoch.UnixMilli()}, {Name: "Ben", Team: "blue", JoinedAt: epoch.UnixMilli()}},
		Teams:   []roster{{Team: "red", Players: []string{"Ann"}}, {Team: "blue", Players: []string{"Ben"}}}}
	if diff := cmp.Diff(want, mine); diff != "" {
		t.Errorf("get-lobby (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(mine, named); diff != "" {
		t.Errorf("get-lobby by name differs from one's own (-own +named):\n%s", diff)
	}
	for payload, code := range map[string]string{"": "not-in-lobby", "nowhere": "unknown-lobby"} {
		arg := map[string]any{}
		if payload != "" {
			arg["lobby"] = payload
		}
		if got := cat.code("get-lobby", arg); got != code {
			t.Errorf("cat get-lobby %v = %q, want %q", arg, got, code)
		}
	}

	ann.ok("set-ready", map[string]any{"ready": true}, nil)
	ann.none("game-starting", 100*time.Millisecond) // Ben is not ready yet
	ben.ok("set-ready", map[string]any{"ready": true}, nil)
	for _, c := range []*client{ann, ben} {
		var g struct {
			Lobby string   `json:"lobby"`
			Teams []roster `json:"teams"`
		}
		c.next("game-starting", &g)
		if diff := cmp.Diff(want.Teams, g.Teams); g.Lobby != "arena" || diff != "" {
			t.Errorf("game-starting for %q, teams (-want +got):\n%s", g.Lobby, diff)
		}
	}
	ann.ok("get-lobby", map[string]any{}, &got)
	if got.Status != "starting" {
		t.Errorf("status after everyone is ready = %q", got.Status)
	}

	// The host leaves: Ben takes over; once Ben is gone too, so is the lobby.
	ann.ok("leave-lobby", nil, nil)
	var left struct{ Lobby, Name, Host string }
	ben.next("player-left", &left)
	if left != (struct{ Lobby, Name, Host string }{"arena", "Ann", "Ben"}) {
		t.Errorf("player-left = %+v", left)
	}
	ann.none("player-left", 100*time.Millisecond)
	ben.close()
	deadline := time.Now().Add(wait)
	for cat.code("get-lobby", map[string]any{"lobby": "arena"}) != "unknown-lobby" {
		if time.Now().After(deadline) {
			t.Fatal("the lobby outlived its last player")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Ben's name is free again.
	mustDial(t, srv, "Ben")
}

func TestLimits(t *testing.T) {
	srv := serve(t, nil)
	var players []*client
	for i := range lobby.MaxPlayers + 1 {
		c := mustDial(t, srv, fmt.Sprintf("P%d", i))
		if i < lobby.MaxPlayers {
			c.ok("join-lobby", map[string]any{"lobby": "full"}, nil)
		} else if code := c.code("join-lobby", map[string]any{"lobby": "full"}); code != "lobby-full" {
			t.Errorf("join-lobby of player %d: %q, want lobby-full", i+1, code)
		}
		players = append(players, c)
	}
	for i, c := range players[:lobby.MaxTeamSize+1] {
		code := c.code("pick-team", map[string]any{"team": "red"})
		if want := map[bool]string{true: "", false: "team-full"}[i < lobby.MaxTeamSize]; code != want {
			t.Errorf("pick-team of player %d: %q, want %q", i+1, code, want)
		}
	}
	// Picking one's own team again is not joining it.
	if code := players[0].code("pick-team", map[string]any{"team": "red"}); code != "" {
		t.Errorf("picking one's team again: %q", code)
	}
}

// TestConcurrentPlayers has players join and pick teams at once: the limits hold
// and the lobby's state stays whole (run with -race).
func TestConcurrentPlayers(t *testing.T) {
	srv := serve(t, nil)
	const n = 2 * lobby.MaxPlayers
	var players []*client
	for i := range n {
		players = append(players, mustDial(t, srv, fmt.Sprintf("P%d", i)))
	}
	var (
		mu    sync.Mutex
		codes = map[string]int{}
		wg    sync.WaitGroup
	)
	for i, c := range players {
		wg.Go(func() {
			code := c.code("join-lobby", map[string]any{"lobby": "rush"})
			if code == "" {
				code = c.code("pick-team", map[string]any{"team": []string{"red", "blue"}[i%2]})
				c.code("chat", map[string]any{"text": "go"})
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes["lobby-full"] != n-lobby.MaxPlayers || codes[""]+codes["team-full"] != lobby.MaxPlayers {
		t.Errorf("answers: %v", codes)
	}
	var got lobbyState
	players[n-1].ok("get-lobby", map[string]any{"lobby": "rush"}, &got)
	onTeam := 0
	for _, r := range got.Teams {
		if len(r.Players) > lobby.MaxTeamSize {
			t.Errorf("team %s has %d players", r.Team, len(r.Players))
		}
		onTeam += len(r.Players)
	}
	if len(got.Players) != lobby.MaxPlayers || onTeam != codes[""] {
		t.Errorf("lobby: %d players, %d on a team; answers %v", len(got.Players), onTeam, codes)
	}
}
