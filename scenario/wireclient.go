package scenario

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stampede-go/stampede/internal/clock"
	"github.com/stampede-go/stampede/internal/wire"
	"github.com/stampede-go/stampede/metrics"
)

// The own client ([EngineWire]): requests written at once into a buffer
// of the VU's own and responses read by internal/wire, on keep-alive
// connections kept in a connSet: the journey's, shared by its VUs
// (SharedPool), or each VU's (PoolPerVU, PoolPerIteration). Cookies,
// redirects and compression follow net/http's Client and Transport rule
// for rule, so that the two engines send the same requests.

// vuJar is a VU's cookie jar: net/http's, noting whether it ever kept a
// cookie, so that the own client asks it for cookies only once it has.
type vuJar struct {
	*cookiejar.Jar
	used atomic.Bool
}

func newVUJar() *vuJar {
	j, _ := cookiejar.New(nil) // never fails with nil options
	return &vuJar{Jar: j}
}

// SetCookies keeps cookies as net/http's jar does.
func (j *vuJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	if len(cookies) > 0 {
		j.used.Store(true)
	}
	j.Jar.SetCookies(u, cookies)
}

// wireRun is what a journey's VUs share on the own client.
type wireRun struct {
	cfg    *Client
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	skip   map[string]bool // InsecureSkipVerifyHosts, in lower case
	shared *connSet        // SharedPool; else nil

	mu      sync.Mutex
	clients []*wireClient // closed at the end
}

func newWireRun(r *clientRun) *wireRun {
	dial := r.dial
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second} // as net/http's
		dial = d.DialContext
	}
	w := &wireRun{cfg: &r.cfg, dial: dial, skip: r.skip}
	if r.cfg.Connections == SharedPool {
		w.shared = newConnSet()
	}
	return w
}

// forVU returns a VU's client; iter is the pool of its http.Client to
// close after each iteration with PoolPerIteration.
func (w *wireRun) forVU(vu *VU, iter pool) *wireClient {
	f := &wireClient{run: w, cfg: w.cfg, st: &vu.http, jar: vu.jar, set: w.shared, iter: iter}
	if f.set == nil {
		f.set, f.own = newConnSet(), true
	}
	w.mu.Lock()
	w.clients = append(w.clients, f)
	w.mu.Unlock()
	return f
}

func (w *wireRun) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.clients {
		if f.unwatch != nil {
			f.unwatch()
		}
		f.close()
	}
	if w.shared != nil {
		w.shared.close()
	}
}

// targetKey says where a URL's requests go: TLS or not, and the host as
// the URL has it.
type targetKey struct {
	https bool
	host  string
}

// target is where a URL's requests go: the address to dial, the TLS
// configuration, and the idle connections to it.
type target struct {
	targetKey
	addr string
	tls  *tls.Config // https; else nil
	idle []*wireConn // guarded by the set's mu; the most recently used last
}

// connSet holds keep-alive connections by target.
type connSet struct {
	mu      sync.Mutex
	targets map[targetKey]*target
	closed  bool
}

func newConnSet() *connSet { return &connSet{targets: map[targetKey]*target{}} }

