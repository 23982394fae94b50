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
	"time"

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
	Now             func() time.Time  // the clock [time.Now]; tests move it across the TTL
}

// DefaultTokenTTL is the lifetime of a reconnect token, as the seed specifies.
const DefaultTokenTTL = 7 * 24 * time.Hour

// App handles the KARL events.
type App struct {
	store store.Store
	cfg   Config
	log   *slog.Logger
	srv   *events.Server
	// checks bounds the photo checks running at once: one costs up to ~0.2 s of
	// CPU and ~32 MiB, so a burst of uploads must queue rather than exhaust memory.
	checks chan struct{}
}

var _ events.Handler = (*App)(nil)

// New returns the app; call Register to serve it.
func New(st store.Store, cfg Config, log *slog.Logger) *App {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.CleanupInterval <= 0 {
		cfg.CleanupInterval = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &App{store: st, cfg: cfg, log: log, checks: make(chan struct{}, 2*goruntime.GOMAXPROCS(0))}
}

// Register serves the app on rt.
func (a *App) Register(rt *runtime.Server) { a.srv = events.Register(rt, a) }

// session is what a socket knows about its user. Only the socket's own handlers
// touch it, one at a time (the runtime runs a socket's events in order).
type session struct {
	id        store.SessionID
	username  string
	token     string // kept in memory to answer a rename with the same token; never stored or logged
	hash      store.TokenHash
	expiresAt time.Time
}

func sessionOf(s *events.Socket) *session {
	sess, _ := s.Data().(*session)
	return sess
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
	s.SetData(&session{id: sess.ID, username: sess.Username, token: *auth.Token, hash: hash, expiresAt: expiresAt})
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
	now := a.cfg.Now()
	sess := sessionOf(s)
	if sess != nil {
		if err := a.store.RenameSession(ctx, sess.id, in.Username, now); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("rename session: %w", err)
			}
			sess = nil // deleted by the cleanup job meanwhile: start a new one
		}
	}
	if sess == nil {
		token, err := store.NewToken()
		if err != nil {
			return err
		}
		hash := store.HashToken(token)
		expiresAt := now.Add(a.cfg.TokenTTL)
		id, err := a.store.CreateSession(ctx, in.Username, hash, now, expiresAt)
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		sess = &session{id: id, token: token, hash: hash, expiresAt: expiresAt.Truncate(time.Millisecond)}
		a.log.Info("session created", "socket", s.ID(), "session", id)
	}
	sess.username = in.Username
	s.SetData(sess)
	if err := s.EmitUsernameSaved(events.UsernameSaved{Token: sess.token, Username: in.Username, ExpiresAt: sess.expiresAt}); err != nil {
		return err
	}
	return a.srv.EmitNewUserConnected(events.NewUserConnected{Username: in.Username})
}

// UploadProfileImage checks the photo and stores it with the session.
func (a *App) UploadProfileImage(ctx context.Context, s *events.Socket, in events.UploadProfileImage) error {
	sess := sessionOf(s)
	if sess == nil {
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
	saved, err := a.store.Session(ctx, sess.id)
	if err != nil {
		return events.Profile{}, a.lostSession(s, fmt.Errorf("load session: %w", err))
	}
	return events.Profile{Username: saved.Username, ProfileImage: photo(saved)}, nil
}

// Logout revokes the session's token; the socket continues as a new user.
func (a *App) Logout(ctx context.Context, s *events.Socket) error {
	sess := sessionOf(s)
	if sess == nil {
		return events.ErrNoSession
	}
	if err := a.store.RevokeToken(ctx, sess.hash, a.cfg.Now()); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("revoke token: %w", err)
	}
	s.SetData(nil)
	return nil
}

// lostSession turns "the session is gone" (deleted by the cleanup job) into
// no-session and forgets it; other errors pass through.
func (a *App) lostSession(s *events.Socket, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		s.SetData(nil)
		return events.ErrNoSession
	}
	return err
}

// JoinRoom adds the socket to a room.
func (a *App) JoinRoom(ctx context.Context, s *events.Socket, in events.JoinRoom) error {
	if sessionOf(s) == nil {
		return events.ErrNoSession
	}
	s.Join(in.Room)
	return nil
}

// LeaveRoom removes the socket from a room.
func (a *App) LeaveRoom(ctx context.Context, s *events.Socket, in events.LeaveRoom) error {
	if !s.InRoom(in.Room) {
		return events.ErrNotInRoom
	}
	s.Leave(in.Room)
	return nil
}

// SendMessage sends a message to every member of the room, the sender included.
func (a *App) SendMessage(ctx context.Context, s *events.Socket, in events.SendMessage) error {
	sess, err := a.member(s, in.Room)
	if err != nil {
		return err
	}
	msg := events.NewMessage{Room: in.Room, Username: sess.username, Text: in.Text, SentAt: a.cfg.Now()}
	return a.srv.ToRoom(in.Room).EmitNewMessage(msg)
}

// Typing tells the other members of the room that the user is typing.
func (a *App) Typing(ctx context.Context, s *events.Socket, in events.Typing) error {
	sess, err := a.member(s, in.Room)
	if err != nil {
		return err
	}
	return s.Others(in.Room).EmitUserTyping(events.UserTyping{Room: in.Room, Username: sess.username})
}

func (a *App) member(s *events.Socket, room string) (*session, error) {
	sess := sessionOf(s)
	if sess == nil {
		return nil, events.ErrNoSession
	}
	if !s.InRoom(room) {
		return nil, events.ErrNotInRoom
	}
	return sess, nil
}

// Disconnect has nothing to clean: the session lives in the store.
func (a *App) Disconnect(s *events.Socket, reason string) {}

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
	return n, nil
}
