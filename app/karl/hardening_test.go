package karl_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
)

// countingStore counts token lookups, the work the handshake limit protects.
type countingStore struct {
	store.Store
	lookups atomic.Int64
}

func (c *countingStore) SessionByToken(ctx context.Context, h store.TokenHash, now time.Time) (store.Session, time.Time, error) {
	c.lookups.Add(1)
	return c.Store.SessionByToken(ctx, h, now)
}

// TestNamespaceReconnectsAreRateLimited reproduces finding 4: on one Engine.IO
// connection, a client repeats 41 (leave the namespace) and 40{"token":...}
// (join again with a token). With a limit per IP (burst 20, then 0.2/s: slow
// enough that no token refills between the flood and the check of another
// connection, even on a loaded machine; karl-server's 5/s is the same code) it
// must not get more token lookups than that, whatever the connection.
func TestNamespaceReconnectsAreRateLimited(t *testing.T) {
	counter := &countingStore{}
	const perSecond = 0.2
	e := startWith(t, runtime.Options{HandshakeLimit: runtime.Limit{PerSecond: perSecond, Burst: 20}},
		func(st store.Store) store.Store { counter.Store = st; return counter })
	bucket := time.Now() // the IP's CONNECT bucket starts full (20) and refills at perSecond from here
	c := e.dial(t, map[string]any{"token": "not-a-token"})
	c.Close()
	counter.lookups.Store(0)
	ws, err := dialRaw(e.url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ws.Close() }()
	const d = 2 * time.Second
	start := time.Now()
	sent, refused, redials := 0, 0, 0
	for time.Since(start) < d {
		// As the attack did: join with a token, wait for the answer, leave, again.
		answer, err := ws.roundTrip(`40{"token":"not-a-token"}`)
		if err != nil { // the library closed it (see below): carry on with a new one
			if redials++; redials > 5 {
				t.Fatalf("after %d CONNECTs: %v", sent, err)
			}
			ws.Close()
			if ws, err = dialRaw(e.url); err != nil {
				t.Fatal(err)
			}
			continue
		}
		sent++
		if strings.HasPrefix(answer, "44") {
			refused++
			if !strings.Contains(answer, `"code":"rate-limited"`) {
				t.Fatalf("CONNECT refused with %s, want rate-limited", answer)
			}
			continue
		}
		if err := ws.send("41"); err != nil {
			t.Fatal(err)
		}
		// The library removes the socket on its own queue: a CONNECT read
		// before that closes the connection.
		time.Sleep(10 * time.Millisecond)
	}
	n := counter.lookups.Load()
	t.Logf("%d CONNECTs in %v on one connection (%d refused): %d token lookups (%.0f/s)", sent, d, refused, n, float64(n)/d.Seconds())
	if max := int64(20 + perSecond*time.Since(bucket).Seconds() + 1); n > max {
		t.Errorf("%d token lookups in %v, the limit allows %d", n, d, max)
	}
	// Another connection from the same IP shares the IP's bucket.
	other, err := sioclient.Dial(e.url, sioclient.Options{Auth: map[string]any{"token": "not-a-token"}})
	if err == nil {
		other.Close()
		t.Fatal("a new connection from the same IP joined the namespace right after the flood")
	}
	var ce *sioclient.ConnectError
	if !errors.As(err, &ce) || !strings.Contains(string(ce.Data), `"code":"rate-limited"`) {
		t.Errorf("refused with %v, want connect_error with code rate-limited", err)
	}
}

// rawConn speaks Engine.IO packets over a WebSocket, for tests that send what
// sioclient would not.
type rawConn struct{ *websocket.Conn }

func dialRaw(base string) (*rawConn, error) {
	u := strings.Replace(base, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		return nil, err
	}
	c := &rawConn{ws}
	if _, err := c.read(); err != nil { // the Engine.IO open packet
		ws.Close()
		return nil, err
	}
	return c, nil
}

func (c *rawConn) send(s string) error { return c.WriteMessage(websocket.TextMessage, []byte(s)) }

// read returns the next packet other than a ping (which it answers).
func (c *rawConn) read() (string, error) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			return "", err
		}
		if string(msg) == "2" {
			_ = c.send("3")
			continue
		}
		return string(msg), nil
	}
}

