package scenario

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stampede-go/stampede/internal/clock"
	"github.com/stampede-go/stampede/metrics"
)

// What both engines share: a VU's request state and its phase instants,
// the step's request prepared from its templates, and the response judged
// and recorded.

// The HTTP phases recorded for every HTTP step, each as its own metric
// under the step's name.
const (
	KindDNS     metrics.Kind = "http_dns"     // name resolution
	KindConnect metrics.Kind = "http_connect" // TCP connect (0 on a reused connection)
	KindTLS     metrics.Kind = "http_tls"     // TLS handshake
	KindTTFB    metrics.Kind = "http_ttfb"    // request written (HTTP/2: at the latest) → first response byte
	KindReceive metrics.Kind = "http_receive" // first byte → body read
)

const (
	phDNS = iota
	phConnect
	phTLS
	phTTFB
	phReceive
	numPhases
)

var phaseKinds = [numPhases]metrics.Kind{KindDNS, KindConnect, KindTLS, KindTTFB, KindReceive}

// httpState is a VU's reusable request state: its trace hooks write the
// phase instants here, so tracing allocates nothing per request. The hooks
// of a dial run on the transport's own goroutine, which can outlive the
// request that started it (the request took another connection), so the
// instants are atomics: a late hook never races with the VU's next
// request, at worst it leaves a stale connect time that reset clears.
type httpState struct {
	trace          *httptrace.ClientTrace
	traced, base   context.Context           // base with the trace, made once per VU context
	at             [numInstants]atomic.Int64 // clock.Elapsed at the instant, plus 1; 0: not seen
	reused         atomic.Bool
	url, body, hdr []byte
	filled         []byte // the URL as filled, before appendSendable
	chk            []byte // a check's filled value
	// What the last request got, for the step to record with its outcome:
	// whether a response arrived, its status, the payload bytes, and when
	// its body had been read (zero: as the step ended, nothing ran between).
	responded  bool
	status     int
	sent, recv int64
	bodyDone   time.Time
}

const (
	inDNSStart = iota
	inDNSDone
	inConnStart
	inConnDone
	inTLSStart
	inTLSDone
	inGotConn
	inWrote
	inFirstByte
	numInstants
)

// mark marks instant i as now, from one reading of the monotonic clock.
func (s *httpState) mark(i int) { s.at[i].Store(int64(clock.Elapsed()) + 1) }

// markAt marks instant i as t.
func (s *httpState) markAt(i int, t time.Time) { s.at[i].Store(int64(clock.Offset(t)) + 1) }

// span returns the time from instant a to instant b, or false if either is
// missing.
func (s *httpState) span(a, b int) (time.Duration, bool) {
	x, y := s.at[a].Load(), s.at[b].Load()
	if x == 0 || y == 0 || y < x {
		return 0, false
	}
	return time.Duration(y - x), true
}

