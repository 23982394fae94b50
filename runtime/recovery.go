package runtime

import (
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"github.com/zishang520/socket.io/v3/pkg/utils"
)

// A parked socket is one whose connection dropped while RecoveryWindow is
// on: the client may come back within the window with its private session
// id and the offset of the last event it got. The library then builds a new
// socket with the same id, its rooms, and the events it missed; the runtime
// hands that new library socket to the same *Socket (recover), so the
// application keeps its Data and sees neither Disconnect nor Connect. When
// the window ends without the client, Disconnect runs with the reason of the
// drop.
type parkedSocket struct {
	svc    *Service
	rs     *Socket
	reason string
	left   chan struct{} // closed once the socket's presence ended; timer is set then
	timer  *time.Timer
}

// park keeps rs for the recovery window after its connection dropped, from
// now, so that a client back at once finds it; it returns the function to call
// once the socket's presence has ended, which starts the window. Whoever takes
// the parked socket first waits for that (recover would otherwise track again
// the memberships being untracked).
func (s *Server) park(svc *Service, rs *Socket, sock *socket.Socket, reason string) (left func()) {
	id := string(sock.Id())
	p := &parkedSocket{svc: svc, rs: rs, reason: reason, left: make(chan struct{})}
	s.parked.Store(id, p)
	return func() {
		p.timer = time.AfterFunc(s.opts.RecoveryWindow, func() {
			if s.parked.CompareAndDelete(id, p) {
				s.disconnect(svc, rs, reason)
			}
		})
		close(p.left)
		s.log.Debug("connection dropped, socket kept for recovery", "socket", id, "reason", reason, "window", s.opts.RecoveryWindow)
	}
}

// recover gives a recovered library socket the *Socket this node kept for
// it. It reports false when this node holds none (the client dropped from
// another node, or the window ended here): the caller runs Connect then.
func (s *Server) recover(sock *socket.Socket) bool {
	v, ok := s.parked.LoadAndDelete(string(sock.Id()))
	if !ok {
		return false
	}
	p := v.(*parkedSocket)
	<-p.left
	p.timer.Stop()
	p.rs.cur.Store(sock)
	sock.SetData(p.rs)
	s.log.Debug("connection recovered", "socket", p.rs.ID(), "reason", p.reason)
	return true
}

// unparkAll runs Disconnect for every socket still kept, at shutdown.
func (s *Server) unparkAll() {
	s.parked.Range(func(k, v any) bool {
		p := v.(*parkedSocket)
		if s.parked.CompareAndDelete(k, p) {
			<-p.left
			p.timer.Stop()
			s.disconnect(p.svc, p.rs, p.reason)
		}
		return true
	})
}

// sessionAdapterBuilder builds the in-memory adapter used with RecoveryWindow
// and no Adapter: zishang520's session-aware adapter (the sessions of dropped
// sockets, the packets of the window, restored on reconnection), with the
// runtime's delivery. The library's adapter writes a broadcast to each
// recipient as a pre-encoded packet, for which the engine builds a gorilla
// PreparedMessage per recipient: with it a room of 1,000 took 2.8 times the
// CPU per delivery of the runtime's fan-out (see fanOut). The logic below is
// the library's (servers/socket/v3 session-aware-adapter.go, v3.0.6); only the
// write differs.
type sessionAdapterBuilder struct{ window time.Duration }

func (b *sessionAdapterBuilder) New(nsp socket.Namespace) socket.Adapter {
	a := &sessionAdapter{Adapter: socket.MakeAdapter(), window: b.window.Milliseconds(), packets: types.NewSlice[*socket.PersistedPacket]()}
	a.Prototype(a)
	a.Construct(nsp)
	return a
}

type sessionAdapter struct {
	socket.Adapter
	nsp      socket.Namespace
	window   int64 // ms
	sessions types.Map[socket.PrivateSessionId, *socket.SessionWithTimestamp]
	packets  *types.Slice[*socket.PersistedPacket]
	cleanup  *utils.Timer
}

func (a *sessionAdapter) Construct(nsp socket.Namespace) {
	a.Adapter.Construct(nsp)
	a.nsp = nsp
	a.cleanup = utils.SetInterval(func() {
		threshold := time.Now().UnixMilli() - a.window
		a.sessions.Range(func(id socket.PrivateSessionId, s *socket.SessionWithTimestamp) bool {
			if s.DisconnectedAt < threshold {
				a.sessions.Delete(id)
			}
			return true
		})
		_, _ = a.packets.RangeAndSplice(func(p *socket.PersistedPacket, i int) (bool, int, int, []*socket.PersistedPacket) {
			return p.EmittedAt < threshold, 0, i + 1, nil
		}, true)
	}, min(time.Duration(a.window)*time.Millisecond, time.Minute))
	a.cleanup.Unref()
}

func (a *sessionAdapter) Close() {
	utils.ClearInterval(a.cleanup)
	a.Adapter.Close()
}

func (a *sessionAdapter) PersistSession(s *socket.SessionToPersist) {
	a.sessions.Store(s.Pid, &socket.SessionWithTimestamp{SessionToPersist: s, DisconnectedAt: time.Now().UnixMilli()})
}

func (a *sessionAdapter) RestoreSession(pid socket.PrivateSessionId, offset string) (*socket.Session, error) {
	s, ok := a.sessions.Load(pid)
	if !ok {
		return nil, nil
	}
	if s.DisconnectedAt+a.window < time.Now().UnixMilli() {
		a.sessions.Delete(pid)
		return nil, nil
	}
	index := a.packets.FindIndex(func(p *socket.PersistedPacket) bool { return p.Id == offset })
	if index == -1 {
		return nil, nil // too old, or not from this server
	}
	var missed []any
	for i := index + 1; i < a.packets.Len(); i++ {
		p, err := a.packets.Get(i)
		if err != nil {
			break
		}
		if includes(s.Rooms, p.Opts) {
			missed = append(missed, p.Data)
		}
	}
	return &socket.Session{SessionToPersist: s.SessionToPersist, MissedPackets: missed}, nil
}

// Broadcast keeps an event packet without ack for the window, its offset
// appended as the client expects, and writes it to the recipients.
func (a *sessionAdapter) Broadcast(packet *parser.Packet, opts *socket.BroadcastOptions) {
	volatile := opts != nil && opts.Flags != nil && opts.Flags.Volatile
	if packet.Type == parser.EVENT && packet.Id == nil && !volatile {
		id := utils.YeastDate()
		packet.Data = append(utils.TryCast[[]any](packet.Data), id)
		a.packets.Push(&socket.PersistedPacket{Id: id, EmittedAt: time.Now().UnixMilli(), Data: packet.Data, Opts: opts})
	}
	if volatile {
		a.Adapter.Broadcast(packet, opts)
		return
	}
	packet.Nsp = a.nsp.Name()
	encoded := a.nsp.Server().Encoder().Encode(packet)
	write := &socket.WriteOptions{}
	a.Adapter.FetchSockets(opts)(func(targets []socket.SocketDetails, _ error) {
		writeAll(targets, encoded, write)
	})
}

// includes reports whether a packet sent with opts was for a socket in rooms.
func includes(rooms *types.Set[socket.Room], opts *socket.BroadcastOptions) bool {
	if opts == nil {
		return true
	}
	included := opts.Rooms == nil || opts.Rooms.Len() == 0
	for _, r := range rooms.Keys() {
		if opts.Except != nil && opts.Except.Has(r) {
			return false
		}
		if !included && opts.Rooms.Has(r) {
			included = true
		}
	}
	return included
}
