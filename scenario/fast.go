package scenario

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// fastClient is one VU's client on the fast HTTP/1.1 path ([Client.Fast]):
// per host, one keep-alive connection of the VU's own (as wrk's and
// bombardier's connections are), on which requests are written and
// responses read by the codec of wire.go. Its buffers are reused from one
// request to the next, so a request allocates nothing. The connection
// marks when the request was written and when the answer's first byte
// came, for the phases.
type fastClient struct {
	cfg  *Client
	st   *httpState
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	wbuf []byte // the request, written at once
	hdrs []byte // the step's header lines
	host []byte // the step's Host header
	head respHead
	body fastBody
	last *target // of the last request

	mu      sync.Mutex
	stopped bool                  // the hard stop came: no more connections
	targets map[targetKey]*target // their connections are closed at the hard stop and at the end
	watched context.Context       // the context whose end closes them
	unwatch func() bool
}

func newFastClient(cfg *Client, st *httpState) *fastClient {
	dial := cfg.dialer()
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second} // as net/http's
		dial = d.DialContext
	}
	return &fastClient{cfg: cfg, st: st, dial: dial, targets: map[targetKey]*target{}}
}

// fastConn is a connection of the fast path. It marks the phase instants:
// the request written (its last write), and the first byte read after it.
type fastConn struct {
	net.Conn
	st      *httpState
	br      *bufio.Reader
	waiting bool // a request was written and its answer not yet begun
	got     bool // a byte of the answer came
	wrote   bool // a byte of the request went out
}

func (c *fastConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.st.mark(inWrote)
	c.waiting = true
	c.wrote = c.wrote || n > 0
	return n, err
}

// idempotent reports whether sending a request of method twice does the
// work once (RFC 9110 9.2.2, the methods net/http resends).
func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

func (c *fastConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.waiting {
		c.st.mark(inFirstByte)
		c.waiting, c.got = false, true
	}
	return n, err
}

// targetKey says where a URL's requests go: TLS or not, and the host as
// the URL has it.
type targetKey struct {
	https bool
	host  string
}

// target is where a URL's requests go: the address to dial, the host
// name, and the VU's connection to it (guarded by the client's mu).
type target struct {
	targetKey
	addr, name string
	conn       *fastConn
}

// target returns the target of a URL's host, worked out once per host: a
// VU usually sends to one.
func (f *fastClient) target(https bool, host []byte) *target {
	if t := f.last; t != nil && t.https == https && t.host == string(host) {
		return t
	}
	k := targetKey{https, string(host)}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.targets[k]
	if t == nil {
		t = &target{targetKey: k, addr: k.host}
		if h, _, err := net.SplitHostPort(t.addr); err == nil {
			t.name = h
		} else {
			t.name = strings.TrimSuffix(strings.TrimPrefix(t.addr, "["), "]") // [::1] → ::1
			port := "80"
			if t.https {
				port = "443"
			}
			t.addr = net.JoinHostPort(t.name, port)
		}
		f.targets[k] = t
	}
	f.last = t
	return t
}

