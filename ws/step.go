package stampedews

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/coder/websocket"

	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// step is what every WebSocket step has: its client, what it sends, its
// options, and what it does with them.
type step struct {
	client *Client
	p      *parsed
	kinds  []metrics.Kind
	msg    *scenario.Template // Send, RoundTrip, Hold with Every; else nil
	o      options
	uses   []string
	errs   []error
	call   func(s *step, ctx context.Context, r *sockets, vu *scenario.VU, c *scenario.Call) error
}

// localKey keys a VU's connection to a Client.
type localKey struct{ c *Client }

// what tells newStep what a type of step records and sends, and so which
// options it takes.
type what struct {
	step     string // its constructor's name, for errors
	kinds    []metrics.Kind
	consumes bool // takes messages, so records their delay
	hasMsg   bool // sends a message of its argument
	extracts bool // waits for a message that Extract reads
	every    bool // sends with Every (Hold)
}

func newStep(c *Client, w what, msg string, opts []Option,
	call func(s *step, ctx context.Context, r *sockets, vu *scenario.VU, c *scenario.Call) error) *step {
	s := &step{client: c, kinds: w.kinds, o: newOptions(opts), call: call}
	p, err := c.parse()
	if err != nil {
		s.errs = append(s.errs, err)
	}
	s.p = p
	if w.consumes && c != nil && c.Timestamp != nil {
		s.kinds = append(slices.Clone(s.kinds), KindDelay)
	}
	if w.hasMsg {
		t, err := parseMessage("message", msg)
		if err != nil {
			s.errs = append(s.errs, err)
		} else {
			s.msg = t
			s.uses = t.Uses()
		}
	}
	s.errs = append(s.errs, s.o.errs...)
	if len(s.o.extract) > 0 && !w.extracts {
		s.errs = append(s.errs, fmt.Errorf("%s: Extract reads the message a step waits for; only Receive and RoundTrip wait for one", w.step))
	}
	if (s.o.every != 0 || s.o.message != nil) && !w.every {
		s.errs = append(s.errs, fmt.Errorf("%s: Every is an option of Hold only", w.step))
	}
	if s.o.binary && !w.hasMsg && (!w.every || s.o.message == nil) {
		s.errs = append(s.errs, fmt.Errorf("%s: Binary applies to the messages a step sends: Send's, RoundTrip's, and a Hold's with Every", w.step))
	}
	return s
}

// Describe tells scenario.New what the step records, uses and stores.
func (s *step) Describe() scenario.StepInfo {
	info := scenario.StepInfo{Kinds: s.kinds, Uses: s.uses, Err: errors.Join(s.errs...)}
	for _, e := range s.o.extract {
		info.Stores = append(info.Stores, e.key)
	}
	return info
}

// Open readies the step for a run: the run's connections and their gauge.
func (s *step) Open(_ context.Context, r *scenario.Run) (scenario.Caller, error) {
	socks, err := openSockets(r)
	if err != nil {
		return nil, err
	}
	return scenario.CallerFunc(func(ctx context.Context, vu *scenario.VU, c *scenario.Call) error {
		return s.call(s, ctx, socks, vu, c)
	}), nil
}

// conn returns vu's connection to the step's Client.
func (s *step) conn(vu *scenario.VU) (*conn, error) {
	if cn, _ := vu.Local(localKey{s.client}).(*conn); cn != nil {
		return cn, nil
	}
	return nil, metrics.WithOutcome(errors.New("not connected: a Connect step of this Client must come before (the connection may have ended in an earlier step)"), metrics.Other)
}

// take records a message the step took from its connection.
func (s *step) take(c *scenario.Call, m message) {
	c.Count(KindReceived, m.at, metrics.OK, 1)
	c.AddBytes(0, int64(len(m.data)))
	if ts := s.client.Timestamp; ts != nil {
		if t, ok := ts(m.data); ok {
			c.Record(KindDelay, m.at, max(m.at.Sub(t), 0), metrics.OK)
		}
	}
}

