package multinode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/karl-app/karl/runtime/presence"
)

// Presence keys in Redis. A room's members are a hash (member id -> the member
// as JSON, with its node); the set of rooms lets a node find the members of
// nodes that stopped; each node's liveness is a key that expires.
const (
	presenceRoomPrefix = "karl:presence:room:"
	presenceRooms      = "karl:presence:rooms"
	presenceNodePrefix = "karl:presence:node:"
)

// Presence returns the presence store the nodes share through Redis
// (runtime.Options.Presence), for the runtime's heartbeat of every beat:
// a node that misses its beats for 3 beats is dead, its members are left out
// of every list at once and removed (their leaves sent) at the next beat of
// another node: within 4 beats of its last one (20 s with the default 5 s).
// Each node writes its own members again at every beat, so a Redis that lost
// its data (restarted without persistence) is whole again after one beat.
func (r *Redis) Presence(beat time.Duration) presence.Heartbeater {
	if beat <= 0 {
		beat = 5 * time.Second // the runtime's default beat
	}
	return &redisPresence{c: r.pub, ttl: 3 * beat}
}

type redisPresence struct {
	c   *goredis.Client
	ttl time.Duration
}

// stored is a member as the hash keeps it.
type stored struct {
	Node   string          `json:"node"`
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params"`
	Data   json.RawMessage `json:"data"`
	Joined int64           `json:"joined"` // Unix ns
}

func encodeMember(m presence.Member) ([]byte, error) {
	return json.Marshal(stored{Node: m.Node, Kind: m.Kind, Params: m.Params, Data: m.Data, Joined: m.Joined.UnixNano()})
}

func decodeMember(key, id, v string) (presence.Member, error) {
	var s stored
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return presence.Member{}, fmt.Errorf("presence member %q: %w", id, err)
	}
	return presence.Member{Key: key, ID: id, Node: s.Node, Kind: s.Kind, Params: s.Params, Data: s.Data, Joined: time.Unix(0, s.Joined)}, nil
}

// Track implements presence.Store.
func (p *redisPresence) Track(ctx context.Context, m presence.Member) error {
	v, err := encodeMember(m)
	if err != nil {
		return err
	}
	_, err = p.c.TxPipelined(ctx, func(tx goredis.Pipeliner) error {
		tx.HSet(ctx, presenceRoomPrefix+m.Key, m.ID, v)
		tx.SAdd(ctx, presenceRooms, m.Key)
		tx.Set(ctx, presenceNodePrefix+m.Node, 1, p.ttl) // alive from its first member, before its first beat
		return nil
	})
	return err
}

// Untrack implements presence.Store.
func (p *redisPresence) Untrack(ctx context.Context, key, id string) error {
	return p.c.HDel(ctx, presenceRoomPrefix+key, id).Err()
}

// List implements presence.Store: the members of live nodes, in join order.
func (p *redisPresence) List(ctx context.Context, key string) ([]presence.Member, error) {
	all, err := p.members(ctx, key)
	if err != nil {
		return nil, err
	}
	alive, err := p.alive(ctx, all)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(m presence.Member) bool { return !alive[m.Node] }), nil
}

func (p *redisPresence) members(ctx context.Context, key string) ([]presence.Member, error) {
	h, err := p.c.HGetAll(ctx, presenceRoomPrefix+key).Result()
	if err != nil {
		return nil, err
	}
	out := make([]presence.Member, 0, len(h))
	var errs []error
	for id, v := range h {
		m, err := decodeMember(key, id, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b presence.Member) int {
		if c := a.Joined.Compare(b.Joined); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, errors.Join(errs...)
}

// alive reports which of the members' nodes beat within the TTL.
func (p *redisPresence) alive(ctx context.Context, ms []presence.Member) (map[string]bool, error) {
	var nodes []string
	for _, m := range ms {
		if !slices.Contains(nodes, m.Node) {
			nodes = append(nodes, m.Node)
		}
	}
	alive := map[string]bool{}
	if len(nodes) == 0 {
		return alive, nil
	}
	keys := make([]string, len(nodes))
	for i, n := range nodes {
		keys[i] = presenceNodePrefix + n
	}
	vals, err := p.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		alive[nodes[i]] = v != nil
	}
	return alive, nil
}

// Heartbeat implements presence.Heartbeater.
func (p *redisPresence) Heartbeat(ctx context.Context, node string, local []presence.Member) ([]presence.Member, error) {
	_, err := p.c.TxPipelined(ctx, func(tx goredis.Pipeliner) error {
		tx.Set(ctx, presenceNodePrefix+node, 1, p.ttl)
		for _, m := range local {
			v, err := encodeMember(m)
			if err != nil {
				return err
			}
			tx.HSet(ctx, presenceRoomPrefix+m.Key, m.ID, v)
			tx.SAdd(ctx, presenceRooms, m.Key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p.sweep(ctx)
}

// sweep removes the members of dead nodes from every room; a member removed
// by another node at the same time (HDEL answering 0) is not returned.
func (p *redisPresence) sweep(ctx context.Context) ([]presence.Member, error) {
	rooms, err := p.c.SMembers(ctx, presenceRooms).Result()
	if err != nil {
		return nil, err
	}
	var removed []presence.Member
	var errs []error
	for _, key := range rooms {
		all, err := p.members(ctx, key)
		if err != nil {
			errs = append(errs, err)
		}
		if len(all) == 0 {
			// An empty room leaves the set; a Track racing with this adds it back.
			p.c.SRem(ctx, presenceRooms, key)
			continue
		}
		alive, err := p.alive(ctx, all)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, m := range all {
			if alive[m.Node] {
				continue
			}
			n, err := p.c.HDel(ctx, presenceRoomPrefix+key, m.ID).Result()
			switch {
			case err != nil:
				errs = append(errs, err)
			case n == 1:
				removed = append(removed, m)
			}
		}
	}
	return removed, errors.Join(errs...)
}
