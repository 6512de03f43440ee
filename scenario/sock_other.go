//go:build !unix

package scenario

import "syscall"

// peekable reports false: where sockets cannot be peeked, an idle
// connection is trusted until a request on it fails.
func peekable(syscall.RawConn) bool { return false }

// write tries nothing (w.wran stays false): the caller writes as usual.
func (w *rawIO) write([]byte) {}

// read is the connection's Read.
func (w *rawIO) read(b []byte) (int, error) { return w.c.Conn.Read(b) }
