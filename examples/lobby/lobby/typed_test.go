package lobby_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/runtime"

	"github.com/karl-app/karl/examples/lobby/events"
	"github.com/karl-app/karl/examples/lobby/lobby"
)

// TestGeneratedClient drives the handlers with the test client generated from the
// schema (events/testclient.go): the real runtime in memory, with typed calls,
// replies and events, and errors that errors.Is matches with the schema's Err values.
func TestGeneratedClient(t *testing.T) {
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	app := lobby.New(log, func() time.Time { return epoch })
	ts := events.NewTestServerFunc(runtime.Options{Logger: log}, app.Register)
	t.Cleanup(func() { _ = ts.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	connect := func(name string) *events.TestClient {
		t.Helper()
		c, err := ts.Connect(events.Auth{PlayerName: name})
		if err != nil {
			t.Fatalf("connect %s: %v", name, err)
		}
		return c
	}
	ann, ben := connect("Ann"), connect("Ben")
	if _, err := ts.Connect(events.Auth{PlayerName: "BEN"}); !errors.Is(err, events.ErrNameTaken) {
		t.Errorf("connect as BEN: %v, want ErrNameTaken", err)
	}
	var bad *runtime.Error
	if _, err := ts.Connect(events.Auth{PlayerName: "B*b"}); !errors.As(err, &bad) || bad.Code != runtime.CodeInvalidPayload || bad.Path != "playerName" {
		t.Errorf("connect as B*b: %v, want invalid-payload at playerName", err)
	}

	if _, err := ann.JoinLobby(ctx, events.JoinLobby{Lobby: "arena"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ben.JoinLobby(ctx, events.JoinLobby{Lobby: "arena"}); err != nil {
		t.Fatal(err)
	}
	if joined, err := ann.NextPlayerJoined(ctx); err != nil || joined.Player.Name != "Ben" {
		t.Errorf("player-joined = %+v, %v", joined, err)
	}
	short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
	defer stop()
	if joined, err := ben.NextPlayerJoined(short); err == nil {
		t.Errorf("the joiner got its own player-joined: %+v", joined)
	}

	if err := ben.SetReady(ctx, events.SetReady{Ready: true}); !errors.Is(err, events.ErrNoTeam) {
		t.Errorf("set-ready without a team: %v, want ErrNoTeam", err)
	}
	for c, team := range map[*events.TestClient]events.Team{ann: events.TeamRed, ben: events.TeamBlue} {
		if err := c.PickTeam(ctx, events.PickTeam{Team: team}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ben.Chat(ctx, events.Chat{Text: "ready?"}); err != nil {
		t.Fatal(err)
	}
	msg, err := ann.NextChatMessage(ctx)
	if err != nil || msg.From != "Ben" || msg.Team == nil || *msg.Team != events.TeamBlue || !msg.SentAt.Equal(epoch) {
		t.Errorf("chat-message = %+v, %v", msg, err)
	}

	got, err := ann.GetLobby(ctx, events.GetLobby{})
	if err != nil {
		t.Fatal(err)
	}
	red, blue, host := events.TeamRed, events.TeamBlue, "Ann"
	want := events.Lobby{ID: "arena", Status: events.LobbyStatusWaiting, Host: &host,
		Players: []events.Player{{Name: "Ann", Team: &red, JoinedAt: epoch}, {Name: "Ben", Team: &blue, JoinedAt: epoch}},
		Teams:   []events.TeamRoster{{Team: red, Players: []string{"Ann"}}, {Team: blue, Players: []string{"Ben"}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("get-lobby (-want +got):\n%s", diff)
	}
	if _, err := ben.GetLobby(ctx, events.GetLobby{Lobby: new("elsewhere")}); !errors.Is(err, events.ErrUnknownLobby) {
		t.Errorf("get-lobby elsewhere: %v, want ErrUnknownLobby", err)
	}
}