// target returns the target of a URL's host, worked out once per host.
func (s *connSet) target(w *wireRun, https bool, host []byte) *target {
	k := targetKey{https, string(host)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.targets[k]; t != nil {
		return t
	}
	t := &target{targetKey: k, addr: k.host}
	name := ""
	if h, _, err := net.SplitHostPort(t.addr); err == nil {
		name = h
	} else {
		name = strings.TrimSuffix(strings.TrimPrefix(t.addr, "["), "]") // [::1] → ::1
		port := "80"
		if https {
			port = "443"
		}
		t.addr = net.JoinHostPort(name, port)
	}
	if https {
		sni := w.cfg.ServerName
		if sni == "" {
			sni = name
		}
		t.tls = &tls.Config{RootCAs: w.cfg.RootCAs, Certificates: w.cfg.Certificates, ServerName: sni,
			InsecureSkipVerify: w.skip[strings.ToLower(name)]}
	}
	s.targets[k] = t
	return t
}

// get takes an idle connection to t, or returns nil. A connection that
// has been idle a while and has something to say (bytes the server sent
// unasked, or its end) is closed instead, as net/http drops one.
func (s *connSet) get(t *target) *wireConn {
	for {
		s.mu.Lock()
		n := len(t.idle)
		if n == 0 {
			s.mu.Unlock()
			return nil
		}
		c := t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		s.mu.Unlock()
		if clock.Elapsed()-c.idleSince < time.Millisecond || !c.speaks() {
			return c
		}
		c.Close()
	}
}

// put keeps an idle connection to t for the next request.
func (s *connSet) put(t *target, c *wireConn) {
	c.idleSince = clock.Elapsed()
	s.mu.Lock()
	if !s.closed {
		t.idle = append(t.idle, c)
		c = nil
	}
	s.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// closeIdle closes the idle connections.
func (s *connSet) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.targets {
		for i, c := range t.idle {
			c.Close()
			t.idle[i] = nil
		}
		t.idle = t.idle[:0]
	}
}

// close closes the idle connections and any put back later.
func (s *connSet) close() {
	s.closeIdle()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// wireConn is a connection of the own client. It marks the phase
// instants in the state of the VU using it: the request written (its last
// write), and the first byte read after it.
type wireConn struct {
	net.Conn
	st        *httpState
	br        *bufio.Reader
	raw       syscall.RawConn // for speaks: a TCP connection's; nil for TLS and other kinds
	direct    *rawIO          // for send and Read: raw, when it is a *net.TCPConn's, whose methods no wrapper overrides; else nil
	idleSince time.Duration   // when it went idle, as clock.Elapsed
	waiting   bool            // a request was written and its answer not yet begun
	got       bool            // a byte of the answer came
	wrote     bool            // a byte of the request went out
}

func (c *wireConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.written(n)
	return n, err
}

// written notes a write of n bytes of the request that ended now: its
// instant, which the answer's first byte is timed from, and the rest
// (see sent).
func (c *wireConn) written(n int) {
	c.st.mark(inWrote)
	c.sent(n)
}

// sent notes a write of n bytes of the request: its answer is awaited,
// and whether any byte went out.
func (c *wireConn) sent(n int) {
	c.waiting = true
	c.wrote = c.wrote || n > 0
}

// send writes a request: its head, then its body if any. On a plain TCP
// connection the last write also waits for the answer to begin (see
// rawIO.write), so that reading it starts with bytes to read.
func (c *wireConn) send(head, body []byte) error {
	last := head
	if len(body) > 0 {
		if _, err := c.Write(head); err != nil {
			return err
		}
		last = body
	}
	if w := c.direct; w != nil {
		w.write(last)
		if n, err := w.wn, w.werr; w.wran {
			switch {
			case n == len(last): // written, and the wait for the answer is over (or its deadline, or a close, which the read reports)
				return nil
			case err != 0 && err != syscall.EAGAIN:
				return c.opError("write", err)
			}
			c.wrote = c.wrote || n > 0
			last = last[n:] // the rest waits for room, as any write does
		}
	}
	_, err := c.Write(last)
	return err
}

// opError is err of the system call op on c, in the words of net.Conn's
// Read and Write.
func (c *wireConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, err)}
}

func (c *wireConn) Read(b []byte) (n int, err error) {
	if c.direct != nil && len(b) > 0 {
		n, err = c.direct.read(b)
	} else {
		n, err = c.Conn.Read(b)
	}
	if n > 0 && c.waiting {
		c.st.mark(inFirstByte)
		c.waiting, c.got = false, true
	}
	return n, err
}

// speaks reports whether an idle connection has something to read.
func (c *wireConn) speaks() bool {
	return c.br.Buffered() > 0 || c.raw != nil && peekable(c.raw)
}

