package multinode

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"
	sioadapter "github.com/zishang520/socket.io/adapters/adapter/v3"
	"github.com/zishang520/socket.io/adapters/redis/v3/adapter"
	"github.com/zishang520/socket.io/servers/socket/v3"
)

// channelPrefix is the adapter's default key: its channels are
// "socket.io#<namespace>#" and "socket.io#<namespace>#<room>#".
const channelPrefix = "socket.io"

// adapterBuilder builds the Redis adapter of each namespace and relays what
// that adapter drops.
//
// The adapter publishes a broadcast to one room on the room's channel, and
// any other broadcast (to every socket, or to several rooms) on the
// namespace's channel, "socket.io#/#". v3.0.2 receives the latter through its
// pattern subscription but discards it: onMessage refuses a channel no longer
// than the namespace's own ("ignore channel: shorter than expected"), where
// the JavaScript adapter it ports reads it as "no room". Without the relay,
// new-user-connected never leaves the node that sends it.
//
// The relay subscribes to exactly that channel and hands each packet from
// another node to the adapter as a local broadcast, as the JavaScript adapter
// would. When a fixed adapter delivers these packets itself, sockets on other
// nodes get them twice and TestBroadcastsReachEveryNodeOnce fails: then
// delete the relay.
type adapterBuilder struct {
	r *Redis
}

func (b *adapterBuilder) New(nsp socket.Namespace) socket.Adapter {
	a := adapter.NewRedisAdapter(nsp, b.r.client, adapter.DefaultRedisAdapterOptions())
	go b.r.relay(b.r.ctx, a, nsp.Name())
	return a
}

// relay delivers the packets other nodes publish on the namespace channel of
// nsp to a's local sockets, until ctx ends.
func (r *Redis) relay(ctx context.Context, a adapter.RedisAdapter, nsp string) {
	sub := r.sub.Subscribe(ctx, channelPrefix+"#"+nsp+"#")
	defer sub.Close()
	for {
		msg, err := sub.ReceiveMessage(ctx) // reconnects and resubscribes by itself
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, goredis.ErrClosed) {
				return
			}
			r.errors.report(err) // the subscriber's dialer backs off: no busy loop
			continue
		}
		var p *adapter.Packet
		if err := a.Parser().Decode([]byte(msg.Payload), &p); err != nil || p == nil || p.Packet == nil {
			continue // not a broadcast packet: nothing the adapter would deliver either
		}
		if p.Uid == a.Uid() {
			continue // our own: the adapter delivered it to our sockets when it published
		}
		if p.Packet.Nsp == "" {
			p.Packet.Nsp = "/"
		}
		if p.Packet.Nsp != nsp {
			continue
		}
		opts := sioadapter.DecodeOptions(p.Opts)
		flags := socket.BroadcastFlags{}
		if opts.Flags != nil {
			flags = *opts.Flags
		}
		flags.Local = true // deliver here, publish nothing
		opts.Flags = &flags
		a.Broadcast(p.Packet, opts)
	}
}
