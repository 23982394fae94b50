package runtime

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/karl-app/karl/runtime/internal/roomkey"
	"github.com/karl-app/karl/runtime/presence"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// Typed rooms and presence. Generated code joins a socket to the room of a kind
// with JoinKind (the key from impl.RoomKey); for a kind with presence the runtime
// then tracks the socket as a member (Options.Presence), sends the socket
// <kind>-presence with every member, and the other members <kind>-presence-diff
// with the join. Leaving, disconnecting (at once, even while the connection may
// still be recovered) and, on several nodes, a node that stops, send the leave.
//
// Order: the state a socket receives lists every member tracked before it was
// read; a diff sent before the state may reach the socket first, so clients
// keep the diffs that arrive before the state and apply them after it (by
// member id: leaves, then joins). A recovered socket gets a fresh state.

// JoinKind joins the socket to the typed room key of kind. With shows (nil for
// a kind without presence), the socket becomes a member showing it, and
// params (the room's parameters) go into the presence events. Joining a room
// the socket is a member of already updates its presence.
func (s *Socket) JoinKind(ctx context.Context, kind, key string, params, shows Message) error {
	s.lib().Join(socket.Room(key))
	if shows == nil {
		return nil
	}
	s.mu.Lock()
	prev, again := s.presence[key]
	s.mu.Unlock()
	id := prev.ID
	if !again {
		id = newMemberID()
	}
	m := s.srv.member(kind, key, id, params, shows)
	if again {
		m.Joined = prev.Joined // an update keeps its place in the list
	}
	if err := s.track(ctx, m, false); err != nil {
		if !again {
			s.lib().Leave(socket.Room(key)) // nothing half-done: not a member, not in the room
		}
		return err
	}
	if err := s.sendState(ctx, m); err != nil {
		return err
	}
	var leaves []presence.Member
	if again {
		leaves = []presence.Member{prev}
	}
	return s.srv.sendDiff(s, m, []presence.Member{m}, leaves)
}

// track stores m in the presence store, then as the socket's membership of its
// room (unless update is set and the socket left it meanwhile) and as one of
// this node's members (which each heartbeat writes again).
func (s *Socket) track(ctx context.Context, m presence.Member, update bool) error {
	if err := s.srv.opts.Presence.Track(ctx, m); err != nil {
		return err
	}
	s.mu.Lock()
	if s.presence == nil {
		s.presence = map[string]presence.Member{}
	}
	if _, still := s.presence[m.Key]; still || !update {
		s.presence[m.Key] = m
	}
	s.mu.Unlock()
	s.srv.local.Store(localKey(m.Key, m.ID), m)
	return nil
}

// sendDiff sends m's room <kind>-presence-diff with joins and leaves: to the
// members but from when from is set (its own join), to every member otherwise.
func (s *Server) sendDiff(from *Socket, m presence.Member, joins, leaves []presence.Member) error {
	event, diff := m.Kind+"-presence-diff", diffMessage(m.Params, joins, leaves)
	if from != nil {
		return from.broadcast(event, diff, []string{m.Key}, false)
	}
	return s.emitRooms(s.nspOf(m), []string{m.Key}, event, diff, false)
}

// UpdateKind changes what the socket shows in every room of kind it is a member
// of (ids and places kept): the other members of each receive the old entry as
// a leave and the new one as a join, as for a join again.
func (s *Socket) UpdateKind(ctx context.Context, kind string, shows Message) error {
	var errs []error
	ms := s.memberships(kind)
	for _, prev := range ms {
		m := s.srv.member(kind, prev.Key, prev.ID, rawMessage(prev.Params), shows)
		m.Joined = prev.Joined
		if err := s.track(ctx, m, true); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, s.srv.sendDiff(nil, m, []presence.Member{m}, []presence.Member{prev}))
	}
	return errors.Join(errs...)
}