// rawIO is a TCP connection's socket, read and written directly (see its
// methods write and read): what a request's last write and each read of
// its answer leave, kept with the connection so that a request allocates
// nothing.
type rawIO struct {
	c *wireConn // whose raw connection it uses, and whose VU's state has the request's instants

	wfn  func(uintptr) bool // writeStep, bound once
	wb   []byte
	wn   int           // bytes written
	wran bool          // the write was tried
	werr syscall.Errno // the write's error, 0 if none

	rfn  func(uintptr) bool // readStep, bound once
	rb   []byte
	rn   int           // bytes read
	rerr syscall.Errno // the read's error, 0 if none
}

// wireClient is one VU's own client.
type wireClient struct {
	run  *wireRun
	cfg  *Client
	st   *httpState
	jar  *vuJar
	set  *connSet
	own  bool // set is the VU's own
	iter pool // the VU's http.Client's pool to close after each iteration; nil if none
	last *target

	wbuf    []byte // the request, written at once
	hdrs    []byte // the request's header lines, but for Host and Cookie
	host    []byte // the Host header, if the request sets one
	cookies []byte // the request's Cookie values, each ended by a 0 byte
	head    wire.Head
	body    wire.Body
	gz      *gzip.Reader
	hop     hop // a redirect's request; zero on the first

	mu      sync.Mutex
	busy    *wireConn // the connection in use: the hard stop closes it
	stopped bool      // the hard stop came: no more connections
	watched context.Context
	unwatch func() bool
}

// hop is what a request followed from a redirect sends instead of the
// step's own: its method, URL, headers and Host, and whether it carries
// the step's body. ihdr is the first request's headers (net/http's
// copies them, as far as they may go, into every hop), and icookies the
// cookies of its Cookie header (nil if none).
type hop struct {
	n         int // 0 for the step's own request
	method    string
	url       []byte
	header    http.Header
	host      string
	keepBody  bool
	ihdr      http.Header
	icookies  map[string][]string
	firstHost string // the first request's URL host
	firstName string // and its host name, in lower case
	strip     bool   // credentials are left out: a hop left the first request's domain
}

func (f *wireClient) endIteration() {
	if f.iter != nil {
		f.iter.CloseIdleConnections()
	}
	if f.cfg.Connections == PoolPerIteration {
		f.set.closeIdle()
	}
}

// watch makes the end of ctx (the run's hard stop) close the connection
// in use, so that a request in flight ends at once, as on net/http. A VU's
// context is the same from one iteration to the next: it is watched once.
func (f *wireClient) watch(ctx context.Context) {
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

// close closes the VU's connection in use and, if the set is its own, its
// idle ones.
func (f *wireClient) close() {
	f.mu.Lock()
	f.stopped = f.watched != nil && f.watched.Err() != nil
	if f.busy != nil {
		f.busy.Close()
	}
	f.mu.Unlock()
	if f.own {
		f.set.closeIdle()
	}
}

// use marks c as the connection in use (nil: none).
func (f *wireClient) use(c *wireConn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c != nil && f.stopped {
		return false
	}
	f.busy = c
	return true
}

// conn returns a connection to t: an idle one, or one dialed by the
// deadline; reused says which.
func (f *wireClient) conn(ctx context.Context, deadline time.Time, t *target) (c *wireConn, reused bool, err error) {
	if c = f.set.get(t); c != nil {
		c.st = f.st
		if !f.use(c) {
			c.Close()
			return nil, false, context.Canceled
		}
		return c, true, nil
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	f.st.mark(inConnStart)
	raw, err := f.run.dial(ctx, "tcp", t.addr)
	f.st.mark(inConnDone)
	if err != nil {
		return nil, false, err
	}
	c = &wireConn{Conn: raw, st: f.st}
	if t.tls != nil {
		tc := tls.Client(raw, t.tls)
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
			if ctx.Err() == nil && hctx.Err() != nil {
				err = &connectTimeoutError{addr: t.addr, d: f.cfg.ConnectTimeout, err: errors.New("TLS handshake timeout")}
			}
			return nil, false, err
		}
		c.Conn = tc
	} else if sc, ok := raw.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
		if _, tcp := raw.(*net.TCPConn); tcp && c.raw != nil {
			c.direct = &rawIO{c: c}
		}
	}
	c.br = bufio.NewReaderSize(c, 4096)
	if !f.use(c) { // the hard stop came while dialing
		c.Close()
		return nil, false, context.Canceled
	}
	return c, false, nil
}

