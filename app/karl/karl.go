// Package karl is the KARL app: a user saves a username and gets a reconnect
// token valid for a week, uploads a profile photo, and comes back days later to
// find both restored, or is told the token expired.
//
// It is written only against the API generated from schema/karl.yaml
// (app/events): App implements events.Handler, so a schema change the app does
// not follow breaks the build.
package karl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/karl-app/karl/app/events"
	"github.com/karl-app/karl/app/imagecheck"
	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/runtime"
)

// Config holds the app's settings.
type Config struct {
	TokenTTL        time.Duration     // absolute lifetime of a reconnect token [7 days]
	CleanupInterval time.Duration     // how often expired tokens are deleted [1 hour]
	Image           imagecheck.Limits // what a profile photo may be
	// ImageChecks bounds the photo checks running at once [2 per processor]:
	// one costs up to ~0.2 s of CPU and ~32 MiB, so a burst of uploads must
	// queue rather than exhaust memory.
	ImageChecks int
	Now         func() time.Time // the clock [time.Now]; tests move it across the TTL
}

// DefaultTokenTTL is the lifetime of a reconnect token, as the seed specifies.
const DefaultTokenTTL = 7 * 24 * time.Hour

// App handles the KARL events.
type App struct {
	store store.Store
	cfg   Config
	log   *slog.Logger
	srv   *events.Server
	rt    *runtime.Server // for the server-side revocation event between nodes
	// checks bounds the photo checks running at once: one costs up to ~0.2 s of
	// CPU and ~32 MiB, so a burst of uploads must queue rather than exhaust memory.
	checks chan struct{}
	// live holds this node's sockets by session, so that a logout tells every
	// other socket of the session (revokedEvent carries it to the other nodes).
	mu   sync.Mutex
	live map[store.SessionID]map[*events.Socket]*session
}

// revokedEvent is the server-side event (between nodes, never to clients) that
// carries the id of a session whose token was revoked.
const revokedEvent = "karl:session-revoked"

var _ events.Handler = (*App)(nil)

// New returns the app; call Register to serve it.
func New(st store.Store, cfg Config, log *slog.Logger) *App {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.CleanupInterval <= 0 {
		cfg.CleanupInterval = time.Hour
	}
	if cfg.ImageChecks <= 0 {
		cfg.ImageChecks = 2 * goruntime.GOMAXPROCS(0)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &App{store: st, cfg: cfg, log: log, checks: make(chan struct{}, cfg.ImageChecks),
		live: map[store.SessionID]map[*events.Socket]*session{}}
}

// Register serves the app on rt.
func (a *App) Register(rt *runtime.Server) {
	a.srv = events.Register(rt, a)
	a.rt = rt
	rt.OnServerSideEmit(events.Namespace, revokedEvent, func(args ...any) { // from another node's logout
		if len(args) > 0 {
			if id, ok := toSessionID(args[0]); ok {
				a.revoked(id, nil)
			}
		}
	})
}

// toSessionID reads a session id relayed by the adapter (JSON or msgpack number).
func toSessionID(v any) (store.SessionID, bool) {
	switch n := v.(type) {
	case float64:
		return store.SessionID(n), true
	case int64:
		return store.SessionID(n), true
	case uint64:
		return store.SessionID(n), true
	case int:
		return store.SessionID(n), true
	case int8, int16, int32, uint8, uint16, uint32:
		i, err := strconv.ParseInt(fmt.Sprint(n), 10, 64)
		return store.SessionID(i), err == nil
	}
	return 0, false
}

// session is what a socket knows about its user. Only the socket's own handlers
// touch it, one at a time (the runtime runs a socket's events in order).
type session struct {
	id        store.SessionID
	username  string
	token     string // kept in memory to answer a rename with the same token; never stored or logged
	hash      store.TokenHash
	expiresAt time.Time
	revoked   atomic.Bool // set by a logout on another socket; the socket then continues as a new user
	// tell is held while the socket is sent its token or told token-expired,
	// so that a socket whose revocation arrives while it is being sent its
	// token gets token-expired after the token, never before it.
	tell sync.Mutex
}

// sessionOf returns the socket's session, nil when it has none or when its
// token was revoked by a logout elsewhere.
func sessionOf(s *events.Socket) *session {
	sess, _ := s.Data().(*session)
	if sess != nil && sess.revoked.Load() {
		s.SetData(nil)
		return nil
	}
	return sess
}

// attach makes sess the socket's session and lists it for revocations.
func (a *App) attach(s *events.Socket, sess *session) {
	prev, _ := s.Data().(*session)
	s.SetData(sess)
	a.mu.Lock()
	defer a.mu.Unlock()
	if prev != nil && prev.id != sess.id {
		a.forget(s, prev.id)
	}
	m := a.live[sess.id]
	if m == nil {
		m = map[*events.Socket]*session{}
		a.live[sess.id] = m
	}
	m[s] = sess
}

// detach forgets the socket's session.
func (a *App) detach(s *events.Socket, sess *session) {
	s.SetData(nil)
	if sess == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forget(s, sess.id)
}

// forget removes s from the sockets of session id; a.mu is held.
func (a *App) forget(s *events.Socket, id store.SessionID) {
	if m := a.live[id]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(a.live, id)
		}
	}
}

