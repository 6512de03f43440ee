//go:build !unix

package scenario

import "syscall"

// peekable reports false: where sockets cannot be peeked, an idle
// connection is trusted until a request on it fails.
func peekable(syscall.RawConn) bool { return false }

// write tries nothing (w.ran stays false): the caller writes as usual.
func (w *rawWrite) write([]byte) {}