// release is done with c: back to the set when it may carry another
// request, else closed.
func (f *wireClient) release(t *target, c *wireConn, keep bool) {
	f.use(nil)
	if keep {
		f.set.put(t, c)
	} else {
		c.Close()
	}
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

// wireRequest is a request of the own client, written.
type wireRequest struct {
	method  string
	url     []byte // as sent: absolute and sendable
	head    []byte // the request, and its body when small
	body    []byte // a large body, written after head as it is
	closing bool   // it says Connection: close
	// resendable: sending it twice does the work once, as net/http judges
	// (an idempotent method, or an Idempotency-Key header).
	resendable bool
	gzip       bool // it asks for gzip, which the client decodes
	https      bool
	authority  []byte
}

// send sends the step's request, follows redirects, and judges the
// response.
func (f *wireClient) send(ctx context.Context, s *httpStep, vu *VU, start time.Time) error {
	st := &vu.http
	timeout, limit, err := s.prepare(vu, f.cfg)
	if err != nil {
		return err
	}
	deadline := start.Add(timeout)
	f.watch(ctx)
	f.hop.n = 0
	defer f.head.Trim()
	for {
		req, err := f.request(s, vu)
		if err != nil {
			return err
		}
		t := f.last
		if t == nil || t.https != req.https || t.host != string(req.authority) {
			t = f.set.target(f.run, req.https, req.authority)
			f.last = t
		}
		c, err := f.exchange(ctx, start, deadline, t, &req)
		if err != nil {
			return f.fail(ctx, err, timeout, req)
		}
		var cookies []*http.Cookie // what the response sets, parsed once
		if f.head.Cookies {
			cookies = (&http.Response{Header: f.head.Header()}).Cookies()
			f.setCookies(req.url, cookies)
		}
		f.body.Reset(c.br, &f.head)
		follow, err := f.redirect(s, vu, &req, cookies)
		if err == nil && follow {
			_, err = f.body.Discard()
			f.release(t, c, err == nil && !f.head.Close && !req.closing && c.br.Buffered() == 0)
			if err != nil {
				return f.fail(ctx, err, timeout, req)
			}
			continue
		}
		if err != nil {
			f.release(t, c, false)
			return metrics.WithOutcome(urlError(req.method, req.url, err), metrics.Other)
		}
		var r io.Reader = &f.body
		size := f.head.Length
		decoded := req.gzip && f.head.Gzip && f.head.Length != 0
		if decoded {
			if r, err = f.gunzip(); err != nil && err != io.EOF {
				f.release(t, c, false)
				return f.fail(ctx, err, timeout, req)
			}
			size = -1
		}
		var data []byte
		over := false
		switch {
		case err == io.EOF: // an empty gzip body, which net/http reads as no bytes
			err = nil
		case s.needBody:
			data, st.recv, over, err = readCapped(r, limit, size)
		case decoded:
			st.recv, err = io.Copy(io.Discard, r)
		default:
			st.recv, err = f.body.Discard()
		}
		if len(s.checks) > 0 || len(s.extracts) > 0 {
			st.bodyDone = time.Now() // checks run before the step ends
		} // else the body's end is the step's (record)
		st.responded, st.status, st.sent = true, f.head.Status, int64(len(st.body))
		// Not used again: a connection either side closes, or one with
		// bytes past the response (a body longer than its length says).
		f.release(t, c, err == nil && !f.head.Close && !req.closing && c.br.Buffered() == 0 && (!decoded || f.body.Done()))
		if err != nil {
			return f.fail(ctx, err, timeout, req)
		}
		return s.judge(vu, st.status, func() http.Header {
			h := f.head.Header()
			if decoded { // as net/http's Transport leaves them
				h.Del("Content-Encoding")
				h.Del("Content-Length")
			}
			return h
		}, data, over, limit)
	}
}

// gunzip returns a reader of the gzip body being read.
func (f *wireClient) gunzip() (io.Reader, error) {
	if f.gz == nil {
		gz, err := gzip.NewReader(&f.body)
		if err != nil {
			return nil, err
		}
		f.gz = gz
		return gz, nil
	}
	return f.gz, f.gz.Reset(&f.body)
}

// exchange writes req on a connection to t and reads the answer's head.
func (f *wireClient) exchange(ctx context.Context, start, deadline time.Time, t *target, req *wireRequest) (*wireConn, error) {
	st := f.st
	for attempt := 0; ; attempt++ {
		c, reused, err := f.conn(ctx, deadline, t)
		if err != nil {
			return nil, err
		}
		st.reused.Store(reused)
		if reused {
			st.markAt(inGotConn, start)
		} else {
			st.mark(inGotConn)
		}
		c.got, c.wrote = false, false
		_ = c.SetDeadline(deadline)
		err = c.send(req.head, req.body)
		if err == nil {
			err = f.head.Read(c.br, req.method == "HEAD")
		}
		if err == nil {
			return c, nil
		}
		f.release(t, c, false)
		// A kept-alive connection the server closed before answering: sent
		// once more on a new connection, as net/http does, when that cannot
		// do the work twice (an idempotent method, or nothing of the request
		// written).
		if reused && !c.got && (req.resendable || !c.wrote) && attempt == 0 && ctx.Err() == nil && time.Now().Before(deadline) {
			continue
		}
		return nil, err
	}
}

// fail classifies an error of the own client as classify does those of
// net/http, in the same words: a *url.Error naming the method and URL.
func (f *wireClient) fail(ctx context.Context, err error, timeout time.Duration, req wireRequest) error {
	if ctx.Err() != nil {
		return ctx.Err() // the hard stop closed the connection
	}
	var ne net.Error
	var ct *connectTimeoutError
	if !errors.As(err, &ct) && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)) {
		err = fmt.Errorf("%w (Timeout %v)", context.DeadlineExceeded, timeout)
	}
	return classify(urlError(req.method, req.url, err))
}