// revoked tells this node's sockets of session id, but except, that their
// token is gone: they get token-expired and continue as new users.
func (a *App) revoked(id store.SessionID, except *events.Socket) {
	a.mu.Lock()
	m := a.live[id]
	delete(a.live, id)
	a.mu.Unlock()
	for s, sess := range m {
		if s == except {
			sess.revoked.Store(true)
			continue
		}
		if err := a.expire(s, sess); err != nil {
			a.log.Warn("token-expired after logout not sent", "socket", s.ID(), "err", err)
		}
		a.log.Info("session revoked by a logout elsewhere", "socket", s.ID(), "session", id)
	}
}

// expire marks the socket's session revoked and tells the socket
// token-expired, once however many of the relay, a store check and a local
// logout find it out.
func (a *App) expire(s *events.Socket, sess *session) error {
	sess.tell.Lock()
	defer sess.tell.Unlock()
	if sess.revoked.Swap(true) {
		return nil
	}
	return s.EmitTokenExpired()
}

// checkToken confirms the socket's token is still valid in the store (a
// logout on another node, or its expiry, may have ended it). When it is not,
// the socket is told token-expired and continues as a new user: the result is
// nil with no error.
func (a *App) checkToken(ctx context.Context, s *events.Socket, sess *session) (*store.Session, error) {
	saved, _, err := a.store.SessionByToken(ctx, sess.hash, a.cfg.Now())
	switch {
	case errors.Is(err, store.ErrRevoked), errors.Is(err, store.ErrExpired), errors.Is(err, store.ErrNotFound):
		a.detach(s, sess)
		a.log.Info("session ended elsewhere", "socket", s.ID(), "session", sess.id, "reason", err)
		return nil, a.expire(s, sess)
	case err != nil:
		return nil, fmt.Errorf("check token: %w", err)
	}
	return &saved, nil
}

// Connect restores the session of a returning user from the handshake token.
func (a *App) Connect(ctx context.Context, s *events.Socket, auth events.Auth) error {
	if auth.Token == nil || *auth.Token == "" {
		return nil // a first visit
	}
	hash := store.HashToken(*auth.Token)
	sess, expiresAt, err := a.store.SessionByToken(ctx, hash, a.cfg.Now())
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrExpired), errors.Is(err, store.ErrRevoked):
		a.log.Info("reconnect refused", "socket", s.ID(), "reason", err)
		return s.EmitTokenExpired()
	case err != nil:
		return fmt.Errorf("restore session: %w", err)
	}
	a.attach(s, &session{id: sess.ID, username: sess.Username, token: *auth.Token, hash: hash, expiresAt: expiresAt})
	a.log.Info("session restored", "socket", s.ID(), "session", sess.ID)
	return s.EmitReconnected(events.Reconnected{Username: sess.Username, ProfileImage: photo(sess)})
}

func photo(sess store.Session) *string {
	if len(sess.Image) == 0 {
		return nil
	}
	url := imagecheck.DataURL(sess.ImageMIME, sess.Image)
	return &url
}

// SetUsername creates the session, or renames the socket's session keeping its token.
func (a *App) SetUsername(ctx context.Context, s *events.Socket, in events.SetUsername) error {
	if !visibleName(in.Username) {
		return &runtime.Error{Code: runtime.CodeInvalidPayload, Message: "needs a visible letter or digit", Path: "username"}
	}
	now := a.cfg.Now()
	sess := sessionOf(s)
	if sess != nil {
		kept, err := a.rename(ctx, s, sess, in.Username, now)
		if err != nil {
			return err
		}
		if !kept {
			sess = nil // logged out elsewhere, or deleted by the cleanup job: a new user
		}
	}
	for {
		if sess == nil {
			var err error
			if sess, err = a.newSession(ctx, s, in.Username, now); err != nil {
				return err
			}
		}
		sess.username = in.Username
		a.attach(s, sess) // listed first, so that a revocation from now on finds the socket
		sess.tell.Lock()
		if !sess.revoked.Load() {
			break // sess.tell held until the token is sent
		}
		// A logout on this node between the check and now, which told the
		// socket token-expired: it continues as a new user.
		sess.tell.Unlock()
		a.detach(s, sess)
		sess = nil
	}
	err := s.EmitUsernameSaved(events.UsernameSaved{Token: sess.token, Username: in.Username, ExpiresAt: sess.expiresAt})
	sess.tell.Unlock()
	if err != nil {
		return err
	}
	a.renamed(ctx, sess, in.Username)
	return a.srv.EmitNewUserConnected(events.NewUserConnected{Username: in.Username})
}

