//go:build unix

package scenario

import (
	"errors"
	"net"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-go/stampede/metrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWireSendFailsAsAWriteDoes: a request written on a connection the
// server has reset fails with the error net.Conn's Write gives, naming the
// addresses and the system call, so that it is classified and reported as
// on any other path.
func TestWireSendFailsAsAWriteDoes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	peer, err := ln.Accept()
	require.NoError(t, err)
	require.NoError(t, peer.(*net.TCPConn).SetLinger(0))
	require.NoError(t, peer.Close()) // a reset

	raw, err := conn.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	// Wait, at most 5 s, for the reset to arrive (a peek that fails).
	var buf [1]byte
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		var perr error
		_ = raw.Read(func(fd uintptr) bool {
			_, _, perr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			return true
		})
		if perr != syscall.EAGAIN {
			break
		}
		time.Sleep(time.Millisecond)
	}

	c := &wireConn{Conn: conn, st: &httpState{}, raw: raw}
	c.direct = &rawWrite{c: c}
	err = c.send([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET), "%v", err)
	assert.Regexp(t, regexp.MustCompile(`^write tcp `+regexp.QuoteMeta(conn.LocalAddr().String()+"->"+conn.RemoteAddr().String())+`: write: (broken pipe|connection reset by peer)$`), err.Error())
	assert.Equal(t, metrics.Reset, NetOutcome(err))
	assert.True(t, c.direct.ran, "the write was tried through the socket")
}
