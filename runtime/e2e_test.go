package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/internal/sioclient"
	"github.com/karl-app/karl/runtime"
	"github.com/karl-app/karl/runtime/internal/testapi"
)

// handler implements the test schema's events, each exercising one path of the runtime.
type handler struct{}

func (handler) Connect(ctx context.Context, s *testapi.Socket, auth testapi.Auth) error {
	if auth.Reject != nil && *auth.Reject {
		return testapi.ErrNotAllowed
	}
	if auth.Late != nil && *auth.Late {
		return testapi.ErrTooLate // declared by the schema, not for the handshake
	}
	if auth.Name != nil {
		return s.EmitHello(testapi.Hello{Name: "welcome " + *auth.Name})
	}
	return nil
}
func (handler) Echo(ctx context.Context, s *testapi.Socket, in testapi.Shape) (testapi.Shape, error) {
	return in, nil
}
func (handler) Fail(ctx context.Context, s *testapi.Socket) error { return testapi.ErrNotAllowed }
func (handler) FailUndeclared(ctx context.Context, s *testapi.Socket) error {
	return runtime.NewError("not-declared", "secret detail")
}
func (handler) FailPlain(ctx context.Context, s *testapi.Socket) error {
	return errors.New("database password is hunter2")
}
func (handler) Panic(ctx context.Context, s *testapi.Socket) error { panic("boom") }
func (handler) Slow(ctx context.Context, s *testapi.Socket) error {
	<-ctx.Done()
	return ctx.Err()
}
func (handler) BadReply(ctx context.Context, s *testapi.Socket) (testapi.BadReplyReply, error) {
	return testapi.BadReplyReply{Count: 2}, nil
}
func (handler) Sit(ctx context.Context, s *testapi.Socket, in testapi.Sit) error {
	return s.JoinTable(ctx, in.Game, in.Number, testapi.TablePresence{Nick: in.Nick})
}
func (handler) Stand(ctx context.Context, s *testapi.Socket, in testapi.Stand) error {
	return s.LeaveTable(ctx, in.Game, in.Number)
}
func (handler) Shout(ctx context.Context, s *testapi.Socket, in testapi.Shout) (testapi.ShoutReply, error) {
	table := s.Server().Table(in.Game, in.Number)
	if err := table.EmitShouted(testapi.Shouted{Text: in.Text}); err != nil {
		return testapi.ShoutReply{}, err
	}
	members, err := table.Members(ctx)
	return testapi.ShoutReply{Members: members}, err
}
func (handler) Whisper(ctx context.Context, s *testapi.Socket, in testapi.Whisper) error {
	return s.Table(in.Game, in.Number).Others().EmitWhispered(testapi.Whispered{Text: in.Text})
}
func (handler) EnterHall(ctx context.Context, s *testapi.Socket, in testapi.EnterHall) error {
	if err := s.JoinHall(ctx, in.Color); err != nil {
		return err
	}
	return s.Server().Hall(in.Color).EmitHallNews(testapi.HallNews{Color: in.Color})
}
func (handler) Greet(ctx context.Context, s *testapi.Socket, in testapi.Greet) error {
	if err := s.EmitHello(testapi.Hello{Name: "you"}); err != nil {
		return err
	}
	if in.Room != nil {
		s.Join(*in.Room)
		return s.Others(*in.Room).EmitHello(testapi.Hello{Name: "room"})
	}
	return s.Others().EmitHello(testapi.Hello{Name: "others"})
}
func (handler) Disconnect(s *testapi.Socket, reason string) {}

func startServer(t *testing.T, opts runtime.Options) (*httptest.Server, *runtime.Server) {
	t.Helper()
	ts, rt, _ := startTestAPI(t, opts)
	return ts, rt
}

