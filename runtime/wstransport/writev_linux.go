//go:build linux

package wstransport

import (
	"net"
	"syscall"
	"unsafe"
)

// rawWriter makes non-blocking writes on a connection's descriptor. One per
// connection, used under the transport's lock; nothing is allocated per
// write.
type rawWriter struct {
	rc   syscall.RawConn // nil: the connection has no descriptor (TLS, a pipe)
	fn   func(uintptr) bool
	iov  [][]byte
	vecs []syscall.Iovec
	n    int
	err  syscall.Errno
}

func newRawWriter(c net.Conn) *rawWriter {
	w := &rawWriter{}
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			w.rc = rc
		}
	}
	w.fn = w.do
	return w
}

// try makes one non-blocking write of iov and reports how many bytes the
// kernel took. ok is false when the connection has no descriptor or the
// attempt failed with something other than EAGAIN; the caller then writes
// through the net.Conn, blocking, on a goroutine of its own.
//
// RawConn.Write holds the descriptor's write lock for the call, so a frame
// that gorilla writes meanwhile (it only writes on a protocol error) goes
// before or after the batch, never inside it.
func (w *rawWriter) try(iov [][]byte) (n int, ok bool) {
	if w.rc == nil || len(iov) == 0 {
		return 0, w.rc != nil
	}
	w.iov, w.n, w.err = iov, 0, 0
	err := w.rc.Write(w.fn)
	w.iov = nil
	clear(w.vecs)
	if cap(w.vecs) > 64 { // a large batch's: not kept by an idle connection
		w.vecs = nil
	}
	if err != nil {
		return 0, false
	}
	if w.err != 0 && w.err != syscall.EAGAIN {
		return w.n, false
	}
	return w.n, true
}

// do runs with the descriptor: it never waits for it to be writable.
func (w *rawWriter) do(fd uintptr) bool {
	for {
		var r uintptr
		var e syscall.Errno
		if len(w.iov) == 1 {
			p := w.iov[0]
			if len(p) == 0 {
				return true
			}
			r, _, e = syscall.Syscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		} else {
			w.vecs = w.vecs[:0]
			for _, p := range w.iov {
				if len(p) == 0 {
					continue
				}
				v := syscall.Iovec{Base: &p[0]}
				v.SetLen(len(p))
				w.vecs = append(w.vecs, v)
				if len(w.vecs) == 1024 { // IOV_MAX: the rest is written by the caller's goroutine
					break
				}
			}
			if len(w.vecs) == 0 {
				return true
			}
			r, _, e = syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.vecs[0])), uintptr(len(w.vecs)))
		}
		if e == syscall.EINTR {
			continue
		}
		if e == 0 {
			w.n = int(r)
		}
		w.err = e
		return true
	}
}
