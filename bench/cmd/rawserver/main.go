// Command rawserver is the baseline of the benchmarks: the KARL logic the
// workloads exercise, written by hand on raw zishang520/socket.io handlers
// (`func(...any)`, payloads hand-decoded from map[string]any), with the same
// store (app/store/sqlite), the same photo check (app/imagecheck) and the same
// emits as karl-server. What it leaves out is exactly the typed layer: the
// generated decoders and Validate of outgoing payloads, the runtime's ack
// envelope builder, per-event contexts with deadlines, rate limits, panic
// recovery, the connect gate and the debug logging calls.
//
// It also answers "echo", the calibration event of workload W0.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	goruntime "runtime"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/karl-app/karl/app/imagecheck"
	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/app/store/sqlite"
	"github.com/karl-app/karl/bench/internal/debugsrv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	db := flag.String("db", "raw.db", "SQLite database file")
	debugAddr := flag.String("debug-addr", "", "pprof and /debug/bench/stats on this address (loopback)")
	flag.Parse()
	if err := run(*addr, *db, *debugAddr); err != nil {
		fmt.Fprintln(os.Stderr, "rawserver:", err)
		os.Exit(1)
	}
}

func run(addr, dbPath, debugAddr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	st, err := sqlite.Open(ctx, dbPath, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := debugsrv.Start(debugAddr); err != nil {
		return err
	}
	limits := imagecheck.Limits{MaxBytes: 256 << 10}
	opts := socket.DefaultServerOptions() // the options karl's runtime sets
	opts.SetMaxHttpBufferSize(int64(imagecheck.MaxEncodedLen(limits)) + 4<<10)
	opts.SetPingInterval(25 * time.Second)
	opts.SetPingTimeout(20 * time.Second)
	opts.SetConnectTimeout(10 * time.Second)
	opts.SetServeClient(false)
	opts.SetCors(&types.Cors{Origin: true, Credentials: true})
	io := socket.NewServer(nil, opts)
	a := &app{io: io, store: st, limits: limits, checks: make(chan struct{}, 2*goruntime.GOMAXPROCS(0))}
	a.register()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(opts))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	done := make(chan struct{})
	io.Close(func(error) { close(done) })
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	return nil
}

type app struct {
	io     *socket.Server
	store  store.Store
	limits imagecheck.Limits
	checks chan struct{}
}

type session struct {
	id        store.SessionID
	username  string
	token     string
	expiresAt time.Time
	photo     *string // the restored photo as a data URL, until sent
}

// The replies and payloads, as a Go programmer would write them for encoding/json.
type (
	okReply struct {
		OK bool `json:"ok"`
	}
	errDetail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Path    string `json:"path,omitempty"`
	}
	errReply struct {
		OK    bool      `json:"ok"`
		Error errDetail `json:"error"`
	}
	echoReply struct {
		OK   bool     `json:"ok"`
		Data echoBody `json:"data"`
	}
	echoBody struct {
		M string `json:"m"`
	}
	usernameSaved struct {
		Token     string `json:"token"`
		Username  string `json:"username"`
		ExpiresAt int64  `json:"expiresAt"`
	}
	userPayload struct {
		Username string `json:"username"`
	}
	reconnected struct {
		Username     string  `json:"username"`
		ProfileImage *string `json:"profileImage,omitempty"`
	}
	newMessage struct {
		Room     string `json:"room"`
		Username string `json:"username"`
		Text     string `json:"text"`
		SentAt   int64  `json:"sentAt"`
	}
	empty struct{}
)

var ok = okReply{OK: true}

func fail(code, message, path string) errReply {
	return errReply{Error: errDetail{Code: code, Message: message, Path: path}}
}

var (
	usernamePattern = regexp.MustCompile(`^[\p{L}\p{M}\p{N} _.\-]+$`)
	roomPattern     = regexp.MustCompile(`^[\p{L}\p{M}\p{N} _.:\-]+$`)
)

// name checks a trimmed name field the way the schema's Username and RoomName do.
func name(m map[string]any, key string, maxLen int, re *regexp.Regexp) (string, *errReply) {
	s, isString := m[key].(string)
	if !isString {
		e := fail("invalid-payload", "expected a string", key)
		return "", &e
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < 1 || n > maxLen || !re.MatchString(s) {
		e := fail("invalid-payload", "not a valid name", key)
		return "", &e
	}
	return s, nil
}

// split takes the ack off the end of a handler's arguments and reads the payload object.
func split(args []any) (map[string]any, socket.Ack) {
	var ack socket.Ack
	if n := len(args); n > 0 {
		if fn, isAck := args[n-1].(func([]any, error)); isAck {
			ack = fn
			args = args[:n-1]
		}
	}
	if len(args) == 0 {
		return nil, ack
	}
	m, _ := args[0].(map[string]any)
	return m, ack
}

func reply(ack socket.Ack, v any) {
	if ack != nil {
		ack([]any{v}, nil)
	}
}

func (a *app) register() {
	nsp := a.io.Of("/", nil)
	nsp.Use(func(sock *socket.Socket, next func(*socket.ExtendedError)) {
		token, _ := sock.Handshake().Auth["token"].(string)
		if token == "" {
			next(nil)
			return
		}
		sess, expiresAt, err := a.store.SessionByToken(context.Background(), store.HashToken(token), time.Now())
		switch {
		case err == nil:
			restored := &session{id: sess.ID, username: sess.Username, token: token, expiresAt: expiresAt}
			if len(sess.Image) > 0 {
				url := imagecheck.DataURL(sess.ImageMIME, sess.Image)
				restored.photo = &url
			}
			sock.SetData(restored)
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrExpired), errors.Is(err, store.ErrRevoked):
			sock.SetData("expired")
		default:
			next(socket.NewExtendedError("internal error", map[string]any{"code": "internal", "message": "internal error"}))
			return
		}
		next(nil)
	})
	_ = nsp.On("connection", func(args ...any) {
		sock := args[0].(*socket.Socket)
		switch d := sock.Data().(type) {
		case *session:
			_ = sock.Emit("reconnected", reconnected{Username: d.username, ProfileImage: d.photo})
			d.photo = nil
		case string:
			sock.SetData(nil)
			_ = sock.Emit("token-expired", empty{})
		}
		_ = sock.On("echo", func(args ...any) { a.echo(args) })
		_ = sock.On("set-username", func(args ...any) { a.setUsername(sock, args) })
		_ = sock.On("upload-profile-image", func(args ...any) { a.uploadProfileImage(sock, args) })
		_ = sock.On("join-room", func(args ...any) { a.joinRoom(sock, args) })
		_ = sock.On("send-message", func(args ...any) { a.sendMessage(sock, args) })
	})
}

