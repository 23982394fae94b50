package wstransport

import (
	"fmt"
	"io"
	"net"
	"testing"
)

// loopback returns the two ends of a TCP connection, the far one drained.
func loopback(b *testing.B) net.Conn {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

var payload = []byte(`42["new-message",{"room":"r","from":"sender1","text":"hello there"}]`)

// BenchmarkWritePath writes n small Engine.IO packets per op: coalesced as
// this transport does (one batch, one writev) against what the library's
// transport does (gorilla's NextWriter per packet, whose Close is one write each; here
// the same frame and write without gorilla's bookkeeping).
func BenchmarkWritePath(b *testing.B) {
	for _, n := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("coalesced/%d", n), func(b *testing.B) {
			c := loopback(b)
			rw := newRawWriter(c)
			b.ReportAllocs()
			b.SetBytes(int64(n * len(payload)))
			for b.Loop() {
				bt := getBatch()
				for range n {
					bt.add(opText, 0, payload)
				}
				iov := bt.vec()
				w, ok := rw.try(iov)
				if !ok || w != bt.size {
					bt.skip(w)
					v := net.Buffers(bt.vec())
					if _, err := v.WriteTo(c); err != nil {
						b.Fatal(err)
					}
				}
				putBatch(bt)
			}
		})
		b.Run(fmt.Sprintf("per-packet/%d", n), func(b *testing.B) {
			c := loopback(b)
			buf := make([]byte, 0, 1024) // gorilla's write buffer, as the engine sizes it
			b.ReportAllocs()
			b.SetBytes(int64(n * len(payload)))
			for b.Loop() {
				for range n {
					buf = append(appendHeader(buf[:0], opText, len(payload)), payload...)
					if _, err := c.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
