// Command heldserver is the server of the ws module's
// TestHoldTenThousand: it serves WebSocket connections on a loopback port,
// which it prints, reading each until it closes, until its standard input
// closes.
//
// It is a program of its own so that the test can build it without the
// race detector: the test measures the generator (built as the test is),
// and a race-built server holding 10 000 connections on the same two
// cores answered close handshakes more than the 5 s the client library
// waits for one.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/coder/websocket"
)

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	})}
	go srv.Serve(l)
	fmt.Println(l.Addr())
	io.Copy(io.Discard, os.Stdin)
}