func (s *httpState) init() {
	s.trace = &httptrace.ClientTrace{
		DNSStart:             func(httptrace.DNSStartInfo) { s.mark(inDNSStart) },
		DNSDone:              func(httptrace.DNSDoneInfo) { s.mark(inDNSDone) },
		ConnectStart:         func(string, string) { s.mark(inConnStart) },
		ConnectDone:          func(string, string, error) { s.mark(inConnDone) },
		TLSHandshakeStart:    func() { s.mark(inTLSStart) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { s.mark(inTLSDone) },
		GotConn:              func(i httptrace.GotConnInfo) { s.reused.Store(i.Reused); s.mark(inGotConn) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { s.mark(inWrote) },
		GotFirstResponseByte: func() { s.mark(inFirstByte) },
	}
}

func (s *httpState) reset() {
	for i := range s.at {
		s.at[i].Store(0)
	}
	s.reused.Store(false)
	s.url, s.body, s.hdr, s.filled = s.url[:0], s.body[:0], s.hdr[:0], s.filled[:0]
	s.responded, s.status, s.sent, s.recv = false, 0, 0, 0
	s.bodyDone = time.Time{}
}

// sender sends the requests of HTTP steps for one VU: net/http's client
// ([netSender]) or the own one ([wireClient]), as the journey's [Client]
// chooses.
type sender interface {
	// send sends the step's request and judges the response; what the
	// response was stays in vu.http for [httpStep.record].
	send(ctx context.Context, s *httpStep, vu *VU, start time.Time) error
	// endIteration closes the connections of the iteration that ended,
	// with PoolPerIteration.
	endIteration()
}

// userAgent is the User-Agent header of a step's request that sets none.
const userAgent = "stampede"

var userAgentValue = []string{userAgent} // shared by every request: net/http only reads it

// prepare resets the VU's request state and fills the step's URL and body
// into it; it returns the request's timeout and how much of the body
// checks may keep, by the step's options or else the client's.
func (s *httpStep) prepare(vu *VU, c *Client) (timeout time.Duration, limit int64, err error) {
	st := &vu.http
	st.reset()
	if st.filled, err = s.url.fill(st.filled, vu); err != nil {
		return 0, 0, err
	}
	st.url = appendSendable(st.url, st.filled)
	if s.body != nil {
		if st.body, err = s.body.fill(st.body, vu); err != nil {
			return 0, 0, err
		}
	}
	timeout, limit = s.timeout, s.maxBody
	if timeout == 0 {
		timeout = c.timeout()
	}
	if limit == 0 {
		limit = c.maxBody()
	}
	return timeout, limit, nil
}

// headers fills the step's header values, handing each to add (the value
// is valid until the next call).
func (s *httpStep) headers(vu *VU, add func(key string, v []byte)) error {
	st := &vu.http
	for _, h := range s.header {
		v, err := h.val.fill(st.hdr[:0], vu)
		if err != nil {
			return err
		}
		st.hdr = v
		if h.key == "Host" && !validHost(v) {
			return metrics.WithOutcome(fmt.Errorf("Header %q: the value %q is not a host[:port] (letters, digits and !$%%&'()*+,-.:;=[]_~ only)", h.key, v), metrics.Other)
		}
		add(h.key, v)
	}
	return nil
}

// validHost reports whether v may be a Host header's value, by the bytes
// net/http allows there.
func validHost(v []byte) bool {
	for _, c := range v {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!$%&'()*+,-.:;=[]_~", c) >= 0) {
			return false
		}
	}
	return true
}

// judge judges a response: its status, whether its body fitted in limit,
// then the checks and extractors (header gives the response's header,
// built only when they need it).
func (s *httpStep) judge(vu *VU, status int, header func() http.Header, data []byte, over bool, limit int64) error {
	st := &vu.http
	if ok := s.statusOK(status); !ok {
		o := metrics.CheckFailed
		switch {
		case status >= 500:
			o = metrics.HTTP5xx
		case status >= 400:
			o = metrics.HTTP4xx
		}
		return metrics.WithOutcome(fmt.Errorf("%s %s: status %d", s.method, st.url, status), o)
	}
	if over {
		return metrics.WithOutcome(fmt.Errorf("%s %s: the body (%d bytes) is larger than the %s read for checks and extractors (MaxBody)",
			s.method, st.url, st.recv, formatSize(limit)), metrics.CheckFailed)
	}
	if len(s.checks)+len(s.extracts) > 0 {
		r := &Response{Status: status, Header: header(), Body: data}
		for _, c := range s.checks {
			if err := c(r, vu); err != nil {
				return metrics.WithOutcome(err, metrics.CheckFailed)
			}
		}
		for _, x := range s.extracts {
			if err := x(r, vu); err != nil {
				return metrics.WithOutcome(fmt.Errorf("extract: %w", err), metrics.CheckFailed)
			}
		}
	}
	return nil
}

// readCapped reads r to its end, keeping at most limit bytes: n counts
// every byte read, and over reports a body longer than limit, whose bytes
// past the limit were read and discarded. size, the body's length if
// known (else -1), sizes the buffer; the buffer grows by doubling up to
// limit+1 bytes, so reading a body allocates at most about twice the
// smaller of its size and the limit.
func readCapped(r io.Reader, limit, size int64) (data []byte, n int64, over bool, err error) {
	c := int64(512)
	if 0 <= size && size < limit {
		c = size + 1 // +1: room for the read that sees the end
	}
	buf := make([]byte, 0, min(c, limit+1))
	for int64(len(buf)) <= limit {
		if len(buf) == cap(buf) {
			c := 2 * int64(cap(buf))
			if c >= limit {
				c = limit + 1 // not limit, then limit+1
			}
			nb := make([]byte, len(buf), c)
			copy(nb, buf)
			buf = nb
		}
		m, e := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if e != nil {
			if e == io.EOF {
				e = nil
			}
			if int64(len(buf)) > limit { // the byte past the limit came with the end
				return buf[:limit], int64(len(buf)), true, e
			}
			return buf, int64(len(buf)), false, e
		}
	}
	rest, err := io.Copy(io.Discard, r)
	return buf[:limit], int64(len(buf)) + rest, true, err
}

// formatSize writes a byte count as people write limits: 1 MiB, 64 KiB.
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func (s *httpStep) statusOK(code int) bool {
	if len(s.expect) == 0 {
		return code < 400
	}
	return slices.Contains(s.expect, code)
}

// record records what the step's last request got at instant end, the
// step's own: the payload bytes and the status code of a response, and the
// phases with the step's outcome o, so that the phases of a failed request
// go to the failed latencies, as the step's do. An interrupted request
// records no phase.
func (s *httpStep) record(vu *VU, h metrics.Handle, ph *[numPhases]metrics.Handle, end time.Time, o metrics.Outcome) {
	st := &vu.http
	if st.responded {
		vu.shard.AddBytes(h, end, st.sent, st.recv)
		vu.shard.Status(h, end, st.status)
	}
	if o == metrics.Interrupted {
		return
	}
	rec := func(p, a, b int) {
		if d, ok := st.span(a, b); ok {
			vu.shard.Record(ph[p], end, d, o)
		}
	}
	rec(phDNS, inDNSStart, inDNSDone)
	if st.reused.Load() {
		vu.shard.Record(ph[phConnect], end, 0, o)
	} else {
		rec(phConnect, inConnStart, inConnDone)
	}
	rec(phTLS, inTLSStart, inTLSDone)
	// HTTP/2 writes a request on a goroutine of its own and can report it
	// written after the answer began: the wait is then timed from when the
	// request had its connection.
	if _, ok := st.span(inWrote, inFirstByte); ok {
		rec(phTTFB, inWrote, inFirstByte)
	} else {
		rec(phTTFB, inGotConn, inFirstByte)
	}
	if fb := st.at[inFirstByte].Load(); fb != 0 && st.responded {
		done := st.bodyDone
		if done.IsZero() { // read as the step ended
			done = end
		}
		vu.shard.Record(ph[phReceive], end, clock.Offset(done)-time.Duration(fb-1), o)
	}
}

// errServerClosedIdle is the text of net/http's unexported error for a
// kept-alive connection that the server closed as a request went out on
// it (a request that cannot be retried, such as a POST, gets it).
const errServerClosedIdle = "http: server closed idle connection"

// classify marks a transport error with its outcome class (NetOutcome).
func classify(err error) error { return metrics.WithOutcome(err, NetOutcome(err)) }

// NetOutcome returns the outcome class of a connection's error as HTTP
// steps count it, for protocol steps to count theirs alike: a deadline
// passed is a timeout; a connection refused, refused; one the peer reset
// or closed (ECONNRESET, EPIPE, an early EOF, a kept-alive connection the
// server closed), reset; any other, other.
func NetOutcome(err error) metrics.Outcome {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return metrics.Timeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return metrics.Refused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		strings.Contains(err.Error(), errServerClosedIdle):
		return metrics.Reset
	}
	return metrics.Other
}
