// Command target is the loopback HTTP/1.1 server that the scripts of
// bench/ load: it answers every request with a fixed body, after an
// optional delay, and exits by itself after -max-run.
//
//	go run ./bench/target -port 8080                # "Hello, World!" (13 bytes, Content-Length)
//	go run ./bench/target -port 8080 -delay 10ms    # the same, 10 ms later
//	go run ./bench/target -port 8080 -size 300000   # a 300 KB body
//	go run ./bench/target -port 8080 -chunked       # the hello body, chunked (no Content-Length)
//
// It listens on loopback addresses only.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1", "the loopback address to listen on")
	port := flag.Int("port", 8080, "the TCP port to listen on")
	delay := flag.Duration("delay", 0, "how long to wait before answering")
	size := flag.Int("size", 0, "the body's size in bytes (0: \"Hello, World!\")")
	chunked := flag.Bool("chunked", false, "send the body chunked, in two flushed parts, without Content-Length")
	maxRun := flag.Duration("max-run", 10*time.Minute, "exit after this long")
	flag.Parse()

	ip := net.ParseIP(*addr)
	if ip == nil || !ip.IsLoopback() {
		log.Fatalf("target: -addr %q is not a loopback address", *addr)
	}
	if *size < 0 {
		log.Fatalf("target: -size must be >= 0, got %d", *size)
	}
	body := []byte("Hello, World!")
	if *size > 0 {
		body = bytes.Repeat([]byte("x"), *size)
	}
	length := []string{strconv.Itoa(len(body))}
	contentType := []string{"text/plain"}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *delay > 0 {
			time.Sleep(*delay)
		}
		w.Header()["Content-Type"] = contentType
		if *chunked {
			half := len(body) / 2
			w.Write(body[:half])
			w.(http.Flusher).Flush()
			w.Write(body[half:])
			return
		}
		w.Header()["Content-Length"] = length
		w.Write(body)
	})

	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), strconv.Itoa(*port)))
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(*maxRun):
		}
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(os.Stderr, "target: listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