// roundTrip sends a CONNECT packet and returns the answer (40... or 44...),
// skipping the events that follow a successful one.
func (c *rawConn) roundTrip(connect string) (string, error) {
	if err := c.send(connect); err != nil {
		return "", err
	}
	for {
		p, err := c.read()
		if err != nil || strings.HasPrefix(p, "40") || strings.HasPrefix(p, "44") {
			return p, err
		}
	}
}

// TestLogoutEndsTheSessionOnEverySocket reproduces finding 3: after logout on
// one socket, another socket on the same token could still read the profile,
// upload and rename, and set-username even sent the revoked token back.
func TestLogoutEndsTheSessionOnEverySocket(t *testing.T) {
	e := start(t)
	s := e.newUser(t, "Alice")
	auth := map[string]any{"token": s.Token}
	leaving, staying := e.dial(t, auth), e.dial(t, auth)
	for _, c := range []*sioclient.Client{leaving, staying} {
		if _, err := c.Wait("reconnected", 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if raw, err := leaving.EmitAck("logout", nil, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("logout: %s %v", raw, err)
	}
	if _, err := staying.Wait("token-expired", 5*time.Second); err != nil {
		t.Errorf("the other socket of the session was not told: %v", err)
	}
	wantNoSession(t, staying, "get-profile", nil)
	wantNoSession(t, staying, "upload-profile-image", map[string]any{"imageBase64": pngDataURL})
	assertNewToken(t, staying, s.Token)
}

// TestRevokedElsewhereIsRefusedOnNextUse covers a logout on another node whose
// relay this node missed: the next use of the session checks the token.
func TestRevokedElsewhereIsRefusedOnNextUse(t *testing.T) {
	e := start(t)
	s := e.newUser(t, "Bob")
	c := e.dial(t, map[string]any{"token": s.Token})
	if _, err := c.Wait("reconnected", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RevokeToken(context.Background(), store.HashToken(s.Token), e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	wantNoSession(t, c, "get-profile", nil)
	if _, err := c.Wait("token-expired", 5*time.Second); err != nil {
		t.Errorf("no token-expired: %v", err)
	}
	assertNewToken(t, c, s.Token)
}

// renameGate holds RenameSession until released, so that a test can revoke
// the token while a rename runs.
type renameGate struct {
	store.Store
	entered, release chan struct{}
}

func (g *renameGate) RenameSession(ctx context.Context, id store.SessionID, username string, now time.Time) error {
	select {
	case g.entered <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-g.release:
	case <-ctx.Done(): // the handler's deadline: a failed test does not hang the shutdown
		return ctx.Err()
	}
	return g.Store.RenameSession(ctx, id, username, now)
}

// TestLogoutDuringARenameIsNotAnsweredWithTheToken: a logout on another node
// commits while this node renames the session, and its relay has not arrived
// (here it never does: the token is revoked in the store directly). The
// rename must not send the revoked token back: the socket is told
// token-expired and continues as a new user with a new token. The same when
// the logout is another socket's on this node, whose relay does arrive during
// the rename: token-expired is still sent once.
func TestLogoutDuringARenameIsNotAnsweredWithTheToken(t *testing.T) {
	t.Run("another node", func(t *testing.T) {
		logoutDuringRename(t, func(e *env, s saved) {
			if err := e.store.RevokeToken(context.Background(), store.HashToken(s.Token), e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("this node", func(t *testing.T) {
		logoutDuringRename(t, func(e *env, s saved) {
			other := e.dial(t, map[string]any{"token": s.Token})
			if raw, err := other.EmitAck("logout", nil, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
				t.Fatalf("logout: %s %v", raw, err)
			}
		})
	})
}

func logoutDuringRename(t *testing.T, logout func(*env, saved)) {
	gate := &renameGate{entered: make(chan struct{}), release: make(chan struct{})}
	e := startWith(t, runtime.Options{}, func(st store.Store) store.Store { gate.Store = st; return gate })
	s := e.newUser(t, "Carol")
	c := e.dial(t, map[string]any{"token": s.Token})
	if _, err := c.Wait("reconnected", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	answered := make(chan error, 1)
	go func() {
		raw, err := c.EmitAck("set-username", map[string]any{"username": "Caroline"}, 5*time.Second)
		if err == nil && string(raw) != `{"ok":true}` {
			err = fmt.Errorf("answer %s", raw)
		}
		answered <- err
	}()
	select {
	case <-gate.entered:
	case err := <-answered:
		t.Fatalf("set-username answered (%v) before renaming", err)
	}
	logout(e, s)
	close(gate.release)
	if err := <-answered; err != nil {
		t.Fatalf("set-username: %v", err)
	}
	// In order: token-expired once, then username-saved with a new token.
	var got []string
	for len(got) < 2 || got[len(got)-1] != "username-saved" {
		select {
		case ev := <-c.Events():
			got = append(got, ev.Name)
			if ev.Name == "username-saved" && strings.Contains(string(ev.Args[0]), s.Token) {
				t.Errorf("username-saved sent the token revoked during the rename: %s", ev.Args[0])
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("events %v, want token-expired then username-saved", got)
		}
	}
	if !slices.Equal(got, []string{"token-expired", "username-saved"}) {
		t.Errorf("events %v, want token-expired then username-saved", got)
	}
}

const pngDataURL = "data:image/png;base64," +
	"iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8DwnwGMgRQAH+4D/dJQfRoAAAAASUVORK5CYII="

func wantNoSession(t *testing.T, c *sioclient.Client, event string, payload any) {
	t.Helper()
	raw, err := c.EmitAck(event, payload, 5*time.Second)
	if err != nil || !strings.Contains(string(raw), `"code":"no-session"`) {
		t.Errorf("%s after logout: %s %v, want no-session", event, raw, err)
	}
}

// assertNewToken renames and checks the socket was given a new token, not revoked.
func assertNewToken(t *testing.T, c *sioclient.Client, revoked string) {
	t.Helper()
	if raw, err := c.EmitAck("set-username", map[string]any{"username": "Again"}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
		t.Fatalf("set-username after logout: %s %v", raw, err)
	}
	ev, err := c.Wait("username-saved", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ev.Args[0]), revoked) {
		t.Errorf("username-saved sent the revoked token: %s", ev.Args[0])
	}
}

// TestHugeNumbersAnswerInvalidPayload: {"username": 1e400} and
// 40{"token":1e400} closed the connection without an answer (finding 10).
func TestHugeNumbersAnswerInvalidPayload(t *testing.T) {
	e := start(t)
	ws, err := dialRaw(e.url)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	answer, err := ws.roundTrip(`40{"token":1e400}`)
	if err != nil || !strings.HasPrefix(answer, "44") || !strings.Contains(answer, `"code":"invalid-payload"`) || !strings.Contains(answer, `"path":"token"`) {
		t.Fatalf("CONNECT with token 1e400: %q %v, want invalid-payload at token", answer, err)
	}
	if answer, err = ws.roundTrip(`40`); err != nil || !strings.HasPrefix(answer, "40") {
		t.Fatalf("CONNECT after: %q %v", answer, err)
	}
	if err := ws.send(`421["set-username",{"username":1e400}]`); err != nil {
		t.Fatal(err)
	}
	got, err := ws.read()
	if err != nil || !strings.HasPrefix(got, "431") || !strings.Contains(got, `"code":"invalid-payload"`) || !strings.Contains(got, `"path":"username"`) {
		t.Errorf("set-username with 1e400: %q %v", got, err)
	}
}

// TestRoomNamedAfterASocketID reproduces finding 7: Socket.IO puts each
// socket in a room named by its id, so joining a room named after another
// socket's id delivered new-message and user-typing to that socket.
func TestRoomNamedAfterASocketID(t *testing.T) {
	e := start(t)
	victim := e.dial(t, nil)
	attacker := e.dial(t, nil)
	for i, c := range []*sioclient.Client{victim, attacker} {
		if raw, err := c.EmitAck("set-username", map[string]any{"username": fmt.Sprint("user", i)}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
			t.Fatalf("set-username: %s %v", raw, err)
		}
	}
	room := map[string]any{"room": victim.SID}
	for _, call := range []struct {
		event   string
		payload map[string]any
	}{
		{"join-room", room},
		{"send-message", map[string]any{"room": victim.SID, "text": "hello from outside"}},
		{"typing", room},
	} {
		if raw, err := attacker.EmitAck(call.event, call.payload, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
			t.Fatalf("%s: %s %v", call.event, raw, err)
		}
	}
	if _, err := attacker.Wait("new-message", 5*time.Second); err != nil {
		t.Fatalf("the sender did not get its own message: %v", err)
	}
	deadline := time.After(300 * time.Millisecond)
	for {
		select {
		case ev := <-victim.Events():
			if ev.Name == "new-message" || ev.Name == "user-typing" {
				t.Fatalf("the socket whose id names the room got %s: %s", ev.Name, ev.Args)
			}
		case <-deadline:
			return
		}
	}
}

// TestNamesNeedAVisibleLetterOrDigit: the schema's pattern admits names that
// render as nothing or as punctuation only (the app-side part of finding 8).
func TestNamesNeedAVisibleLetterOrDigit(t *testing.T) {
	e := start(t)
	c := e.dial(t, nil)
	for _, name := range []string{"\u3164", "\u3164\u3164", "\u0301\u0302", "._-", "_ _", "\u115F\u1160",
		"Alice\u3164", "Al\u034Fice", "Bob\uFE0F", "\uFFA0Carol", // invisible beside visible letters: "Alice" twice
	} {
		raw, err := c.EmitAck("set-username", map[string]any{"username": name}, 5*time.Second)
		if err != nil || !strings.Contains(string(raw), `"code":"invalid-payload"`) || !strings.Contains(string(raw), `"path":"username"`) {
			t.Errorf("set-username %q: %s %v, want invalid-payload at username", name, raw, err)
		}
	}
	for _, name := range []string{"Zoë", "李", "a.b", "R2", "e\u0301"} {
		if raw, err := c.EmitAck("set-username", map[string]any{"username": name}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
			t.Errorf("set-username %q: %s %v", name, raw, err)
		}
	}
}

// TestSlowReaderSeesTheDisconnectReason: a socket over its outgoing queue
// bound (finding 2) is disconnected with the Socket.IO disconnect packet
// queued behind its backlog, so a client that reads again learns why ("io
// server disconnect") instead of seeing the connection vanish.
func TestSlowReaderSeesTheDisconnectReason(t *testing.T) {
	e := startWith(t, runtime.Options{MaxQueuedBytes: 256 << 10, OverflowGrace: 500 * time.Millisecond,
		EventLimit: runtime.Limit{PerSecond: 10000, Burst: 10000}, HandshakeLimit: runtime.Limit{PerSecond: 1000, Burst: 1000}}, nil)
	d := websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}).DialContext}
	ws, _, err := d.Dial(strings.Replace(e.url, "http", "ws", 1)+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	paused := &rawConn{ws}
	defer paused.Close()
	if _, err := paused.read(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ send, want string }{
		{"40", "40"}, {`420["set-username",{"username":"Paused"}]`, "430"}, {`421["join-room",{"room":"r"}]`, "431"},
	} {
		if err := paused.send(step.send); err != nil {
			t.Fatal(err)
		}
		for {
			p, err := paused.read()
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(p, step.want) {
				break
			}
		}
	}
	sender := e.dial(t, nil)
	for _, call := range [][2]string{{"set-username", "Sender"}, {"join-room", "r"}} {
		key := map[string]string{"set-username": "username", "join-room": "room"}[call[0]]
		if raw, err := sender.EmitAck(call[0], map[string]any{key: call[1]}, 5*time.Second); err != nil || string(raw) != `{"ok":true}` {
			t.Fatalf("%s: %s %v", call[0], raw, err)
		}
	}
	go func() {
		for range sender.Events() { // the sender reads
		}
	}()
	text := strings.Repeat("y", 2000)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(e.logs.String(), "does not read") {
		if time.Now().After(deadline) {
			t.Fatal("the paused socket was never disconnected")
		}
		for range 20 {
			if err := sender.Emit("send-message", map[string]any{"room": "r", "text": text}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The client reads again: its backlog, then the reason.
	last := ""
	n, t0 := 0, time.Now()
	for {
		_ = paused.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := paused.ReadMessage()
		if err != nil {
			t.Logf("after %d packets in %v: %v", n, time.Since(t0), err)
			break
		}
		n++ // the backlog: new-message after new-message
		last = string(msg)
		if last == "41" {
			break
		}
	}
	if last != "41" {
		t.Fatalf("last packet before the close: %.40q, want 41 (io server disconnect)", last)
	}
	// A client that keeps the connection open anyway is cut after the grace
	// (0.5 s here, counted from the overflow; the default's 5 s would fail).
	_ = paused.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	for {
		if _, _, err := paused.ReadMessage(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Error("the connection was still open 3 s after the disconnect, with a grace of 0.5 s")
			}
			t.Logf("connection closed %v after the disconnect packet", time.Since(start).Round(100*time.Millisecond))
			return
		}
	}
}
