package runtime

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	goruntime "runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/karl-app/karl/runtime/wstransport"
)

// wireParser is Socket.IO's parser with a fast path for the packets the
// runtime sends: events and acks whose arguments are event names and JSON the
// generated AppendJSON already encoded. The library's encoder passes them to
// json.Marshal, whose reflection over []any costs more than the rest of an
// echo's encoding and, on the fresh goroutine of the library's task queue,
// most of its stack growth (see docs/BENCHMARKS.md). Anything else (CONNECT,
// binary, values from other code) goes to the library's encoder.
type wireParser struct{ parser.Parser }

func newWireParser() parser.Parser { return wireParser{parser.NewParser()} }

func (p wireParser) NewEncoder() parser.Encoder { return wireEncoder{fallback: p.Parser.NewEncoder()} }

type wireEncoder struct{ fallback parser.Encoder }

func (e wireEncoder) Encode(p *parser.Packet) []types.BufferInterface {
	if p.Type != parser.EVENT && p.Type != parser.ACK {
		return e.fallback.Encode(p)
	}
	args, ok := p.Data.([]any)
	if !ok {
		return e.fallback.Encode(p)
	}
	b := make([]byte, 0, 64)
	b = append(b, byte(p.Type)+'0')
	if p.Nsp != "" && p.Nsp != "/" {
		b = append(append(b, p.Nsp...), ',')
	}
	if p.Id != nil {
		b = strconv.AppendUint(b, *p.Id, 10)
	}
	b = append(b, '[')
	for i, a := range args {
		if i > 0 {
			b = append(b, ',')
		}
		switch v := a.(type) {
		case string:
			b = appendString(b, v)
		case json.RawMessage: // the runtime's own AppendJSON output: compact and valid
			if len(v) == 0 {
				return e.fallback.Encode(p)
			}
			b = append(b, v...)
		default:
			return e.fallback.Encode(p)
		}
	}
	b = append(b, ']')
	if len(b) > types.MaxPayloadSize {
		return e.fallback.Encode(p)
	}
	return []types.BufferInterface{types.NewStringBuffer(b)}
}

// fanOut sends one event to the sockets of nsp in rooms (every socket when
// rooms is empty) but those in except, encoding the packet once. The
// library's adapter would give each socket its own gorilla PreparedMessage
// built from the shared frame, about 5 KB of garbage per recipient (see
// docs/BENCHMARKS.md); writing the encoded packet through each socket's
// client costs one copy. Only for the in-memory adapter: others relay packets.
func fanOut(nsp socket.Namespace, rooms, except []string, event string, m Message, volatile bool) (delivered int) {
	b := []byte{'0' + byte(parser.EVENT)}
	if name := nsp.Name(); name != "/" {
		b = append(append(b, name...), ',')
	}
	b = append(appendString(append(b, '['), event), ',')
	b = append(m.AppendJSON(b), ']')
	encoded := []types.BufferInterface{types.NewStringBuffer(b)}
	opts := &socket.WriteOptions{Volatile: volatile} // volatile: skipped where the transport cannot write now
	nsp.Adapter().FetchSockets(&socket.BroadcastOptions{
		Rooms:  types.NewSet(toRooms(rooms)...),
		Except: types.NewSet(toRooms(except)...),
	})(func(targets []socket.SocketDetails, _ error) {
		delivered = writeAll(targets, encoded, opts)
	})
	return delivered
}

// fanOutChunk is the fewest recipients writeAll gives a goroutine of its own.
const fanOutChunk = 128

// writeAll writes encoded packets to every target and returns how many it
// wrote to. On the runtime's WebSocket transport each recipient is corked
// (wstransport.Cork): its frames are held and written by the transport's
// flusher goroutines, not by the broadcaster, which would otherwise make a
// room's 1,000 system calls in a row on one core. The engine's per-socket
// work (a copy of the packet, its buffer, the frame) remains; from
// 2*fanOutChunk recipients it is split among up to GOMAXPROCS goroutines,
// the caller's one of them, and writeAll returns once every recipient has
// the packet written or held: two broadcasts made one after the other still
// reach each socket in that order.
func writeAll(targets []socket.SocketDetails, encoded []types.BufferInterface, opts *socket.WriteOptions) int {
	write := func(ts []socket.SocketDetails) (n int) {
		var c wstransport.Cork // karl's transport: the system calls are made by its flushers
		for _, t := range ts {
			if sock, ok := t.(*socket.Socket); ok {
				c.Add(sock.Conn().Transport())
				sock.Client().WriteToEngine(encoded, opts)
				n++
			}
		}
		c.Release()
		return n
	}
	workers := min(goruntime.GOMAXPROCS(0), len(targets)/fanOutChunk)
	if workers < 2 {
		return write(targets)
	}
	size := (len(targets) + workers - 1) / workers
	var (
		wg     sync.WaitGroup
		others atomic.Int64
	)
	for i := size; i < len(targets); i += size {
		part := targets[i:min(i+size, len(targets))]
		wg.Go(func() { others.Add(int64(write(part))) })
	}
	n := write(targets[:size])
	wg.Wait()
	return n + int(others.Load())
}

// detachingWriter is the ResponseWriter the library gets for a WebSocket
// upgrade. zishang520 keeps a request's ResponseWriter for the life of the
// connection, and through it net/http's connection with its 4 KB read and
// 4 KB write buffers, which a hijacked connection never uses again (gorilla
// reads and writes with buffers of its own): about 9 KB per idle socket (see
// W5 in docs/BENCHMARKS.md). Once the connection is hijacked, the wrapper
// forgets the response.
type detachingWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter // nil once hijacked
}

func (d *detachingWriter) get() http.ResponseWriter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.w
}

func (d *detachingWriter) Header() http.Header {
	if w := d.get(); w != nil {
		return w.Header()
	}
	return http.Header{}
}

func (d *detachingWriter) Write(b []byte) (int, error) {
	if w := d.get(); w != nil {
		return w.Write(b)
	}
	return 0, http.ErrHijacked
}

func (d *detachingWriter) WriteHeader(code int) {
	if w := d.get(); w != nil {
		w.WriteHeader(code)
	}
}

func (d *detachingWriter) Flush() {
	if f, ok := d.get().(http.Flusher); ok {
		f.Flush()
	}
}

func (d *detachingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := d.get().(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	conn, brw, err := hj.Hijack()
	if err == nil {
		d.mu.Lock()
		d.w = nil
		d.mu.Unlock()
	}
	return conn, brw, err
}
