//go:build linux

package wstransport

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// tryWrite makes one non-blocking writev attempt of iov on c and reports how
// many bytes the kernel took. ok is false when c has no file descriptor (TLS)
// or the attempt failed with something other than EAGAIN; the caller then
// writes through c, blocking, on a goroutine of its own.
//
// RawConn.Write holds the descriptor's write lock for the call, so a frame
// that gorilla writes meanwhile (it only writes on a protocol error) goes
// before or after the batch, never inside it.
func tryWrite(c net.Conn, iov [][]byte) (n int, ok bool) {
	sc, isSys := c.(syscall.Conn)
	if !isSys {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		for {
			n, werr = unix.Writev(int(fd), iov)
			if !errors.Is(werr, unix.EINTR) {
				return true // done either way: never wait for the socket to be writable here
			}
		}
	}); err != nil {
		return 0, false
	}
	if n < 0 {
		n = 0
	}
	if werr != nil && !errors.Is(werr, unix.EAGAIN) {
		return n, false
	}
	return n, true
}
