package lobby_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/karl-app/karl/examples/lobby/events"
	"github.com/karl-app/karl/examples/lobby/lobby"
)

// slowConnect makes Connect last long enough for the client to hang up meanwhile.
type slowConnect struct{ *lobby.App }

func (s slowConnect) Connect(ctx context.Context, so *events.Socket, auth events.Auth) error {
	err := s.App.Connect(ctx, so, auth)
	time.Sleep(300 * time.Millisecond)
	return err
}

// TestNameFreedWhenClientLeavesDuringConnect: a client that hangs up while Connect
// runs must not keep its name. Connect succeeds, zishang520 then drops the socket
// ("next called after client was closed - ignoring socket") and fires no
// "connection" event; the runtime calls Handler.Disconnect for it (runtime.Serve).
func TestNameFreedWhenClientLeavesDuringConnect(t *testing.T) {
	srv := serve(t, func(a *lobby.App) events.Handler { return slowConnect{a} })
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.ReadMessage(); err != nil { // Engine.IO open
		t.Fatal(err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`40{"playerName":"Ann"}`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // Connect is running
	conn.Close()

	deadline := time.Now().Add(wait)
	for {
		_, err := dial(t, srv, map[string]any{"playerName": "Ann"})
		var r *refusal
		if !errors.As(err, &r) || r.Code != "name-taken" {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the name of a client gone during Connect is still taken after %v", wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
