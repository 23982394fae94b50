package runtime

import (
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
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
	timer  *time.Timer
}

// park keeps rs for the recovery window after its connection dropped.
func (s *Server) park(svc *Service, rs *Socket, sock *socket.Socket, reason string) {
	id := string(sock.Id())
	p := &parkedSocket{svc: svc, rs: rs, reason: reason}
	p.timer = time.AfterFunc(s.opts.RecoveryWindow, func() {
		if s.parked.CompareAndDelete(id, p) {
			s.disconnect(svc, rs, reason)
		}
	})
	s.parked.Store(id, p)
	s.log.Debug("connection dropped, socket kept for recovery", "socket", id, "reason", reason, "window", s.opts.RecoveryWindow)
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
			p.timer.Stop()
			s.disconnect(p.svc, p.rs, p.reason)
		}
		return true
	})
}
