package memnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestHTTPInABubble serves HTTP over the in-memory network inside a
// synctest bubble: the server's one-second sleep passes on the fake clock.
func TestHTTPInABubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := Listen()
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(time.Second)
			fmt.Fprint(w, "hello")
		})}
		go srv.Serve(ln)
		client := &http.Client{Transport: &http.Transport{DialContext: ln.Dial}}
		start := time.Now()
		resp, err := client.Get("http://anywhere.test/")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, "hello", string(body))
		assert.Equal(t, time.Second, time.Since(start), "exactly the server's sleep")
		client.CloseIdleConnections()
		require.NoError(t, srv.Shutdown(context.Background()))
		_, err = ln.Dial(t.Context(), "tcp", "x")
		assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "a closed listener refuses: %v", err)
		_, err = ln.Accept()
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.Equal(t, "mem", ln.Addr().String())
		assert.Equal(t, "memnet", ln.Addr().Network())
	})
}

func TestDialHonoursItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := Listen() // nobody accepts
		defer ln.Close()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := ln.Dial(ctx, "tcp", "x")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}