func (a *app) echo(args []any) {
	m, ack := split(args)
	s, isString := m["m"].(string)
	if !isString || utf8.RuneCountInString(s) > 1024 {
		reply(ack, fail("invalid-payload", "expected a string", "m"))
		return
	}
	reply(ack, echoReply{OK: true, Data: echoBody{M: s}})
}

func (a *app) setUsername(sock *socket.Socket, args []any) {
	m, ack := split(args)
	username, bad := name(m, "username", 32, usernamePattern)
	if bad != nil {
		reply(ack, *bad)
		return
	}
	ctx := context.Background()
	now := time.Now()
	sess, _ := sock.Data().(*session)
	if sess != nil {
		if err := a.store.RenameSession(ctx, sess.id, username, now); err != nil {
			reply(ack, fail("internal", "internal error", ""))
			return
		}
	} else {
		token, err := newToken()
		if err != nil {
			reply(ack, fail("internal", "internal error", ""))
			return
		}
		expiresAt := now.Add(7 * 24 * time.Hour)
		id, err := a.store.CreateSession(ctx, username, store.HashToken(token), now, expiresAt)
		if err != nil {
			reply(ack, fail("internal", "internal error", ""))
			return
		}
		sess = &session{id: id, token: token, expiresAt: expiresAt.Truncate(time.Millisecond)}
		sock.SetData(sess)
	}
	sess.username = username
	_ = sock.Emit("username-saved", usernameSaved{Token: sess.token, Username: username, ExpiresAt: sess.expiresAt.UnixMilli()})
	a.io.Emit("new-user-connected", userPayload{Username: username})
	reply(ack, ok)
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (a *app) uploadProfileImage(sock *socket.Socket, args []any) {
	m, ack := split(args)
	data, isString := m["imageBase64"].(string)
	if !isString || data == "" {
		reply(ack, fail("invalid-payload", "expected a string", "imageBase64"))
		return
	}
	sess, _ := sock.Data().(*session)
	if sess == nil {
		reply(ack, fail("no-session", "Save a username first.", ""))
		return
	}
	a.checks <- struct{}{}
	img, err := imagecheck.Check(data, a.limits)
	<-a.checks
	if err != nil {
		var bad *imagecheck.Error
		if errors.As(err, &bad) {
			reply(ack, fail("invalid-image", bad.Reason, ""))
		} else {
			reply(ack, fail("internal", "internal error", ""))
		}
		return
	}
	if err := a.store.SetProfileImage(context.Background(), sess.id, img.MIME, img.Data, time.Now()); err != nil {
		reply(ack, fail("internal", "internal error", ""))
		return
	}
	_ = sock.Emit("profile-image-saved", empty{})
	reply(ack, ok)
}

func (a *app) joinRoom(sock *socket.Socket, args []any) {
	m, ack := split(args)
	room, bad := name(m, "room", 64, roomPattern)
	if bad != nil {
		reply(ack, *bad)
		return
	}
	if sess, _ := sock.Data().(*session); sess == nil {
		reply(ack, fail("no-session", "Save a username first.", ""))
		return
	}
	sock.Join(socket.Room(room))
	reply(ack, ok)
}

func (a *app) sendMessage(sock *socket.Socket, args []any) {
	m, ack := split(args)
	room, bad := name(m, "room", 64, roomPattern)
	if bad != nil {
		reply(ack, *bad)
		return
	}
	text, isString := m["text"].(string)
	if n := utf8.RuneCountInString(text); !isString || n < 1 || n > 2000 {
		reply(ack, fail("invalid-payload", "expected a text of 1 to 2000 characters", "text"))
		return
	}
	sess, _ := sock.Data().(*session)
	if sess == nil {
		reply(ack, fail("no-session", "Save a username first.", ""))
		return
	}
	if !sock.Rooms().Has(socket.Room(room)) {
		reply(ack, fail("not-in-room", "Join the room first.", ""))
		return
	}
	msg := newMessage{Room: room, Username: sess.username, Text: text, SentAt: time.Now().UnixMilli()}
	_ = a.io.To(socket.Room(room)).Emit("new-message", msg)
	reply(ack, ok)
}