// extract stores what the step's extractors find in m.
func (s *step) extract(vu *scenario.VU, m message) error {
	for _, e := range s.o.extract {
		v, err := e.f(m.data)
		if err != nil {
			return metrics.WithOutcome(fmt.Errorf("extract %q: %w", e.key, err), metrics.CheckFailed)
		}
		vu.Set(e.key, v)
	}
	return nil
}

// ended handles err, a wait on cn that returned no message: the run's
// stop, the step's timeout, or the connection's end, whose close code it
// records. The VU forgets an ended connection.
func (s *step) ended(ctx context.Context, vu *scenario.VU, c *scenario.Call, err error, waiting string) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case err == errTimeout:
		return metrics.WithOutcome(fmt.Errorf("%s: none within the step's timeout of %v", waiting, s.o.timeout), metrics.Timeout)
	}
	vu.SetLocal(localKey{s.client}, nil)
	code := closeCode(err)
	c.Status(KindClose, code)
	return metrics.WithOutcome(fmt.Errorf("%s: the connection ended: %s (%w)", waiting, metrics.CodeName(KindClose, code), err), OutcomeOf(code))
}

// closeCode is the close code of a connection whose reader ended with
// err: the close frame's; MESSAGE_TOO_BIG for a message over the
// Client's ReadLimit (the library closes the connection with it); else
// ABNORMAL_CLOSURE (the connection was lost).
func closeCode(err error) int {
	if code := websocket.CloseStatus(err); code != -1 {
		return int(code)
	}
	if errors.Is(err, websocket.ErrMessageTooBig) {
		return int(websocket.StatusMessageTooBig)
	}
	return int(websocket.StatusAbnormalClosure)
}

// message returns the step's message, filled for vu.
func (s *step) message(vu *scenario.VU) ([]byte, error) {
	msg, err := s.msg.AppendFill(nil, vu)
	if err != nil {
		return nil, metrics.WithOutcome(fmt.Errorf("message: %w", err), metrics.Other)
	}
	return msg, nil
}

// send sends msg on cn at instant at.
func (s *step) send(ctx context.Context, vu *scenario.VU, c *scenario.Call, cn *conn, at time.Time, msg []byte) error {
	typ := websocket.MessageText
	if s.o.binary {
		typ = websocket.MessageBinary
	}
	wctx, cancel := context.WithTimeout(ctx, s.o.timeout)
	err := cn.ws.Write(wctx, typ, msg)
	timedOut := errors.Is(wctx.Err(), context.DeadlineExceeded)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A failed write closes the connection. A write that failed
		// because the connection had ended fails as its end does: the
		// service's close frame, when the reader got one, says why.
		vu.SetLocal(localKey{s.client}, nil)
		cn.abandon()
		if timedOut {
			return metrics.WithOutcome(fmt.Errorf("send: %w", err), metrics.Timeout)
		}
		if end, _ := cn.reason(context.Background()); closeCode(end) != int(websocket.StatusAbnormalClosure) {
			return s.ended(ctx, vu, c, end, "send")
		}
		return metrics.WithOutcome(fmt.Errorf("send: %w", err), metrics.Reset)
	}
	c.Count(KindSent, at, metrics.OK, 1)
	c.AddBytes(int64(len(msg)), 0)
	return nil
}

// Connect returns a step that opens the VU's connection to c: the
// WebSocket handshake on c.URL, through the VU's HTTP client (see
// [Client]). Its latency is the handshake's, from the TCP connect to the
// service's 101 answer. A VU that still holds a connection to c closes it
// first, without a close handshake.
//
// A handshake the service refuses fails as its HTTP status says (a 403 as
// HTTP4xx, a 503 as HTTP5xx); one that does not end within the step's
// Timeout, as a timeout.
func Connect(name string, c *Client, opts ...Option) scenario.Part {
	s := newStep(c, what{step: "Connect"}, "", opts, connect)
	if s.p != nil {
		s.uses = s.p.uses
	}
	return scenario.ProtocolStep(name, s)
}

