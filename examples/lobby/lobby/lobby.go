// Package lobby is the game lobby of the example: players connect with a name,
// join a lobby, pick a team, ready up and chat; once every player of a lobby is
// ready, with both teams filled, the lobby is told the game is starting.
//
// It is written only against the API generated from ../schema.yaml (package
// events): App implements events.Handler, so a schema change the handlers do
// not follow breaks the build. Its state lives in memory, behind one mutex.
package lobby

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/karl-app/karl/runtime"

	"github.com/karl-app/karl/examples/lobby/events"
)

// The schema's maxItems: a lobby's players (Lobby.players) and a team's (TeamRoster.players).
const (
	MaxPlayers  = 8
	MaxTeamSize = 4
)

// teams lists the teams in the order replies show them.
var teams = []events.Team{events.TeamRed, events.TeamBlue}

// reservedNames are refused at the handshake with reserved-name, in any case.
var reservedNames = []string{"admin", "server", "system"}

// App handles the lobby's events.
type App struct {
	log *slog.Logger
	now func() time.Time
	srv *events.Server

	// mu guards names, lobbies and every player's lobby field. Emits about a lobby
	// are made with mu held, so that its members see changes in the order they happened.
	mu      sync.Mutex
	names   map[string]bool // the connected players' names, folded to lower case
	lobbies map[string]*lobby
}

var _ events.Handler = (*App)(nil)

// New returns the app; now is the clock (nil: time.Now). Call Register to serve it.
func New(log *slog.Logger, now func() time.Time) *App {
	if now == nil {
		now = time.Now
	}
	return &App{log: log, now: now, names: map[string]bool{}, lobbies: map[string]*lobby{}}
}

// Register serves the app on rt.
func (a *App) Register(rt *runtime.Server) { a.srv = events.Register(rt, a) }

// player is what a socket knows about its player (the socket's data). Other
// players' handlers read it too, so every field but name is guarded by App.mu.
type player struct {
	name     string
	lobby    *lobby       // nil outside a lobby
	team     *events.Team // nil until picked; replaced, never written through
	ready    bool
	joinedAt time.Time
}

// lobby is one lobby; it exists while it has players.
type lobby struct {
	id      string
	players []*player // in the order they joined; the first is the host
}

func playerOf(s *events.Socket) *player {
	p, _ := s.Data().(*player)
	return p
}

// Connect claims the player's name for this connection; Disconnect frees it.
// Known gap: a client that hangs up while Connect runs keeps its name, because the
// runtime then never calls Disconnect (TestNameFreedWhenClientLeavesDuringConnect).
func (a *App) Connect(ctx context.Context, s *events.Socket, auth events.Auth) error {
	key := strings.ToLower(auth.PlayerName)
	if slices.Contains(reservedNames, key) {
		return events.ErrReservedName
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.names[key] {
		return events.ErrNameTaken
	}
	a.names[key] = true
	s.SetData(&player{name: auth.PlayerName})
	a.log.Info("player connected", "socket", s.ID(), "player", auth.PlayerName, "clientVersion", deref(auth.ClientVersion))
	return nil
}

// Disconnect frees the player's name and takes them out of their lobby.
func (a *App) Disconnect(s *events.Socket, reason string) {
	p := playerOf(s)
	if p == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.names, strings.ToLower(p.name))
	if p.lobby == nil {
		return
	}
	if err := a.leave(p); err != nil {
		a.log.Error("tell the lobby a player left", "socket", s.ID(), "err", err)
	}
}

// JoinLobby adds the player to a lobby, creating it, and answers with its state.
func (a *App) JoinLobby(ctx context.Context, s *events.Socket, in events.JoinLobby) (events.Lobby, error) {
	p := playerOf(s)
	a.mu.Lock()
	defer a.mu.Unlock()
	if p.lobby != nil {
		return events.Lobby{}, events.ErrAlreadyInLobby
	}
	l := a.lobbies[in.Lobby]
	if l == nil {
		l = &lobby{id: in.Lobby}
		a.lobbies[in.Lobby] = l
	}
	if len(l.players) >= MaxPlayers {
		return events.Lobby{}, events.ErrLobbyFull
	}
	p.lobby, p.team, p.ready, p.joinedAt = l, nil, false, a.now()
	l.players = append(l.players, p)
	if err := s.JoinLobby(ctx, l.id); err != nil {
		return events.Lobby{}, err
	}
	if err := s.Lobby(l.id).Others().EmitPlayerJoined(events.PlayerJoined{Lobby: l.id, Player: p.view()}); err != nil {
		return events.Lobby{}, err
	}
	return l.view(), nil
}

// LeaveLobby takes the player out of their lobby.
func (a *App) LeaveLobby(ctx context.Context, s *events.Socket) error {
	p := playerOf(s)
	a.mu.Lock()
	defer a.mu.Unlock()
	if p.lobby == nil {
		return events.ErrNotInLobby
	}
	if err := s.LeaveLobby(ctx, p.lobby.id); err != nil {
		return err
	}
	return a.leave(p)
}