// startTestAPI is startServer that also returns the generated server's emitters.
func startTestAPI(t *testing.T, opts runtime.Options) (*httptest.Server, *runtime.Server, *testapi.Server) {
	t.Helper()
	if opts.HandshakeLimit == (runtime.Limit{}) {
		opts.HandshakeLimit = runtime.Limit{PerSecond: 1000, Burst: 1000}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testLogOutput(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.EventLimit == (runtime.Limit{}) {
		opts.EventLimit = runtime.Limit{PerSecond: 10000, Burst: 10000}
	}
	rt := runtime.NewServer(opts)
	srv := testapi.Register(rt, handler{})
	ts := httptest.NewServer(rt.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
		ts.Close()
	})
	return ts, rt, srv
}

func dial(t *testing.T, url string, auth any) *sioclient.Client {
	t.Helper()
	c, err := sioclient.Dial(url, sioclient.Options{Auth: auth})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// envelope is the ack answer of the wire contract.
type envelope struct {
	OK    bool            `json:"ok"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *wireError      `json:"error,omitempty"`
}

type wireError struct {
	Event   string `json:"event,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

func ack(t *testing.T, c *sioclient.Client, event string, payload any) envelope {
	t.Helper()
	raw, err := c.EmitAck(event, payload, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s: ack %s: %v", event, raw, err)
	}
	return env
}

func validShape() map[string]any {
	return map[string]any{
		"name": "box", "color": "red", "tags": []any{" ab ", "cd"},
		"points": []any{map[string]any{"x": 1, "y": 2}}, "weight": 1.5, "visible": true,
		"createdAt": 1700000000123, "meta": map[string]any{"note": "hi"}, "extra": "ignored",
	}
}

func TestEchoDecodesAndRepliesTyped(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	c := dial(t, ts.URL, nil)
	env := ack(t, c, "echo", validShape())
	if !env.OK {
		t.Fatalf("echo failed: %+v", env.Error)
	}
	var got map[string]any
	if err := json.Unmarshal(env.Data, &got); err != nil {
		t.Fatal(err)
	}
	want := validShape()
	delete(want, "extra")            // unknown fields are ignored
	want["tags"] = []any{"ab", "cd"} // Tag is trimmed
	want = roundTrip(t, want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("echo reply (-want +got):\n%s", diff)
	}
}

func roundTrip(t *testing.T, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInvalidPayloadsNameTheField(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	c := dial(t, ts.URL, nil)
	with := func(key string, v any) map[string]any {
		m := validShape()
		if v == nil {
			delete(m, key)
		} else {
			m[key] = v
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		payload any
		path    string
		message string
	}{
		{"missing field", with("name", nil), "name", "required"},
		{"null field", with("name", json.RawMessage("null")), "name", "required"},
		{"wrong type", with("name", 12), "name", "expected a string, got a number"},
		{"string where object belongs", "box", "", "expected an object, got a string"},
		{"array where object belongs", []any{1}, "", "expected an object, got an array"},
		{"no payload", nil, "", "expected an object, got null"},
		{"extra nesting", with("name", map[string]any{"name": "box"}), "name", "expected a string, got an object"},
		{"too long", with("name", strings.Repeat("x", 11)), "name", "longer than 10 characters"},
		{"too short", with("name", ""), "name", "shorter than 1 character"},
		{"not in enum", with("color", "pink"), "color", `must be one of "red", "green", "blue"`},
		{"pattern in array item", with("tags", []any{"ok", "NO"}), "tags[1]", "does not match the pattern ^[a-z]+$"},
		{"too many items", with("tags", []any{"a", "b", "c", "d"}), "tags", "more than 3 items"},
		{"too few items", with("points", []any{}), "points", "fewer than 1 item"},
		{"nested object field", with("points", []any{map[string]any{"x": 1, "y": 2}, map[string]any{"x": 101, "y": 0}}), "points[1].x", "greater than 100"},
		{"fraction for integer", with("points", []any{map[string]any{"x": 1.5, "y": 2}}), "points[0].x", "expected an integer, got 1.5"},
		{"below min", with("weight", -1), "weight", "less than 0"},
		{"bool as string", with("visible", "yes"), "visible", "expected a boolean, got a string"},
		{"timestamp as string", with("createdAt", "2024-01-01"), "createdAt", "expected a timestamp in Unix milliseconds, got a string"},
		{"format", with("image", "data:text/html;base64,AAAA"), "image", "expected a data URL data:image/<png|jpeg|webp|gif>;base64,..."},
		{"optional nested object", with("meta", map[string]any{"note": strings.Repeat("n", 21)}), "meta.note", "longer than 20 characters"},
		{"huge string", with("name", strings.Repeat("é", 100000)), "name", "longer than 10 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := ack(t, c, "echo", tc.payload)
			want := &wireError{Code: "invalid-payload", Path: tc.path, Message: tc.message}
			if env.OK || cmp.Diff(want, env.Error) != "" {
				t.Errorf("answer (-want +got):\n%s", cmp.Diff(want, env.Error))
			}
		})
	}
}

func TestBinaryAttachmentWhereStringBelongs(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	c := dial(t, ts.URL, nil)
	shape := validShape()
	shape["name"] = map[string]any{"_placeholder": true, "num": 0}
	b, _ := json.Marshal([]any{"echo", shape})
	// Without ack, so the answer comes back as request-error.
	if err := c.WriteRaw("451-" + string(b)); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteBinary([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	got := waitRequestError(t, c)
	want := wireError{Event: "echo", Code: "invalid-payload", Path: "name", Message: "expected a string, got binary data"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request-error (-want +got):\n%s", diff)
	}
}

func waitRequestError(t *testing.T, c *sioclient.Client) wireError {
	t.Helper()
	ev, err := c.Wait("request-error", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got wireError
	if err := json.Unmarshal(ev.Args[0], &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestFailuresWithoutAckBecomeRequestError(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	c := dial(t, ts.URL, nil)
	if err := c.Emit("echo", map[string]any{"name": 1}); err != nil {
		t.Fatal(err)
	}
	got := waitRequestError(t, c)
	if got.Event != "echo" || got.Code != "invalid-payload" || got.Path != "color" && got.Path != "name" {
		t.Errorf("request-error = %+v", got)
	}
	if err := c.Emit("no-such-event", nil); err != nil {
		t.Fatal(err)
	}
	if got := waitRequestError(t, c); got.Code != "unknown-event" || got.Event != "no-such-event" {
		t.Errorf("unknown event: request-error = %+v", got)
	}
}

func TestHandlerErrors(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	c := dial(t, ts.URL, nil)
	for _, tc := range []struct {
		event string
		want  wireError
	}{
		{"fail", wireError{Code: "not-allowed", Message: "You may not do that."}},
		{"fail-undeclared", wireError{Code: "internal", Message: "internal error"}},
		{"fail-plain", wireError{Code: "internal", Message: "internal error"}},
		{"panic", wireError{Code: "internal", Message: "internal error"}},
		{"slow", wireError{Code: "internal", Message: "internal error"}},
		{"bad-reply", wireError{Code: "internal", Message: "internal error"}},
		{"no-such-event", wireError{Code: "unknown-event", Message: `unknown event "no-such-event"`}},
	} {
		t.Run(tc.event, func(t *testing.T) {
			env := ack(t, c, tc.event, nil)
			if env.OK || env.Error == nil || cmp.Diff(tc.want, *env.Error) != "" {
				t.Errorf("answer = %+v, want %+v", env, tc.want)
			}
		})
	}
	// After a panic the same socket and a new one are served.
	if env := ack(t, c, "echo", validShape()); !env.OK {
		t.Errorf("echo after panic: %+v", env.Error)
	}
	if env := ack(t, dial(t, ts.URL, nil), "echo", validShape()); !env.OK {
		t.Errorf("new socket after panic: %+v", env.Error)
	}
}

func TestHandshake(t *testing.T) {
	logs := &logBuffer{}
	ts, _ := startServer(t, runtime.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	_, err := sioclient.Dial(ts.URL, sioclient.Options{Auth: map[string]any{"reject": true}})
	var ce *sioclient.ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("rejected handshake: err = %v, want connect_error", err)
	}
	if diff := cmp.Diff(`{"code":"not-allowed","message":"You may not do that."}`, string(ce.Data)); diff != "" {
		t.Errorf("connect_error data (-want +got):\n%s", diff)
	}
	_, err = sioclient.Dial(ts.URL, sioclient.Options{Auth: map[string]any{"late": true}})
	if !errors.As(err, &ce) {
		t.Fatalf("handshake refused with an undeclared code: err = %v, want connect_error", err)
	}
	if diff := cmp.Diff(`{"code":"internal","message":"internal error"}`, string(ce.Data)); diff != "" {
		t.Errorf("connect_error data of an undeclared code (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "handler returned an undeclared error code") {
		t.Errorf("the undeclared handshake code was not logged:\n%s", logs.String())
	}
	_, err = sioclient.Dial(ts.URL, sioclient.Options{Auth: map[string]any{"name": strings.Repeat("n", 17)}})
	if !errors.As(err, &ce) || !strings.Contains(string(ce.Data), `"code":"invalid-payload"`) || !strings.Contains(string(ce.Data), `"path":"name"`) {
		t.Errorf("invalid auth: err = %v, want connect_error invalid-payload with path name", err)
	}
	c := dial(t, ts.URL, map[string]any{"name": "ann"})
	ev, err := c.Wait("hello", 5*time.Second)
	if err != nil {
		t.Fatalf("emit during Connect: %v", err)
	}
	if got := string(ev.Args[0]); got != `{"name":"welcome ann"}` {
		t.Errorf("hello = %s", got)
	}
}

func TestEmitTargets(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	a, b, c := dial(t, ts.URL, nil), dial(t, ts.URL, nil), dial(t, ts.URL, nil)
	if env := ack(t, b, "greet", map[string]any{"room": "r1"}); !env.OK {
		t.Fatal(env.Error)
	}
	if env := ack(t, c, "greet", map[string]any{"room": "r1"}); !env.OK {
		t.Fatal(env.Error)
	}
	// b is in r1 when c greets the room: b gets "room", c does not.
	ev, err := b.Wait("hello", 2*time.Second) // b's own "you"
	if err != nil || string(ev.Args[0]) != `{"name":"you"}` {
		t.Fatalf("b first hello = %v %v", ev, err)
	}
	ev, err = b.Wait("hello", 2*time.Second)
	if err != nil || string(ev.Args[0]) != `{"name":"room"}` {
		t.Fatalf("b room hello = %s %v", ev.Args, err)
	}
	ev, err = c.Wait("hello", 2*time.Second)
	if err != nil || string(ev.Args[0]) != `{"name":"you"}` {
		t.Fatalf("c hello = %v %v", ev, err)
	}
	if env := ack(t, a, "greet", map[string]any{}); !env.OK {
		t.Fatal(env.Error)
	}
	for name, cl := range map[string]*sioclient.Client{"b": b, "c": c} {
		if ev, err := cl.Wait("hello", 2*time.Second); err != nil || string(ev.Args[0]) != `{"name":"others"}` {
			t.Errorf("%s: broadcast hello = %v %v", name, ev, err)
		}
	}
	if ev, _ := a.Wait("hello", 2*time.Second); string(ev.Args[0]) != `{"name":"you"}` {
		t.Errorf("a: own hello = %s", ev.Args)
	}
	if ev, err := a.Wait("hello", 300*time.Millisecond); err == nil {
		t.Errorf("the sender received its own broadcast: %s", ev.Args)
	}
}

func TestEventsOfASocketRunInOrder(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	c := dial(t, ts.URL, nil)
	// Fire 200 events without waiting; each fails (unknown event) and, without an
	// ack, is answered by a request-error naming it: their order is the handling order.
	const n = 200
	for i := range n {
		if err := c.Emit(fmt.Sprintf("event-%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		got := waitRequestError(t, c)
		if want := fmt.Sprintf("event-%d", i); got.Event != want {
			t.Fatalf("answer %d is for %q, want %q: events of one socket were reordered", i, got.Event, want)
		}
	}
}

func TestPerEventLimit(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{EventLimits: map[string]runtime.Limit{"fail": {PerSecond: 0.001, Burst: 1}}})
	c := dial(t, ts.URL, nil)
	if env := ack(t, c, "fail", nil); env.Error == nil || env.Error.Code != "not-allowed" {
		t.Fatalf("first fail = %+v, want its own error", env)
	}
	if env := ack(t, c, "fail", nil); env.Error == nil || env.Error.Code != "rate-limited" {
		t.Errorf("second fail = %+v, want rate-limited", env)
	}
	if env := ack(t, c, "echo", validShape()); !env.OK {
		t.Errorf("another event of the same socket is limited too: %+v", env.Error)
	}
}

func TestRateLimit(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{EventLimit: runtime.Limit{PerSecond: 0.001, Burst: 3}})
	c := dial(t, ts.URL, nil)
	for i := range 3 {
		if env := ack(t, c, "echo", validShape()); !env.OK {
			t.Fatalf("event %d within the burst: %+v", i, env.Error)
		}
	}
	env := ack(t, c, "echo", validShape())
	if env.OK || env.Error.Code != "rate-limited" {
		t.Errorf("4th event = %+v, want rate-limited", env)
	}
	if env := ack(t, dial(t, ts.URL, nil), "echo", validShape()); !env.OK {
		t.Errorf("another socket is limited too: %+v", env.Error)
	}
}

func TestOriginCheck(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{AllowedOrigins: []string{"https://karl.example"}})
	_, err := sioclient.Dial(ts.URL, sioclient.Options{Header: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("foreign origin: err = %v, want HTTP 403", err)
	}
	for _, origin := range []string{"https://karl.example", ts.URL, ""} {
		c, err := sioclient.Dial(ts.URL, sioclient.Options{Header: http.Header{"Origin": {origin}}})
		if err != nil {
			t.Fatalf("origin %q: %v", origin, err)
		}
		c.Close()
	}
}

func TestHandshakeLimitPerIP(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{HandshakeLimit: runtime.Limit{PerSecond: 0.001, Burst: 2}})
	for i := range 2 {
		dial(t, ts.URL, nil)
		_ = i
	}
	_, err := sioclient.Dial(ts.URL, sioclient.Options{})
	if err == nil || !strings.Contains(err.Error(), "429") {
		t.Errorf("3rd handshake: err = %v, want HTTP 429", err)
	}
}

func testLogOutput() io.Writer {
	if os.Getenv("KARL_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// TestEmitRightAfterConnect guards the connect gate: zishang520 v3.0.6 sends
// CONNECT before registering the socket, and without the gate an event sent at
// once is read in the gap and the library closes the connection.
func TestEmitRightAfterConnect(t *testing.T) {
	ts, _ := startServer(t, runtime.Options{})
	for i := range 100 {
		c := dial(t, ts.URL, nil)
		if _, err := c.EmitAck("fail", nil, 5*time.Second); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		c.Close()
	}
}
