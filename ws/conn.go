package stampedews

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/stampede-go/stampede/scenario"
)

// message is a message received, stamped with its arrival.
type message struct {
	data   []byte
	binary bool
	at     time.Time
}

// conn is a VU's connection to a Client. A goroutine of its own reads it
// from the handshake on, so that a message is stamped the instant it
// arrives, whether or not a step is waiting for it, and so that a step
// that stops waiting (its timeout) leaves the connection open: the
// library closes a connection whose read is cancelled.
type conn struct {
	ws       *websocket.Conn
	run      *sockets
	stopRead context.CancelFunc // ends the reader's read, which closes the connection under any wait of the library's

	mu     sync.Mutex
	room   sync.Cond // signalled when the queue has room again
	queue  []message // arrived, not yet taken by a step
	ended  error     // why the reader stopped; nil while it reads
	closed bool      // the VU closed it (Close, a new Connect, the run's end)
	notify chan struct{}
}

// sockets are the WebSocket connections of one run of a scenario, of
// every Client.
type sockets struct {
	held    atomic.Int64 // open connections: the gauge
	mu      sync.Mutex
	all     map[*conn]struct{}
	readers sync.WaitGroup
}

type socketsKey struct{}

// GaugeHeld is the name of the gauge of a run's open WebSocket
// connections, sampled once per interval, under the scenario's name
// ("chat.ws_connections"): what a service holds at each moment of a ramp.
const GaugeHeld = "ws_connections"

// openSockets returns the run's connections, made (with their gauge) by
// the first step that opens.
func openSockets(r *scenario.Run) (*sockets, error) {
	v, err := r.Shared(socketsKey{}, func() (any, error) {
		s := &sockets{all: map[*conn]struct{}{}}
		if err := r.Gauge(GaugeHeld, func() float64 { return float64(s.held.Load()) }); err != nil {
			return nil, err
		}
		r.OnClose(s.close)
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*sockets), nil
}

// start begins reading ws, a connection just opened.
func (s *sockets) start(ws *websocket.Conn, limit int64) *conn {
	ws.SetReadLimit(limit)
	rctx, stopRead := context.WithCancel(context.Background())
	c := &conn{ws: ws, run: s, stopRead: stopRead, notify: make(chan struct{}, 1)}
	c.room.L = &c.mu
	s.mu.Lock()
	s.all[c] = struct{}{}
	s.mu.Unlock()
	s.held.Add(1)
	s.readers.Add(1)
	go c.read(rctx)
	return c
}

// close closes the connections still open when the run ends, without a
// close handshake, and waits for their readers.
func (s *sockets) close() {
	s.mu.Lock()
	all := make([]*conn, 0, len(s.all))
	for c := range s.all {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.abandon()
	}
	s.readers.Wait()
}

func (c *conn) read(ctx context.Context) {
	defer c.run.readers.Done()
	defer c.stopRead()
	for {
		typ, data, err := c.ws.Read(ctx)
		at := time.Now()
		c.mu.Lock()
		if err != nil {
			c.ended = err
			c.mu.Unlock()
			c.run.held.Add(-1)
			c.run.mu.Lock()
			delete(c.run.all, c)
			c.run.mu.Unlock()
			c.signal()
			return
		}
		for len(c.queue) >= maxQueued && !c.closed {
			c.room.Wait()
		}
		c.queue = append(c.queue, message{data: data, binary: typ == websocket.MessageBinary, at: at})
		c.mu.Unlock()
		c.signal()
	}
}

func (c *conn) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// errTimeout is a wait for a message that its deadline ended.
var errTimeout = errors.New("no message within the step's timeout")

// next returns the next message, waiting for one until deadline (zero:
// none) or ctx's end. Once the connection has ended and every message it
// received has been taken, it returns the reason (a *websocket.CloseError
// for a close frame).
func (c *conn) next(ctx context.Context, deadline <-chan time.Time) (message, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = message{}
			c.queue = c.queue[1:]
			if len(c.queue) == 0 {
				c.queue = nil // an idle connection holds no buffer
			}
			c.room.Signal()
			c.mu.Unlock()
			return m, nil
		}
		ended := c.ended
		c.mu.Unlock()
		if ended != nil {
			return message{}, ended
		}
		select {
		case <-c.notify:
		case <-deadline:
			return message{}, errTimeout
		case <-ctx.Done():
			return message{}, ctx.Err()
		}
	}
}

// pending returns the messages that arrived and no step took, and the
// reason the connection ended (nil while open), without waiting.
func (c *conn) pending() ([]message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	c.room.Signal()
	return q, c.ended
}

// reason waits, until ctx ends, for the reader to end once the
// connection is closed, and returns why it ended: a *websocket.CloseError
// if the service's close frame came first.
func (c *conn) reason(ctx context.Context) (ended, err error) {
	for {
		c.mu.Lock()
		ended := c.ended
		c.mu.Unlock()
		if ended != nil {
			return ended, nil
		}
		select {
		case <-c.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// closing marks the connection closed by the VU, and frees a reader
// waiting for room in the queue.
func (c *conn) closing() {
	c.mu.Lock()
	c.closed = true
	c.room.Broadcast()
	c.mu.Unlock()
}

// abandon closes the connection at once, without a close handshake, and
// stops its reader.
func (c *conn) abandon() {
	c.closing()
	c.stopRead()
	c.ws.CloseNow()
}

// closeHandshake closes the connection with NORMAL_CLOSURE and waits for
// the service's close frame, then for the reader to end, until ctx ends:
// coder/websocket's own wait (up to 5 s) takes no context, so ctx's end
// stops the reader's read, which closes the connection under it. It
// returns why the connection ended (see closedBy) and the library's error.
func (c *conn) closeHandshake(ctx context.Context) (ended, err error) {
	c.closing()
	stop := context.AfterFunc(ctx, c.stopRead)
	err = c.ws.Close(websocket.StatusNormalClosure, "")
	stop()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	read, werr := c.reason(ctx)
	if werr != nil {
		c.ws.CloseNow()
		return nil, werr
	}
	return closedBy(read, err)
}

// closedBy returns why a connection the VU closed ended, from what its
// reader's last read returned (read) and what the library's Close did
// (closed): the service's close frame, whichever of the two read it. The
// reader reads it when it is inside a read as the frame comes; otherwise
// the library's wait does, and then closes the connection under the
// reader, whose next read fails with net.ErrClosed. The wait reads it
// with the code sent (Close returns nil) or with another (Close returns
// it). Any other end is the reader's, with the library's error if any.
func closedBy(read, closed error) (ended, err error) {
	switch {
	case websocket.CloseStatus(read) != -1:
		return read, nil
	case websocket.CloseStatus(closed) != -1:
		return closed, nil
	case closed == nil && errors.Is(read, net.ErrClosed):
		return websocket.CloseError{Code: websocket.StatusNormalClosure}, nil
	}
	return read, closed
}
