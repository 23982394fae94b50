//go:build !linux

package wstransport

import "net"

// tryWrite does not attempt a write off Linux: every batch is written by a
// goroutine of its own (see the Linux version).
func tryWrite(net.Conn, [][]byte) (int, bool) { return 0, false }
