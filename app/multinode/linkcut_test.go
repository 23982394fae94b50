package multinode_test

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/karl-app/karl/internal/testdb"
)

// tcpProxy forwards to target until cut: then it closes every connection and
// refuses new ones (the link from one node to Redis breaks while Redis, and
// the other node's link, stay up), until mend.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func startTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cutLink() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.cut {
				p.mu.Unlock()
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns[c], p.conns[u] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

func (p *tcpProxy) url() string { return "redis://" + p.ln.Addr().String() }

func (p *tcpProxy) cutLink() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *tcpProxy) mend() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// TestRedisLinkCut: node A loses its link to Redis while Redis and node B stay
// up. A keeps answering and tells its own sockets; B keeps serving its own and
// misses A's broadcasts; once the link is back, broadcasts cross both ways again.
func TestRedisLinkCut(t *testing.T) {
	t.Run("pubsub", func(t *testing.T) { testRedisLinkCut(t, false) })
	t.Run("streams", func(t *testing.T) { testRedisLinkCut(t, true) })
}

func testRedisLinkCut(t *testing.T, recovery bool) {
	db := testdb.NewDatabase(t)
	rds := testdb.NewRedis(t)
	link := startTCPProxy(t, rds.Addr())
	a := startNode(t, db, link.url(), recovery)
	b := startNode(t, db, rds.URL(), recovery)
	ann, bob := user(t, a, "Ann"), user(t, b, "Bob")
	annToo, bobToo := user(t, a, "Ann2"), user(t, b, "Bob2")
	drain(ann, bob, annToo, bobToo)

	link.cutLink()
	start := time.Now()
	wantAck(t, ann, "set-username", map[string]any{"username": "Ann cut off"})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("set-username took %s on the node cut from Redis", d)
	}
	wantAck(t, bob, "set-username", map[string]any{"username": "Bob as usual"})
	wantEvents(t,
		expect{annToo, map[string][]string{"new-user-connected": {`{"username":"Ann cut off"}`}}},
		expect{bobToo, map[string][]string{"new-user-connected": {`{"username":"Bob as usual"}`}}},
	)
	drain(ann, bob, annToo, bobToo)

	link.mend()
	mended := time.Now()
	for {
		wantAck(t, ann, "set-username", map[string]any{"username": "Ann back"})
		if _, err := bob.Wait("new-user-connected", 200*time.Millisecond); err == nil {
			break
		}
		if time.Since(mended) > 15*time.Second {
			t.Fatalf("A's broadcasts still do not reach B %s after the link came back", time.Since(mended))
		}
	}
	for {
		wantAck(t, bob, "set-username", map[string]any{"username": "Bob back"})
		if _, err := ann.Wait("new-user-connected", 200*time.Millisecond); err == nil {
			break
		}
		if time.Since(mended) > 15*time.Second {
			t.Fatalf("B's broadcasts still do not reach A %s after the link came back", time.Since(mended))
		}
	}
	t.Logf("broadcasts crossed both ways again %s after the link came back", time.Since(mended).Round(time.Millisecond))
}
