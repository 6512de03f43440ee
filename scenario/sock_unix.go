//go:build unix

package scenario

import (
	"io"
	"net"
	"syscall"
)

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
// out, notes the request written and waits there until the socket is
// readable, so that the answer's first read finds bytes instead of an
// empty socket: a read system call fewer per request, and no wake-up
// more. The wait is sound because the poller forgets readiness when the
// raw read starts, before the write, and an answer can only come after
// the write. It leaves in w what the write did (wn, werr), and wran false
// if nothing was tried (the connection closed, or past its deadline); a
// short write, or one the socket refused for now (EAGAIN), returns at
// once, for the caller to finish as usual. How the wait ended (the
// answer, a deadline, a close) is left to the read that follows, which
// reports it as any read does.
func (w *rawIO) write(b []byte) {
	if w.wfn == nil {
		w.wfn = w.writeStep
	}
	w.wb, w.wn, w.wran, w.werr = b, 0, false, 0
	_ = w.c.raw.Read(w.wfn)
	w.wb = nil
}

// writeStep is write's raw read function: the write, then, once
// readable, done.
func (w *rawIO) writeStep(fd uintptr) bool {
	if w.wran {
		return true
	}
	w.wran = true
	// The request's written instant is taken before the write, which
	// cannot block: the answer cannot begin sooner, and a goroutine held
	// up after the write (by the scheduler, as the system call returns)
	// would otherwise shorten the wait measured by as long. A short or
	// failed write is finished by the caller, whose write marks it again.
	w.c.st.mark(inWrote)
	w.wn, w.werr = sysWrite(fd, w.wb)
	if w.wn < len(w.wb) || w.werr != 0 {
		return true
	}
	w.c.sent(w.wn) // the answer's wait starts here, not when it ends
	return false
}

// read reads into b (not empty) from the socket, waiting as the
// connection's Read does, and fails as it does: the same errors in the
// same words (io.EOF at the end, a *net.OpError otherwise). It skips the
// layers of net.Conn's Read, and on Linux the runtime's bookkeeping of a
// blocking system call (see sysRead), which a read of a socket with bytes
// to read does not need.
func (w *rawIO) read(b []byte) (int, error) {
	if w.rfn == nil {
		w.rfn = w.readStep
	}
	w.rb, w.rn, w.rerr = b, 0, 0
	err := w.c.raw.Read(w.rfn)
	n, errno := w.rn, w.rerr
	w.rb = nil
	switch {
	case err != nil: // closed, or past the deadline: net.Conn's Read says "read" where a raw read says "raw-read"
		if oe, ok := err.(*net.OpError); ok {
			oe.Op = "read"
		}
		return 0, err
	case errno != 0:
		return 0, w.c.opError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// readStep is read's raw read function: false (wait until readable) for
// as long as the socket has nothing to read.
func (w *rawIO) readStep(fd uintptr) bool {
	w.rn, w.rerr = sysRead(fd, w.rb)
	return w.rerr != syscall.EAGAIN
}