func connect(s *step, ctx context.Context, r *sockets, vu *scenario.VU, c *scenario.Call) error {
	if old, _ := vu.Local(localKey{s.client}).(*conn); old != nil {
		vu.SetLocal(localKey{s.client}, nil)
		old.abandon()
	}
	u, err := s.p.url.Fill(vu)
	if err != nil {
		return metrics.WithOutcome(fmt.Errorf("URL: %w", err), metrics.Other)
	}
	opts := &websocket.DialOptions{HTTPClient: vu.HTTP, Subprotocols: s.client.Subprotocols}
	if len(s.p.header) > 0 {
		opts.HTTPHeader = make(http.Header, len(s.p.header))
		for _, h := range s.p.header {
			v, err := h[1].(*scenario.Template).Fill(vu)
			if err != nil {
				return metrics.WithOutcome(fmt.Errorf("header %s: %w", h[0], err), metrics.Other)
			}
			opts.HTTPHeader.Set(h[0].(string), v)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, s.o.timeout)
	ws, resp, err := dial(dctx, u, opts)
	cancel()
	if err != nil {
		return handshakeError(ctx, dctx, resp, err)
	}
	vu.SetLocal(localKey{s.client}, r.start(ws, s.client.readLimit()))
	return nil
}

// dial makes the handshake on a goroutine of its own, whose stack, grown
// deep by net/http's client, goes when it ends: a VU that made it on its
// own would keep that stack while it holds the connection, some 12 KB.
func dial(ctx context.Context, u string, opts *websocket.DialOptions) (*websocket.Conn, *http.Response, error) {
	type dialed struct {
		ws   *websocket.Conn
		resp *http.Response
		err  error
	}
	ch := make(chan dialed, 1)
	go func() {
		ws, resp, err := websocket.Dial(ctx, u, opts)
		ch <- dialed{ws, resp, err}
	}()
	d := <-ch
	return d.ws, d.resp, d.err
}

// handshakeError classifies a failed handshake.
func handshakeError(ctx, dctx context.Context, resp *http.Response, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	o := scenario.NetOutcome(err)
	switch {
	case resp != nil && resp.StatusCode >= 500:
		o = metrics.HTTP5xx
	case resp != nil && resp.StatusCode >= 400:
		o = metrics.HTTP4xx
	case dctx.Err() != nil:
		o = metrics.Timeout
	}
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		return metrics.WithOutcome(fmt.Errorf("handshake: the service answered %s: %w", resp.Status, err), o)
	}
	return metrics.WithOutcome(fmt.Errorf("handshake: %w", err), o)
}

// Send returns a step that sends a message on the VU's connection to c:
// text with placeholders filled from the VU's values, parsed as a JSON
// template when it starts with { or [ (a value inside a string is escaped
// as JSON), sent as a text message unless [Binary] is given. Its latency
// is the write's; it counts the message (KindSent) and its bytes. A
// connection the service closed fails it with its close code's outcome
// (see [OutcomeOf]).
func Send(name string, c *Client, message string, opts ...Option) scenario.Part {
	return scenario.ProtocolStep(name, newStep(c, what{step: "Send", kinds: []metrics.Kind{KindClose, KindSent}, hasMsg: true}, message, opts,
		func(s *step, ctx context.Context, _ *sockets, vu *scenario.VU, c *scenario.Call) error {
			cn, err := s.conn(vu)
			if err != nil {
				return err
			}
			msg, err := s.message(vu)
			if err != nil {
				return err
			}
			return s.send(ctx, vu, c, cn, c.Start(), msg)
		}))
}

// Receive returns a step that waits for a message on the VU's connection
// to c for which until returns true (nil: any message), as a user waits
// for an answer: the messages before it are taken and counted too. Its
// latency is the wait. No such message within the step's Timeout fails it
// as a timeout, and the connection stays open; the connection's end fails
// it with its close code's outcome (see [OutcomeOf]). [Extract] stores
// values from the message.
func Receive(name string, c *Client, until func(msg []byte) bool, opts ...Option) scenario.Part {
	return scenario.ProtocolStep(name, newStep(c, what{step: "Receive", kinds: []metrics.Kind{KindClose, KindReceived}, consumes: true, extracts: true}, "", opts,
		func(s *step, ctx context.Context, _ *sockets, vu *scenario.VU, c *scenario.Call) error {
			cn, err := s.conn(vu)
			if err != nil {
				return err
			}
			return s.await(ctx, vu, c, cn, "receive", until)
		}))
}