// conn returns the VU's connection to a target, dialing one by the
// deadline if it has none; reused says whether it had one.
func (f *fastClient) conn(ctx context.Context, deadline time.Time, t *target) (c *fastConn, reused bool, err error) {
	f.mu.Lock()
	c = t.conn
	f.mu.Unlock()
	if c != nil {
		return c, true, nil
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	f.st.mark(inConnStart)
	raw, err := f.dial(ctx, "tcp", t.addr)
	f.st.mark(inConnDone)
	if err != nil {
		return nil, false, err
	}
	if t.https {
		name := f.cfg.ServerName
		if name == "" {
			name = t.name
		}
		tc := tls.Client(raw, &tls.Config{RootCAs: f.cfg.RootCAs, Certificates: f.cfg.Certificates, ServerName: name})
		hctx := ctx
		if d := f.cfg.ConnectTimeout; d > 0 {
			var cancel context.CancelFunc
			hctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		f.st.mark(inTLSStart)
		err := tc.HandshakeContext(hctx)
		f.st.mark(inTLSDone)
		if err != nil {
			raw.Close()
			return nil, false, err
		}
		raw = tc
	}
	c = &fastConn{Conn: raw, st: f.st}
	c.br = bufio.NewReaderSize(c, 4096)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped { // the hard stop came while dialing
		raw.Close()
		return nil, false, context.Canceled
	}
	t.conn = c
	return c, false, nil
}

// drop closes a connection that must not be used again.
func (f *fastClient) drop(t *target, c *fastConn) {
	f.mu.Lock()
	if t.conn == c {
		t.conn = nil
	}
	f.mu.Unlock()
	c.Close()
}

// watch makes the end of ctx (the run's hard stop) close the VU's
// connections, so that a request in flight ends at once, as on the
// net/http path. A VU's context is the same from one iteration to the
// next: it is watched once.
func (f *fastClient) watch(ctx context.Context) {
	if ctx == f.watched {
		return
	}
	if f.unwatch != nil {
		f.unwatch()
	}
	f.mu.Lock()
	f.watched, f.stopped = ctx, false
	f.mu.Unlock()
	f.unwatch = context.AfterFunc(ctx, f.close)
}

// close closes the VU's connections.
func (f *fastClient) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = f.watched != nil && f.watched.Err() != nil
	for _, t := range f.targets {
		if t.conn != nil {
			t.conn.Close()
			t.conn = nil
		}
	}
}

// doFast sends the step's request on the fast path.
func (s *httpStep) doFast(ctx context.Context, vu *VU, f *fastClient, start time.Time) error {
	st := &vu.http
	timeout, limit, err := s.prepare(vu, f.cfg)
	if err != nil {
		return err
	}
	u, err := splitURL(st.url)
	if err != nil {
		return metrics.WithOutcome(fmt.Errorf("%s %s: %w", s.method, st.url, err), metrics.Other)
	}
	req, err := s.fastRequest(vu, f, &u)
	if err != nil {
		return err
	}
	deadline := start.Add(timeout)
	f.watch(ctx)
	t := f.target(u.https, u.authority)
	isHead := s.method == "HEAD"
	for attempt := 0; ; attempt++ {
		c, reused, err := f.conn(ctx, deadline, t)
		if err != nil {
			return s.fastErr(ctx, err, timeout, st.url)
		}
		st.reused.Store(reused)
		if reused {
			st.markAt(inGotConn, start)
		} else {
			st.mark(inGotConn)
		}
		c.got, c.wrote = false, false
		_ = c.SetDeadline(deadline)
		_, err = c.Write(req.head)
		if err == nil && len(req.body) > 0 {
			_, err = c.Write(req.body)
		}
		if err == nil {
			err = f.head.read(c.br, isHead)
		}
		if err != nil {
			f.drop(t, c)
			// A kept-alive connection the server closed before answering:
			// sent once more on a new connection, as net/http does, when
			// that cannot do the work twice (an idempotent method, or
			// nothing of the request written).
			if reused && !c.got && (req.resendable || !c.wrote) && attempt == 0 && ctx.Err() == nil && time.Now().Before(deadline) {
				continue
			}
			return s.fastErr(ctx, err, timeout, st.url)
		}
		f.body.reset(c.br, &f.head)
		var data []byte
		over := false
		if s.needBody {
			data, st.recv, over, err = readCapped(&f.body, limit, f.head.length)
		} else {
			st.recv, err = f.body.discard()
		}
		if len(s.checks) > 0 || len(s.extracts) > 0 {
			st.bodyDone = time.Now() // checks run before the step ends
		} // else the body's end is the step's (record)
		st.responded, st.status, st.sent = true, f.head.status, int64(len(st.body))
		// Not used again: a connection either side closes, or one with
		// bytes past the response (a body longer than its length says).
		if err != nil || f.head.close || req.closing || c.br.Buffered() > 0 {
			f.drop(t, c)
		}
		if err != nil {
			return s.fastErr(ctx, err, timeout, st.url)
		}
		return s.judge(vu, st.status, f.head.header, data, over, limit)
	}
}

// fastRequest is a request of the fast path, written.
type fastRequest struct {
	head    []byte // the request, and its body when small
	body    []byte // a large body, written after head as it is
	closing bool   // it says Connection: close
	// resendable: sending it twice does the work once, as net/http judges
	// (an idempotent method, or an Idempotency-Key header).
	resendable bool
}

// fastRequest writes the step's request for u into the client's buffers:
// the request line, Host (the step's Host header, or the URL's host), the
// step's headers, Basic authorization from the URL's user information
// unless the step authorizes, and Content-Length, as net/http writes them.
func (s *httpStep) fastRequest(vu *VU, f *fastClient, u *fastURL) (fastRequest, error) {
	st := &vu.http
	r := fastRequest{resendable: idempotent(s.method)}
	host, hdrs := u.authority, f.hdrs[:0]
	auth := false
	if err := s.headers(vu, func(k string, v []byte) {
		switch k {
		case "Host":
			f.host = append(f.host[:0], v...)
			host = f.host
			return
		case "Authorization":
			auth = true
		case "Connection":
			r.closing = r.closing || hasToken(v, "close")
		case "Idempotency-Key", "X-Idempotency-Key":
			r.resendable = true
		}
		hdrs = append(append(append(append(hdrs, k...), ": "...), v...), "\r\n"...)
	}); err != nil {
		return r, err
	}
	f.hdrs = hdrs
	w := append(f.wbuf[:0], s.method...)
	w = append(appendTarget(append(w, ' '), u), " HTTP/1.1\r\nHost: "...)
	w = append(append(append(w, host...), "\r\n"...), hdrs...)
	if len(u.userinfo) > 0 && !auth {
		var err error
		if w, err = appendBasicAuth(w, u.userinfo); err != nil {
			return r, metrics.WithOutcome(fmt.Errorf("%s %s: %w", s.method, st.url, err), metrics.Other)
		}
	}
	if s.body != nil || bodyMethod(s.method) {
		w = strconv.AppendInt(append(w, "Content-Length: "...), int64(len(st.body)), 10)
		w = append(w, "\r\n"...)
	}
	w = append(w, "\r\n"...)
	// A small body goes in the same write; a large one after it, as it is.
	if len(st.body) <= 16<<10 {
		w = append(w, st.body...)
	} else {
		r.body = st.body
	}
	f.wbuf, r.head = w, w
	return r, nil
}

// fastErr classifies an error of the fast path as classify does those of
// net/http.
func (s *httpStep) fastErr(ctx context.Context, err error, timeout time.Duration, url []byte) error {
	if ctx.Err() != nil {
		return ctx.Err() // the hard stop closed the connection
	}
	var ne net.Error
	var ct *connectTimeoutError
	if errors.As(err, &ct) {
		return classify(fmt.Errorf("%s %s: %w", s.method, url, ct))
	}
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return classify(fmt.Errorf("%s %s: %w (Timeout %v)", s.method, url, context.DeadlineExceeded, timeout))
	}
	return classify(fmt.Errorf("%s %s: %w", s.method, url, err))
}