// urlError is an error of a request in net/http's Client's words: a
// *url.Error naming the method as it does ("Get", "Post") and the URL.
func urlError(method string, u []byte, err error) error {
	op := "Get"
	if method != "" {
		op = method[:1] + strings.ToLower(method[1:])
	}
	return &url.Error{Op: op, URL: string(u), Err: err}
}

// request writes the request to send next into the client's buffers: the
// step's own, or the hop a redirect asked for.
func (f *wireClient) request(s *httpStep, vu *VU) (wireRequest, error) {
	st := &vu.http
	r := wireRequest{method: s.method, url: st.url}
	body := st.body
	hasBody := s.body != nil
	if f.hop.n > 0 {
		r.method, r.url = f.hop.method, f.hop.url
		if !f.hop.keepBody {
			body, hasBody = nil, false
		}
	}
	u, err := wire.SplitURL(r.url)
	if err != nil {
		return r, metrics.WithOutcome(urlError(r.method, r.url, err), metrics.Other)
	}
	r.https, r.authority = u.HTTPS, u.Authority
	r.resendable = idempotent(r.method)
	var auth, agent, encoding, ranged bool
	f.hdrs, f.host, f.cookies = f.hdrs[:0], f.host[:0], f.cookies[:0]
	hostSet := false
	add := func(k string, v []byte) {
		switch k {
		case "Host":
			if len(v) > 0 { // an empty Host is the URL's, as on net/http
				f.host, hostSet = append(f.host[:0], v...), true
			}
			return
		case "Cookie":
			f.cookies = append(append(f.cookies, v...), 0)
			return
		case "Authorization":
			auth = true
		case "User-Agent":
			agent = true
		case "Accept-Encoding":
			encoding = encoding || len(v) > 0
		case "Range":
			ranged = ranged || len(v) > 0
		case "Connection":
			r.closing = r.closing || wire.HasToken(v, "close")
		case "Idempotency-Key", "X-Idempotency-Key":
			r.resendable = true
		}
		f.hdrs = append(append(append(append(f.hdrs, k...), ": "...), v...), "\r\n"...)
	}
	if f.hop.n == 0 {
		if err := s.headers(vu, add); err != nil {
			return r, err
		}
	} else {
		for _, k := range slices.Sorted(maps.Keys(f.hop.header)) {
			for _, v := range f.hop.header[k] {
				add(k, []byte(v))
			}
		}
		if f.hop.host != "" {
			f.host, hostSet = append(f.host[:0], f.hop.host...), true
		}
	}
	host := u.Authority
	if hostSet {
		host = f.host
	}
	w := append(f.wbuf[:0], r.method...)
	w = append(wire.AppendTarget(append(w, ' '), &u), " HTTP/1.1\r\nHost: "...)
	w = append(append(append(w, host...), "\r\n"...), f.hdrs...)
	if !agent {
		w = append(w, "User-Agent: "+userAgent+"\r\n"...)
	}
	if len(u.Userinfo) > 0 && !auth {
		if w, err = wire.AppendBasicAuth(w, u.Userinfo); err != nil {
			return r, metrics.WithOutcome(urlError(r.method, r.url, err), metrics.Other)
		}
	}
	w = f.appendCookies(w, r.url, host, hostSet)
	if !f.cfg.DisableCompression && !encoding && !ranged && r.method != "HEAD" {
		w = append(w, "Accept-Encoding: gzip\r\n"...)
		r.gzip = true
	}
	if hasBody || wire.BodyMethod(r.method) {
		w = strconv.AppendInt(append(w, "Content-Length: "...), int64(len(body)), 10)
		w = append(w, "\r\n"...)
	}
	w = append(w, "\r\n"...)
	// A small body goes in the same write; a large one after it, as it is.
	if len(body) <= 16<<10 {
		w = append(w, body...)
	} else {
		r.body = body
	}
	f.wbuf, r.head = w, w
	return r, nil
}

