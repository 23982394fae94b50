// Package presence keeps who is in the rooms of a room kind that declares
// presence: the runtime tracks a member when its socket joins, untracks it when
// the socket leaves or disconnects, and lists a room's members for the state it
// sends a socket that joins (<kind>-presence) and for Members.
//
// A member is one socket in one room: a user with two tabs in the same room is
// two members, each with its own id. Memory keeps the members of one node; a
// Store shared by several nodes (the KARL app's Redis store) also implements
// Heartbeater, so that the members of a node that stopped are removed.
package presence

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"
)

// Member is one socket in one room.
type Member struct {
	Key    string          // the room's key (runtime/impl.RoomKey)
	ID     string          // unique per socket and room; the id the clients see
	Node   string          // the node the socket is connected to
	Kind   string          // the room kind, e.g. "chat": the presence events are named after it
	Params json.RawMessage // the room's parameters as a JSON object, e.g. {"room":"lobby"}
	Data   json.RawMessage // the member as the clients see it: {"id": ..., presence fields}
	Joined time.Time       // when it joined: members are listed in this order
}

// Store keeps the members of rooms. Its methods are safe for concurrent use.
type Store interface {
	// Track adds m to its room, or replaces the member with its id.
	Track(ctx context.Context, m Member) error
	// Untrack removes a member; removing one that is not there is no error.
	Untrack(ctx context.Context, key, id string) error
	// List returns the members of a room, in the order they joined.
	List(ctx context.Context, key string) ([]Member, error)
}

// Heartbeater is a Store shared by several nodes. The runtime calls Heartbeat
// every Options.PresenceHeartbeat with the members this node tracks: the store
// records that the node is alive, writes those members again (a store that lost
// its data, such as a restarted Redis, is whole again after one beat), and
// removes the members of nodes that missed their beats, returning them so that
// the runtime tells their rooms. A member removed by several nodes at once is
// returned to one of them.
type Heartbeater interface {
	Store
	Heartbeat(ctx context.Context, node string, local []Member) (removed []Member, err error)
}

// Memory is the Store of one node.
type Memory struct {
	mu    sync.Mutex
	rooms map[string][]Member
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{rooms: map[string][]Member{}} }

// Track implements Store.
func (m *Memory) Track(_ context.Context, mem Member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	room := m.rooms[mem.Key]
	if i := slices.IndexFunc(room, func(x Member) bool { return x.ID == mem.ID }); i >= 0 {
		room[i] = mem
		return nil
	}
	m.rooms[mem.Key] = append(room, mem)
	return nil
}

// Untrack implements Store.
func (m *Memory) Untrack(_ context.Context, key, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	room := slices.DeleteFunc(m.rooms[key], func(x Member) bool { return x.ID == id })
	if len(room) == 0 {
		delete(m.rooms, key)
	} else {
		m.rooms[key] = room
	}
	return nil
}

// List implements Store.
func (m *Memory) List(_ context.Context, key string) ([]Member, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.rooms[key]), nil
}