// newSession creates a session for username with a new token.
func (a *App) newSession(ctx context.Context, s *events.Socket, username string, now time.Time) (*session, error) {
	token, err := store.NewToken()
	if err != nil {
		return nil, err
	}
	hash := store.HashToken(token)
	expiresAt := now.Add(a.cfg.TokenTTL)
	id, err := a.store.CreateSession(ctx, username, hash, now, expiresAt)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	a.log.Info("session created", "socket", s.ID(), "session", id)
	return &session{id: id, token: token, hash: hash, expiresAt: expiresAt.Truncate(time.Millisecond)}, nil
}

// rename renames the socket's session, keeping its token, and reports whether
// the session is still the socket's. The token is checked in the store after
// the rename committed, not before: a logout on another node that commits
// while the rename runs may reach this node only after the token would have
// been sent back, and one check is enough. The token is sent only when the
// store said it was valid after the rename (renaming a session logged out
// meanwhile changes a row no token reaches); a logout committed later is
// relayed to this socket, which then gets token-expired after the token
// (sess.tell orders the two).
func (a *App) rename(ctx context.Context, s *events.Socket, sess *session, username string, now time.Time) (bool, error) {
	if err := a.store.RenameSession(ctx, sess.id, username, now); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return false, fmt.Errorf("rename session: %w", err)
		}
		a.detach(s, sess)
		return false, nil
	}
	saved, err := a.checkToken(ctx, s, sess) // never send a revoked token again
	return saved != nil, err
}

// renamed shows the session's new username in the chat rooms of its sockets on
// this node (those of another node show it when they join a room again).
func (a *App) renamed(ctx context.Context, sess *session, username string) {
	a.mu.Lock()
	var sockets []*events.Socket
	for sock := range a.live[sess.id] {
		sockets = append(sockets, sock)
	}
	a.mu.Unlock()
	for _, sock := range sockets {
		if err := sock.UpdateChat(ctx, events.ChatPresence{Username: username}); err != nil {
			a.log.Warn("presence not updated after a rename", "socket", sock.ID(), "err", err)
		}
	}
}

// visibleName reports whether name has a letter or digit one can see and
// nothing one cannot. The schema's pattern admits names made only of
// combining marks or punctuation ("._-"), and letters and marks that render
// as nothing: the Hangul fillers (category Lo), the combining grapheme
// joiner, variation selectors. Other users could not tell "Alice" from
// "Alice" plus a filler, so, as PRECIS does (RFC 8264: default-ignorable code
// points are disallowed), a name with any of them is refused, and one without
// a letter or digit too. (Unicode normalization, so that look-alike spellings
// compare equal, belongs to the schema language: normalize: nfc.)
func visibleName(name string) bool {
	visible := false
	for _, r := range name {
		if unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) {
			return false
		}
		visible = visible || unicode.IsLetter(r) || unicode.IsNumber(r)
	}
	return visible
}

// UploadProfileImage checks the photo and stores it with the session.
func (a *App) UploadProfileImage(ctx context.Context, s *events.Socket, in events.UploadProfileImage) error {
	sess := sessionOf(s)
	if sess == nil {
		return events.ErrNoSession
	}
	if saved, err := a.checkToken(ctx, s, sess); err != nil {
		return err
	} else if saved == nil {
		return events.ErrNoSession
	}
	select {
	case a.checks <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for a photo check: %w", ctx.Err())
	}
	img, err := imagecheck.Check(in.ImageBase64, a.cfg.Image)
	<-a.checks
	if err != nil {
		var bad *imagecheck.Error
		if errors.As(err, &bad) {
			return runtime.NewError(events.CodeInvalidImage, bad.Reason)
		}
		return err
	}
	if err := a.store.SetProfileImage(ctx, sess.id, img.MIME, img.Data, a.cfg.Now()); err != nil {
		return a.lostSession(s, fmt.Errorf("save photo: %w", err))
	}
	return s.EmitProfileImageSaved()
}

