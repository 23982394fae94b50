package server_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/karl-app/karl/app/server"
)

// TestCountedConnectionsKeepTheirDescriptor: a connection accepted under
// --max-conns-per-ip must still expose its socket's descriptor and half-close
// (syscall.Conn), or karl's WebSocket transport loses its non-blocking writes
// in karl-server, where the cap is always on, and writes each flush blocking
// on a goroutine of its own.
func TestCountedConnectionsKeepTheirDescriptor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := server.LimitConnsPerIP(ln, 4, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer l.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatalf("%T does not expose its descriptor (syscall.Conn)", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	if err := rc.Control(func(d uintptr) { fd = int(d) }); err != nil || fd < 0 {
		t.Fatalf("descriptor %d, %v", fd, err)
	}
	msg := []byte("written on the descriptor")
	var werr error
	if err := rc.Write(func(d uintptr) bool { _, werr = syscall.Write(int(d), msg); return true }); err != nil || werr != nil {
		t.Fatalf("write on the descriptor: %v %v", err, werr)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != string(msg) {
		t.Fatalf("client read %q, %v", got, err)
	}
	// The half-close wstransport ends with: the client reads EOF, the connection stays open.
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok {
		t.Fatalf("%T cannot half-close (CloseWrite)", c)
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if n, err := client.Read(got); n != 0 || err != io.EOF {
		t.Errorf("after CloseWrite the client read %d bytes, %v; want EOF", n, err)
	}
	if _, err := client.Write([]byte("still open")); err != nil {
		t.Errorf("the other direction closed too: %v", err)
	}
}

// TestHeaderTimeoutCutsASlowHeader: a client that sends half a request line
// and stops is cut after --header-timeout (200 ms here; the 10 s default would
// outlast the test's 3 s wait).
func TestHeaderTimeoutCutsASlowHeader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.NewHTTPServer(http.NotFoundHandler(), server.HTTPTimeouts{Header: 200 * time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /healthz HTT"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("a request whose headers stopped midway was still held after 3 s, with a 200 ms header timeout")
		}
	}
}