// LeaveKind takes the socket out of the typed room key; a member's leave is sent
// to the other members.
func (s *Socket) LeaveKind(ctx context.Context, key string) error {
	s.lib().Leave(socket.Room(key))
	s.mu.Lock()
	m, ok := s.presence[key]
	delete(s.presence, key)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	return s.srv.untrack(ctx, m)
}

// memberships returns the socket's memberships of kind, or all of them for "".
func (s *Socket) memberships(kind string) []presence.Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := make([]presence.Member, 0, len(s.presence))
	for _, m := range s.presence {
		if kind == "" || m.Kind == kind {
			ms = append(ms, m)
		}
	}
	return ms
}

// sendState sends the socket the members of m's room.
func (s *Socket) sendState(ctx context.Context, m presence.Member) error {
	members, err := s.srv.opts.Presence.List(ctx, m.Key)
	if err != nil {
		return err
	}
	return s.Emit(m.Kind+"-presence", stateMessage(m.Params, m.ID, members))
}

// endPresence untracks every membership of a socket that disconnected; the
// memberships stay on the socket, for a recovery to restore.
func (s *Server) endPresence(rs *Socket) {
	ms := rs.memberships("")
	if len(ms) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.EventTimeout)
	defer cancel()
	for _, m := range ms {
		if err := s.untrack(ctx, m); err != nil {
			s.log.Warn("presence: leave failed", "socket", rs.ID(), "kind", m.Kind, "err", err)
		}
	}
}

// restorePresence tracks again the memberships of a recovered socket, with their
// ids, tells the other members, and sends the socket a fresh state of each room.
func (s *Server) restorePresence(rs *Socket) {
	ms := rs.memberships("")
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.EventTimeout)
	defer cancel()
	for _, m := range ms {
		err := rs.track(ctx, m, false)
		if err == nil {
			err = rs.sendState(ctx, m)
		}
		if err == nil {
			err = s.sendDiff(rs, m, []presence.Member{m}, nil)
		}
		if err != nil {
			s.log.Warn("presence: restore after recovery failed", "socket", rs.ID(), "kind", m.Kind, "err", err)
		}
	}
}

// untrack removes a member and sends its leave to its room.
// A store that cannot untrack now (Redis down) gets the removal again at each
// heartbeat until it takes it; the leave is sent at once regardless.
func (s *Server) untrack(ctx context.Context, m presence.Member) error {
	s.local.Delete(localKey(m.Key, m.ID))
	err := s.opts.Presence.Untrack(ctx, m.Key, m.ID)
	if err != nil {
		s.untracks.Store(localKey(m.Key, m.ID), m)
	}
	return errors.Join(err, s.sendDiff(nil, m, nil, []presence.Member{m}))
}

// retryUntracks gives the store the removals it failed to take.
func (s *Server) retryUntracks(ctx context.Context) {
	s.untracks.Range(func(k, v any) bool {
		m := v.(presence.Member)
		if _, back := s.local.Load(k); back { // tracked again meanwhile (a recovery)
			s.untracks.Delete(k)
		} else if s.opts.Presence.Untrack(ctx, m.Key, m.ID) == nil {
			s.untracks.Delete(k)
		}
		return true
	})
}

// Members returns the members of the typed room key, as the clients see them
// ({"id": ..., presence fields}), in the order they joined.
func (s *Server) Members(ctx context.Context, key string) ([]json.RawMessage, error) {
	members, err := s.opts.Presence.List(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(members))
	for i, m := range members {
		out[i] = m.Data
	}
	return out, nil
}

