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

// write writes b on the socket inside a raw read and, if all of it went
// out, marks the request written and waits there until the socket is
// readable, so that the answer's first read finds bytes instead of an
// empty socket: a read system call fewer per request, and no wake-up
// more. The wait is sound because the poller forgets readiness when the
// raw read starts, before the write, and an answer can only come after
// the write. It leaves in w what the write did (n, err), and ran false if
// nothing was tried (the connection closed, or past its deadline); a
// short write, or one the socket refused for now (EAGAIN), returns at
// once, for the caller to finish as usual. How the wait ended (the
// answer, a deadline, a close) is left to the read that follows, which
// reports it as any read does.
func (w *rawWrite) write(b []byte) {
	if w.fn == nil {
		w.fn = w.step
	}
	w.b, w.n, w.ran, w.err = b, 0, false, nil
	_ = w.c.raw.Read(w.fn)
	w.b = nil
}

// step is the raw read's function: the write, then, once readable, done.
func (w *rawWrite) step(fd uintptr) bool {
	if w.ran {
		return true
	}
	w.ran = true
	for {
		w.n, w.err = syscall.Write(int(fd), w.b)
		if w.err != syscall.EINTR {
			break
		}
	}
	w.n = max(w.n, 0)
	if w.n < len(w.b) || w.err != nil {
		return true
	}
	w.c.written(w.n) // the answer's wait starts here, not when it ends
	return false
}