// appendCookies appends the request's Cookie header: its own, and the
// jar's cookies for its URL as net/http's Client adds them (after the
// first Cookie value of its own, which then stands alone).
func (f *wireClient) appendCookies(w, rawURL, host []byte, hostSet bool) []byte {
	var jarred []*http.Cookie
	if f.jar.used.Load() {
		if u, err := url.Parse(string(rawURL)); err == nil {
			if hostSet {
				u.Host = string(host)
			}
			jarred = f.jar.Cookies(u)
		}
	}
	if len(jarred) == 0 {
		for rest := f.cookies; len(rest) > 0; {
			i := bytes.IndexByte(rest, 0)
			w = append(append(append(w, "Cookie: "...), rest[:i]...), "\r\n"...)
			rest = rest[i+1:]
		}
		return w
	}
	w = append(w, "Cookie: "...)
	first := true
	if i := bytes.IndexByte(f.cookies, 0); i > 0 {
		w, first = append(w, f.cookies[:i]...), false
	}
	for _, c := range jarred {
		if s := c.String(); s != "" {
			if !first {
				w = append(w, "; "...)
			}
			w, first = append(w, s...), false
		}
	}
	return append(w, "\r\n"...)
}

// setCookies hands the cookies a response sets to the VU's jar, under the
// URL the request went to.
func (f *wireClient) setCookies(rawURL []byte, cookies []*http.Cookie) {
	if u, err := url.Parse(string(rawURL)); err == nil && len(cookies) > 0 {
		f.jar.SetCookies(u, cookies)
	}
}

