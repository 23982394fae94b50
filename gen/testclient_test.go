package gen_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/karl-app/karl/runtime"

	out "github.com/karl-app/karl/gen/testdata/everything/go"
)

// game implements the Handler of the "everything" golden, whose namespace is /game.
type game struct{}

func (game) Connect(ctx context.Context, s *out.Socket, auth out.Auth) error {
	if auth.Player == "late" {
		return out.ErrTooLate
	}
	return nil
}

func (game) Join(ctx context.Context, s *out.Socket, in out.Player) (out.Grid, error) {
	if in.Name == "over" {
		return out.Grid{}, out.ErrGameOver
	}
	if err := s.EmitYouMoved(out.YouMoved{Grid: out.Grid{Rows: [][]float64{{1, 2}}}}); err != nil {
		return out.Grid{}, err
	}
	return out.Grid{Rows: [][]float64{{float64(in.Level)}}, Labels: []string{in.Name}}, s.Others().EmitSomeoneMoved(out.SomeoneMoved{Name: in.Name})
}

func (game) Move(ctx context.Context, s *out.Socket, in out.Move) error { return nil }
func (game) Disconnect(s *out.Socket, reason string)                    {}

// TestGeneratedTestClient drives a golden's generated test client on a namespace
// other than "/": typed replies, declared and runtime errors, a refused handshake,
// server events by target, and queued events of other names.
func TestGeneratedTestClient(t *testing.T) {
	ts := out.NewTestServer(game{}, runtime.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var re *runtime.Error
	// too-late is declared, but not for the handshake: the client gets internal.
	if _, err := ts.Connect(out.Auth{Player: "late"}); !errors.As(err, &re) || re.Code != runtime.CodeInternal {
		t.Fatalf("handshake refused with an undeclared code: %v, want internal", err)
	}
	if _, err := ts.Connect(out.Auth{}); !errors.As(err, &re) || re.Code != runtime.CodeInvalidPayload || re.Path != "player" {
		t.Fatalf("auth without its required field: %v, want invalid-payload at player", err)
	}
	a, err := ts.Connect(out.Auth{Player: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ts.Connect(out.Auth{Player: "b"})
	if err != nil {
		t.Fatal(err)
	}
	mood := out.MoodHappy
	grid, err := a.Join(ctx, out.Player{Name: " ann ", Level: 7, Mood: &mood, JoinedAt: time.UnixMilli(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(grid.Rows) != 1 || grid.Rows[0][0] != 7 || len(grid.Labels) != 1 || grid.Labels[0] != "ann" {
		t.Errorf("reply = %+v, want level 7 and the trimmed name", grid)
	}
	if moved, err := b.NextSomeoneMoved(ctx); err != nil || moved.Name != "ann" {
		t.Errorf("others got %+v, %v", moved, err)
	}
	if mine, err := a.NextYouMoved(ctx); err != nil || mine.Grid.Rows[0][1] != 2 {
		t.Errorf("socket got %+v, %v", mine, err)
	}
	if _, err := a.Join(ctx, out.Player{Name: "over", Level: 1}); !errors.Is(err, out.ErrGameOver) {
		t.Errorf("declared error: %v, want game-over", err)
	}
	if _, err := a.Join(ctx, out.Player{Name: "x", Level: 100}); !errors.As(err, &re) || re.Code != runtime.CodeInvalidPayload || re.Path != "level" {
		t.Errorf("level 100: %v, want invalid-payload at level", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if _, err := a.NextSomeoneMoved(short); err == nil {
		t.Error("the sender received its own others event")
	}
}
