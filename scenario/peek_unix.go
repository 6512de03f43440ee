//go:build unix

package scenario

import "syscall"

// peekable reports whether a socket has something to read now: bytes, or
// its end. It does not wait and reads nothing.
func peekable(raw syscall.RawConn) bool {
	var buf [1]byte
	readable := false
	_ = raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		readable = n > 0 || n == 0 && err == nil
		return true
	})
	return readable
}