// await takes messages from cn until one satisfies until, within the
// step's timeout.
func (s *step) await(ctx context.Context, vu *scenario.VU, c *scenario.Call, cn *conn, waiting string, until func([]byte) bool) error {
	t := time.NewTimer(time.Until(c.Start().Add(s.o.timeout)))
	defer t.Stop()
	for {
		m, err := cn.next(ctx, t.C)
		if err != nil {
			return s.ended(ctx, vu, c, err, waiting)
		}
		s.take(c, m)
		if until == nil || until(m.data) {
			return s.extract(vu, m)
		}
	}
}

// RoundTrip returns a step that sends a message (as [Send]) and waits for
// its reply: the first message whose id, by c.ID, is the sent message's.
// Its latency is the round trip, from the step's start to the reply's
// arrival; the messages before the reply are taken and counted too. No
// reply within the step's Timeout fails it as a timeout. c.ID must be set,
// and find an id in the message sent.
func RoundTrip(name string, c *Client, message string, opts ...Option) scenario.Part {
	s := newStep(c, what{step: "RoundTrip", kinds: []metrics.Kind{KindClose, KindSent, KindReceived}, consumes: true, hasMsg: true, extracts: true}, message, opts,
		func(s *step, ctx context.Context, _ *sockets, vu *scenario.VU, c *scenario.Call) error {
			cn, err := s.conn(vu)
			if err != nil {
				return err
			}
			msg, err := s.message(vu)
			if err != nil {
				return err
			}
			id, ok := s.client.ID(msg) // before it goes: a reply to it could be matched by no step
			if !ok {
				return metrics.WithOutcome(fmt.Errorf("the message to send has no id by Client.ID: %.80q", msg), metrics.Other)
			}
			if err := s.send(ctx, vu, c, cn, c.Start(), msg); err != nil {
				return err
			}
			return s.await(ctx, vu, c, cn, "reply", func(m []byte) bool {
				got, ok := s.client.ID(m)
				return ok && got == id
			})
		})
	if c != nil && c.ID == nil {
		s.errs = append(s.errs, errors.New("RoundTrip matches the reply by Client.ID, which is nil; set it (JSONField reads a field of JSON messages)"))
	}
	return scenario.ProtocolStep(name, s)
}

// Close returns a step that closes the VU's connection to c with
// NORMAL_CLOSURE and waits for the service's close frame (the close
// handshake), within the step's Timeout; its latency is the handshake's,
// and the code of the service's close frame is counted (KindClose),
// whatever code it is. The messages that arrived and no step took are
// counted first. A connection the service ended already fails it with its
// close code.
func Close(name string, c *Client, opts ...Option) scenario.Part {
	return scenario.ProtocolStep(name, newStep(c, what{step: "Close", kinds: []metrics.Kind{KindClose, KindReceived}, consumes: true}, "", opts,
		func(s *step, ctx context.Context, _ *sockets, vu *scenario.VU, c *scenario.Call) error {
			cn, err := s.conn(vu)
			if err != nil {
				return err
			}
			q, end := cn.pending()
			for _, m := range q {
				s.take(c, m)
			}
			if end != nil {
				return s.ended(ctx, vu, c, end, "close")
			}
			vu.SetLocal(localKey{s.client}, nil)
			cctx, cancel := context.WithTimeout(ctx, s.o.timeout)
			end, err = cn.closeHandshake(cctx)
			cancel()
			q, _ = cn.pending()
			for _, m := range q {
				s.take(c, m)
			}
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case err != nil:
				return metrics.WithOutcome(fmt.Errorf("close: %w", err), metrics.OutcomeOf(err))
			}
			c.Status(KindClose, closeCode(end))
			return nil
		}))
}