// heartbeat runs while the server does when the presence store is shared by
// several nodes: it beats every PresenceHeartbeat and sends the leaves of the
// members of nodes that stopped.
func (s *Server) heartbeat(hb presence.Heartbeater) {
	t := time.NewTicker(s.opts.PresenceHeartbeat)
	defer t.Stop()
	for {
		var local []presence.Member
		s.local.Range(func(_, v any) bool {
			local = append(local, v.(presence.Member))
			return true
		})
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.PresenceHeartbeat)
		s.retryUntracks(ctx)
		removed, err := hb.Heartbeat(ctx, s.node, local)
		for _, m := range local { // left while the beat wrote it again: remove it again
			if _, ok := s.local.Load(localKey(m.Key, m.ID)); !ok {
				if hb.Untrack(ctx, m.Key, m.ID) != nil {
					s.untracks.Store(localKey(m.Key, m.ID), m)
				}
			}
		}
		cancel()
		if err != nil {
			s.sampled.log(s.log, slog.LevelWarn, "presence-heartbeat", "presence: heartbeat failed", "err", err)
		}
		for _, m := range removed {
			if err := s.sendDiff(nil, m, nil, []presence.Member{m}); err != nil {
				s.log.Warn("presence: leave of a stopped node failed", "kind", m.Kind, "err", err)
			}
		}
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) member(kind, key, id string, params, p Message) presence.Member {
	data := p.AppendJSON(nil)
	b := append(append([]byte(`{"id":"`), id...), '"') // base64url: nothing to escape
	if len(data) > 2 {                                 // {"username":"Ann"} -> ,"username":"Ann"}
		b = append(append(b, ','), data[1:]...)
	} else {
		b = append(b, '}')
	}
	return presence.Member{Key: key, ID: id, Node: s.node, Kind: kind, Params: params.AppendJSON(nil), Data: b, Joined: time.Now()}
}

// nspOf returns the namespace of a member's room: the namespace of the service
// that declares its kind.
func (s *Server) nspOf(m presence.Member) string {
	if ns, ok := s.kinds.Load(m.Kind); ok {
		return ns.(string)
	}
	return "/"
}

func localKey(key, id string) string { return key + "\x00" + id }

func newMemberID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// rawMessage is a payload already encoded.
type rawMessage []byte

func (r rawMessage) AppendJSON(b []byte) []byte { return append(b, r...) }

// stateMessage is <kind>-presence: the parameters, "self" and "members".
func stateMessage(params json.RawMessage, self string, members []presence.Member) Message {
	b := openObject(params)
	b = append(append(append(b, `"self":"`...), self...), `",`...) // base64url: nothing to escape
	b = appendMembers(append(b, `"members":`...), members)
	return rawMessage(append(b, '}'))
}

// diffMessage is <kind>-presence-diff: the parameters, "joins" and "leaves".
func diffMessage(params json.RawMessage, joins, leaves []presence.Member) Message {
	b := openObject(params)
	b = appendMembers(append(b, `"joins":`...), joins)
	b = appendMembers(append(b, `,"leaves":`...), leaves)
	return rawMessage(append(b, '}'))
}

// openObject returns the object params without its closing brace, followed by a
// comma when it has members: {"room":"lobby", or {.
func openObject(params json.RawMessage) []byte {
	if len(params) <= 2 {
		return []byte{'{'}
	}
	b := append([]byte(nil), params[:len(params)-1]...)
	return append(b, ',')
}

func appendMembers(b []byte, ms []presence.Member) []byte {
	b = append(b, '[')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m.Data...)
	}
	return append(b, ']')
}

// EmitTyped sends an event to the members of the typed room key (generated
// ChatRoom emitters), on every node.
func (s *Server) EmitTyped(namespace, key, event string, m Message, volatile bool) error {
	return s.emitRooms(namespace, []string{key}, event, m, volatile)
}

// BroadcastTyped sends an event to the members of the typed room key but the
// socket (generated ChatOthers emitters).
func (s *Socket) BroadcastTyped(key, event string, m Message, volatile bool) error {
	return s.broadcast(event, m, []string{key}, volatile)
}

// freeRooms returns rooms without the names in the typed rooms' key space.
func freeRooms(rooms []string) []string {
	if !slices.ContainsFunc(rooms, typedRoom) {
		return rooms
	}
	return slices.DeleteFunc(slices.Clone(rooms), typedRoom)
}

// typedRoom reports a free room name in the typed rooms' key space; Join and
// Leave refuse it, so that only generated code reaches typed rooms.
func typedRoom(room string) bool { return roomkey.Typed(room) }