// redirect decides whether the response just read is a redirect to
// follow, and if so prepares the next hop, as net/http's Client does.
func (f *wireClient) redirect(s *httpStep, vu *VU, req *wireRequest, cookies []*http.Cookie) (bool, error) {
	h := &f.hop
	method, keepBody := req.method, true
	switch f.head.Status {
	case 301, 302, 303:
		keepBody = false
		if method != "GET" && method != "HEAD" {
			method = "GET"
		}
	case 307, 308:
	default:
		return false, nil
	}
	loc := f.head.Location()
	if len(loc) == 0 {
		return false, nil // a 3xx without a Location is the answer
	}
	base, err := url.Parse(string(req.url))
	if err != nil {
		return false, err
	}
	next, err := base.Parse(string(loc))
	if err != nil {
		return false, fmt.Errorf("failed to parse Location header %q: %v", loc, err)
	}
	if f.cfg.NoRedirects {
		return false, nil
	}
	if h.n == 0 { // the first redirect: the first request's headers, as net/http keeps them
		h.ihdr, h.icookies, h.host, h.keepBody, h.strip = http.Header{}, nil, "", true, false
		h.firstHost, h.firstName = base.Host, strings.ToLower(base.Hostname())
		if err := s.headers(vu, func(k string, v []byte) {
			if k == "Host" {
				h.host = string(v)
				return
			}
			h.ihdr.Add(k, string(v))
		}); err != nil {
			return false, err
		}
		if _, ok := h.ihdr["User-Agent"]; !ok {
			h.ihdr["User-Agent"] = userAgentValue
		}
		if h.ihdr.Get("Cookie") != "" {
			h.icookies = map[string][]string{}
			for _, c := range (&http.Request{Header: h.ihdr}).Cookies() {
				h.icookies[c.Name] = append(h.icookies[c.Name], c.Name+"="+c.Value)
			}
		}
	}
	via := h.n + 1 // the requests sent so far
	switch n := f.cfg.MaxRedirects; {
	case n == 0 && via >= 10:
		return false, errors.New("stopped after 10 redirects")
	case n > 0 && via > n:
		return false, fmt.Errorf("stopped after %d redirects (Client.MaxRedirects)", n)
	}
	// A custom Host goes on through a relative redirect only.
	host := ""
	if h.host != "" && h.host != base.Host {
		if lu, err := url.Parse(string(loc)); err == nil && !lu.IsAbs() {
			host = h.host
		}
	}
	// Cookies the redirect sets override those of the first request's
	// Cookie header of the same name.
	if h.icookies != nil {
		changed := false
		for _, c := range cookies {
			if _, ok := h.icookies[c.Name]; ok {
				delete(h.icookies, c.Name)
				changed = true
			}
		}
		if changed {
			var ss []string
			for _, cs := range h.icookies {
				ss = append(ss, cs...)
			}
			slices.Sort(ss)
			h.ihdr.Set("Cookie", strings.Join(ss, "; "))
		}
	}
	h.keepBody = h.keepBody && keepBody
	// Once a hop leaves the first request's domain, credentials stay
	// behind for good.
	h.strip = h.strip || h.firstHost != next.Host && !domainOrSubdomain(strings.ToLower(next.Hostname()), h.firstName)
	hdr := http.Header{}
	for k, vv := range h.ihdr {
		switch k {
		case "Authorization", "Www-Authenticate", "Cookie", "Cookie2", "Proxy-Authorization", "Proxy-Authenticate":
			if h.strip {
				continue
			}
		case "Content-Encoding", "Content-Language", "Content-Location", "Content-Type":
			if !h.keepBody {
				continue
			}
		}
		hdr[k] = vv
	}
	// The Referer: the last request's URL, unless that was https and the
	// next is http.
	if !(base.Scheme == "https" && next.Scheme == "http") && hdr.Get("Referer") == "" {
		ref := *base
		ref.User = nil
		hdr.Set("Referer", ref.String())
	}
	h.n++
	h.method, h.header, h.host = method, hdr, host
	h.url = appendSendable(h.url[:0], []byte(next.String()))
	return true, nil
}

// domainOrSubdomain reports whether sub is parent or a subdomain of it.
func domainOrSubdomain(sub, parent string) bool {
	if sub == parent {
		return true
	}
	if strings.ContainsAny(sub, ":%") {
		return false // an IPv6 address
	}
	return strings.HasSuffix(sub, parent) && len(sub) > len(parent) && sub[len(sub)-len(parent)-1] == '.'
}