// GetProfile answers with the session's username and photo.
func (a *App) GetProfile(ctx context.Context, s *events.Socket) (events.Profile, error) {
	sess := sessionOf(s)
	if sess == nil {
		return events.Profile{}, events.ErrNoSession
	}
	saved, err := a.checkToken(ctx, s, sess) // loads the session through its token
	if err != nil {
		return events.Profile{}, err
	}
	if saved == nil {
		return events.Profile{}, events.ErrNoSession
	}
	return events.Profile{Username: saved.Username, ProfileImage: photo(*saved)}, nil
}

// Logout revokes the session's token; the socket continues as a new user, and
// so does every other socket of the session, on every node, after being told
// token-expired.
func (a *App) Logout(ctx context.Context, s *events.Socket) error {
	sess := sessionOf(s)
	if sess == nil {
		return events.ErrNoSession
	}
	if err := a.store.RevokeToken(ctx, sess.hash, a.cfg.Now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("revoke token: %w", err)
	}
	a.detach(s, sess)
	a.revoked(sess.id, s)
	// Other nodes learn it through the adapter (without one there is no other
	// node). A node that misses it still refuses the
	// token on the session's next use: every use checks it in the store.
	if err := a.rt.ServerSideEmit(events.Namespace, revokedEvent, int64(sess.id)); err != nil {
		a.log.Warn("logout not relayed to the other nodes", "session", sess.id, "err", err)
	}
	return nil
}

// lostSession turns "the session is gone" (deleted by the cleanup job) into
// no-session and forgets it; other errors pass through.
func (a *App) lostSession(s *events.Socket, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		a.detach(s, sessionOf(s))
		return events.ErrNoSession
	}
	return err
}

// JoinRoom adds the socket to a chat room, as a member showing its username:
// it receives chat-presence, the other members chat-presence-diff.
func (a *App) JoinRoom(ctx context.Context, s *events.Socket, in events.JoinRoom) error {
	if !visibleName(in.Room) {
		return &runtime.Error{Code: runtime.CodeInvalidPayload, Message: "needs a visible letter or digit", Path: "room"}
	}
	sess := sessionOf(s)
	if sess == nil {
		return events.ErrNoSession
	}
	return s.JoinChat(ctx, in.Room, events.ChatPresence{Username: sess.username})
}

// LeaveRoom removes the socket from a chat room; the other members see it leave.
func (a *App) LeaveRoom(ctx context.Context, s *events.Socket, in events.LeaveRoom) error {
	if !s.InChat(in.Room) {
		return events.ErrNotInRoom
	}
	return s.LeaveChat(ctx, in.Room)
}

// SendMessage sends a message to every member of the room, the sender included.
func (a *App) SendMessage(ctx context.Context, s *events.Socket, in events.SendMessage) error {
	sess, err := a.member(s, in.Room)
	if err != nil {
		return err
	}
	msg := events.NewMessage{Room: in.Room, Username: sess.username, Text: in.Text, SentAt: a.cfg.Now()}
	return a.srv.Chat(in.Room).EmitNewMessage(msg)
}

// Typing tells the other members of the room that the user is typing.
func (a *App) Typing(ctx context.Context, s *events.Socket, in events.Typing) error {
	sess, err := a.member(s, in.Room)
	if err != nil {
		return err
	}
	return s.Chat(in.Room).Others().EmitUserTyping(events.UserTyping{Room: in.Room, Username: sess.username})
}

func (a *App) member(s *events.Socket, room string) (*session, error) {
	sess := sessionOf(s)
	if sess == nil {
		return nil, events.ErrNoSession
	}
	if !s.InChat(room) {
		return nil, events.ErrNotInRoom
	}
	return sess, nil
}

// Disconnect forgets the socket; the session lives in the store.
func (a *App) Disconnect(s *events.Socket, reason string) { a.detach(s, sessionOf(s)) }

// RunCleanup deletes expired tokens every CleanupInterval until ctx ends.
func (a *App) RunCleanup(ctx context.Context) {
	t := time.NewTicker(a.cfg.CleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.Cleanup(ctx)
		}
	}
}

// Cleanup deletes the tokens expired now and logs how many it removed.
func (a *App) Cleanup(ctx context.Context) (int64, error) {
	n, err := a.store.DeleteExpired(ctx, a.cfg.Now())
	if err != nil {
		a.log.Error("token cleanup failed", "err", err)
		return 0, err
	}
	a.log.Info("expired tokens deleted", "count", n)
	if m, err := a.store.DeleteExpiredIdempotency(ctx, a.cfg.Now()); err != nil {
		a.log.Error("idempotency cleanup failed", "err", err)
	} else if m > 0 {
		a.log.Info("expired idempotency records deleted", "count", m)
	}
	return n, nil
}
