//go:build unix

package scenario

import (
	"errors"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stampede-go/stampede/metrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tcpPair returns a connection to ln, closed at the test's end, and ln's
// end of it.
func tcpPair(t *testing.T, ln net.Listener) (conn, peer net.Conn) {
	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	peer, err = ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { peer.Close() })
	return conn, peer
}

// directConn returns conn as the own client's connection, written and
// read on its socket directly.
func directConn(t *testing.T, conn net.Conn) *wireConn {
	raw, err := conn.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	c := &wireConn{Conn: conn, st: &httpState{}, raw: raw}
	c.direct = &rawIO{c: c}
	return c
}

// TestWireSendFailsAsAWriteDoes: a request written on a connection the
// server has reset fails with the error net.Conn's Write gives, naming the
// addresses and the system call, so that it is classified and reported as
// on any other path.
func TestWireSendFailsAsAWriteDoes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	conn, peer := tcpPair(t, ln)
	require.NoError(t, peer.(*net.TCPConn).SetLinger(0))
	require.NoError(t, peer.Close()) // a reset

	c := directConn(t, conn)
	// Wait, at most 5 s, for the reset to arrive (a peek that fails).
	var buf [1]byte
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		var perr error
		_ = c.raw.Read(func(fd uintptr) bool {
			_, _, perr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			return true
		})
		if perr != syscall.EAGAIN {
			break
		}
		time.Sleep(time.Millisecond)
	}

	err = c.send([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), nil)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET), "%v", err)
	assert.Regexp(t, regexp.MustCompile(`^write tcp `+regexp.QuoteMeta(conn.LocalAddr().String()+"->"+conn.RemoteAddr().String())+`: write: (broken pipe|connection reset by peer)$`), err.Error())
	assert.Equal(t, metrics.Reset, NetOutcome(err))
	assert.True(t, c.direct.wran, "the write was tried through the socket")
}

// TestWireReadReadsAsAReadDoes: the own client's raw read of a TCP
// connection gives what net.Conn's Read gives on a connection in the
// same state, bytes and errors alike (the same text, the same class),
// so that nothing measured or reported depends on which read ran.
func TestWireReadReadsAsAReadDoes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	// words is err's text with the connection's addresses taken out.
	words := func(conn net.Conn, err error) string {
		if err == nil {
			return "<nil>"
		}
		return strings.NewReplacer(conn.LocalAddr().String(), "L", conn.RemoteAddr().String(), "R").Replace(err.Error())
	}
	cases := []struct {
		name  string
		state func(conn, peer net.Conn) // puts the connection in the state to read
		want  string                    // the error's text, addresses taken out
		class metrics.Outcome
	}{
		{"bytes", func(_, peer net.Conn) { _, err := peer.Write([]byte("hello")); require.NoError(t, err) }, "<nil>", metrics.OK},
		{"end", func(_, peer net.Conn) { require.NoError(t, peer.Close()) }, "EOF", metrics.Reset},
		{"reset", func(_, peer net.Conn) {
			require.NoError(t, peer.(*net.TCPConn).SetLinger(0))
			require.NoError(t, peer.Close())
		}, "read tcp L->R: read: connection reset by peer", metrics.Reset},
		{"deadline", func(conn, _ net.Conn) {
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
		}, "read tcp L->R: i/o timeout", metrics.Timeout},
		{"closed", func(conn, _ net.Conn) { require.NoError(t, conn.Close()) }, "read tcp L->R: use of closed network connection", metrics.Reset},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			var data [2][]byte
			for i, useRaw := range []bool{false, true} {
				conn, peer := tcpPair(t, ln)
				require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second))) // a bound: the read waits for what the state sends
				tc.state(conn, peer)
				buf := make([]byte, 16)
				var n int
				var err error
				if c := directConn(t, conn); useRaw {
					n, err = c.Read(buf)
					assert.NotNil(t, c.direct.rfn, "the socket was read directly")
				} else {
					n, err = conn.Read(buf)
				}
				got[i], data[i] = words(conn, err), buf[:n]
				if err != nil {
					assert.Equal(t, tc.class, NetOutcome(err), "raw=%v: %v", useRaw, err)
					assert.Equal(t, errors.Is(err, os.ErrDeadlineExceeded), tc.name == "deadline", "raw=%v: %v", useRaw, err)
					assert.Equal(t, errors.Is(err, net.ErrClosed), tc.name == "closed", "raw=%v: %v", useRaw, err)
				}
			}
			assert.Equal(t, tc.want, got[0], "net.Conn's Read")
			assert.Equal(t, got[0], got[1], "the raw read says what net.Conn's Read says")
			assert.Equal(t, data[0], data[1])
		})
	}
}