// leave removes p from its lobby, deleting the lobby when it empties, and tells
// the members left. The caller holds a.mu.
func (a *App) leave(p *player) error {
	l := p.lobby
	l.players = slices.DeleteFunc(l.players, func(q *player) bool { return q == p })
	p.lobby, p.team, p.ready = nil, nil, false
	if len(l.players) == 0 {
		delete(a.lobbies, l.id)
		return nil
	}
	return a.srv.Lobby(l.id).EmitPlayerLeft(events.PlayerLeft{Lobby: l.id, Name: p.name, Host: l.host()})
}

// PickTeam puts the player on a team; picking resets their ready flag.
func (a *App) PickTeam(ctx context.Context, s *events.Socket, in events.PickTeam) error {
	p := playerOf(s)
	a.mu.Lock()
	defer a.mu.Unlock()
	l := p.lobby
	if l == nil {
		return events.ErrNotInLobby
	}
	if !p.on(in.Team) && len(l.members(in.Team)) >= MaxTeamSize {
		return events.ErrTeamFull
	}
	team := in.Team
	p.team, p.ready = &team, false
	return a.srv.Lobby(l.id).EmitTeamPicked(events.TeamPicked{Lobby: l.id, Name: p.name, Team: team})
}

// SetReady records whether the player is ready, and announces the game when the
// lobby becomes ready to start.
func (a *App) SetReady(ctx context.Context, s *events.Socket, in events.SetReady) error {
	p := playerOf(s)
	a.mu.Lock()
	defer a.mu.Unlock()
	l := p.lobby
	if l == nil {
		return events.ErrNotInLobby
	}
	if p.team == nil {
		return events.ErrNoTeam
	}
	wasStarting := l.status() == events.LobbyStatusStarting
	p.ready = in.Ready
	room := a.srv.Lobby(l.id)
	if err := room.EmitPlayerReady(events.PlayerReady{Lobby: l.id, Name: p.name, Ready: p.ready}); err != nil {
		return err
	}
	if wasStarting || l.status() != events.LobbyStatusStarting {
		return nil
	}
	a.log.Info("game starting", "lobby", l.id, "players", len(l.players))
	return room.EmitGameStarting(events.GameStarting{Lobby: l.id, Teams: l.rosters()})
}

// Chat says the text to the player's lobby, the player included.
func (a *App) Chat(ctx context.Context, s *events.Socket, in events.Chat) error {
	p := playerOf(s)
	a.mu.Lock()
	defer a.mu.Unlock()
	if p.lobby == nil {
		return events.ErrNotInLobby
	}
	msg := events.ChatMessage{Lobby: p.lobby.id, From: p.name, Team: p.team, Text: in.Text, SentAt: a.now()}
	return a.srv.Lobby(p.lobby.id).EmitChatMessage(msg)
}

// GetLobby answers with a lobby's state: the named one, or the player's own.
func (a *App) GetLobby(ctx context.Context, s *events.Socket, in events.GetLobby) (events.Lobby, error) {
	p := playerOf(s)
	a.mu.Lock()
	defer a.mu.Unlock()
	if in.Lobby == nil {
		if p.lobby == nil {
			return events.Lobby{}, events.ErrNotInLobby
		}
		return p.lobby.view(), nil
	}
	l := a.lobbies[*in.Lobby]
	if l == nil {
		return events.Lobby{}, events.ErrUnknownLobby
	}
	return l.view(), nil
}

// on reports whether p plays on team t.
func (p *player) on(t events.Team) bool { return p.team != nil && *p.team == t }

// view is p as the schema shows it.
func (p *player) view() events.Player {
	return events.Player{Name: p.name, Team: p.team, Ready: p.ready, JoinedAt: p.joinedAt}
}

// members returns the names of the players on team t, in join order.
func (l *lobby) members(t events.Team) []string {
	names := []string{}
	for _, p := range l.players {
		if p.on(t) {
			names = append(names, p.name)
		}
	}
	return names
}

// rosters returns every team with its members, in the order of teams.
func (l *lobby) rosters() []events.TeamRoster {
	out := make([]events.TeamRoster, 0, len(teams))
	for _, t := range teams {
		out = append(out, events.TeamRoster{Team: t, Players: l.members(t)})
	}
	return out
}

// status is "starting" when every player is ready on a team and no team is empty.
func (l *lobby) status() events.LobbyStatus {
	for _, p := range l.players {
		if p.team == nil || !p.ready {
			return events.LobbyStatusWaiting
		}
	}
	for _, t := range teams {
		if len(l.members(t)) == 0 {
			return events.LobbyStatusWaiting
		}
	}
	return events.LobbyStatusStarting
}

// host is the name of the player who has been in the lobby longest.
func (l *lobby) host() *string {
	if len(l.players) == 0 {
		return nil
	}
	return &l.players[0].name
}

// view is l as the schema shows it.
func (l *lobby) view() events.Lobby {
	players := make([]events.Player, 0, len(l.players))
	for _, p := range l.players {
		players = append(players, p.view())
	}
	return events.Lobby{ID: l.id, Status: l.status(), Host: l.host(), Players: players, Teams: l.rosters()}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
