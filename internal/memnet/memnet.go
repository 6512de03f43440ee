// Package memnet is an in-memory network of one listener: servers accept
// from a [Listener], clients connect with its [Listener.Dial]. Connections
// are net.Pipe pairs, so no socket, port or file descriptor is involved,
// and a testing/synctest bubble can hold a whole client-and-server test:
// a goroutine blocked on an in-memory connection is durably blocked, and
// the bubble's fake clock advances past the server's sleeps.
package memnet

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
)

// Listener is an in-memory net.Listener. Its zero value is not usable; make
// one with [Listen]. It is safe for concurrent use.
type Listener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

// Listen returns a new Listener.
func Listen() *Listener {
	return &Listener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Addr is the address of every Listener: network "memnet", address "mem".
type Addr struct{}

// Network returns "memnet".
func (Addr) Network() string { return "memnet" }

// String returns "mem".
func (Addr) String() string { return "mem" }

// Accept waits for a connection, or returns net.ErrClosed once the
// listener is closed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops the listener: pending and later Accept and Dial calls fail.
// Connections already made stay open. Close is idempotent.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr returns the listener's address.
func (l *Listener) Addr() net.Addr { return Addr{} }

// Dial connects to the listener, whatever network and address are given
// (it has the signature of net.Dialer.DialContext). It waits for the
// server to accept, until ctx is done; a closed listener refuses the
// connection with an error that wraps syscall.ECONNREFUSED, as a closed
// port does.
func (l *Listener) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: "memnet", Addr: Addr{}, Err: ctx.Err()}
	}
	client.Close()
	server.Close()
	return nil, &net.OpError{Op: "dial", Net: "memnet", Addr: Addr{}, Err: errors.Join(syscall.ECONNREFUSED, net.ErrClosed)}
}
