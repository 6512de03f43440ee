package scenario

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// The HTTP phases recorded for every HTTP step, each as its own metric
// under the step's name.
const (
	KindDNS     metrics.Kind = "http_dns"     // name resolution
	KindConnect metrics.Kind = "http_connect" // TCP connect (0 on a reused connection)
	KindTLS     metrics.Kind = "http_tls"     // TLS handshake
	KindTTFB    metrics.Kind = "http_ttfb"    // request written → first response byte
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
	at             [numInstants]atomic.Int64 // monotonic nanoseconds since clockBase; 0: not seen
	reused         atomic.Bool
	url, body, hdr []byte
	// What the last request got, for the step to record with its outcome:
	// whether a response arrived, its status, the payload bytes, and when
	// its body had been read.
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
	inWrote
	inFirstByte
	numInstants
)

var clockBase = time.Now()

func (s *httpState) mark(i int) { s.at[i].Store(int64(time.Since(clockBase)) + 1) }

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
		GotConn:              func(i httptrace.GotConnInfo) { s.reused.Store(i.Reused) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { s.mark(inWrote) },
		GotFirstResponseByte: func() { s.mark(inFirstByte) },
	}
}

func (s *httpState) reset() {
	for i := range s.at {
		s.at[i].Store(0)
	}
	s.reused.Store(false)
	s.url, s.body, s.hdr = s.url[:0], s.body[:0], s.hdr[:0]
	s.responded, s.status, s.sent, s.recv = false, 0, 0, 0
}

// template is a string with {{name}} placeholders, filled from the VU's
// stored values and current row; {{vu.id}} and {{vu.iteration}} are the
// VU's id and iteration number.
type template struct {
	src   string
	parts []string // even: literal; odd: name
}

func parseTemplate(s string) (template, error) {
	t := template{src: s}
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			t.parts = append(t.parts, s)
			return t, nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return t, fmt.Errorf("template %q: unclosed {{", t.src)
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		if name == "" || strings.ContainsAny(name, "{} ") {
			return t, fmt.Errorf("template %q: bad placeholder {{%s}}", t.src, name)
		}
		t.parts = append(t.parts, s[:i], name)
		s = s[i+j+2:]
	}
}

func (t template) fill(dst []byte, vu *VU) ([]byte, error) {
	for i, p := range t.parts {
		switch {
		case i%2 == 0:
			dst = append(dst, p...)
		case p == "vu.id":
			dst = strconv.AppendInt(dst, int64(vu.ID), 10)
		case p == "vu.iteration":
			dst = strconv.AppendInt(dst, vu.Iteration, 10)
		default:
			v, ok := vu.Get(p)
			if !ok {
				return dst, fmt.Errorf("no value for {{%s}} in %q (neither stored nor in the row)", p, t.src)
			}
			dst = append(dst, v...)
		}
	}
	return dst, nil
}

// Response is what checks and extractors see of an HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte // nil unless a check or extractor needs the body
}

// HTTPOption configures an HTTP step.
type HTTPOption func(*httpStep) error

type httpStep struct {
	name     string
	method   string
	url      template
	body     *template
	header   []headerTmpl
	timeout  time.Duration
	expect   []int
	checks   []func(*Response) error
	extracts []func(*Response, *VU) error
	needBody bool
}

// HTTP returns a step that sends method to the URL template (placeholders
// like {{id}} are filled from the VU's stored values and current row), reads
// the whole response, and checks it. Without [Expect], any status below 400
// passes. Bad options are reported when the journey is built.
func HTTP(name, method, url string, opts ...HTTPOption) Part {
	s := &httpStep{name: name, method: method}
	var errs []error
	t, err := parseTemplate(url)
	if err != nil {
		errs = append(errs, err)
	}
	s.url = t
	for _, o := range opts {
		if err := o(s); err != nil {
			errs = append(errs, err)
		}
	}
	if method == "" {
		errs = append(errs, errors.New("method must be non-empty"))
	}
	if err := errors.Join(errs...); err != nil {
		return badPart{name: name, err: err}
	}
	return stepPart{name: name, http: s}
}

// GET is HTTP(name, "GET", url, opts...).
func GET(name, url string, opts ...HTTPOption) Part { return HTTP(name, http.MethodGet, url, opts...) }

// POST is HTTP(name, "POST", url, Body(body), opts...).
func POST(name, url, body string, opts ...HTTPOption) Part {
	return HTTP(name, http.MethodPost, url, append([]HTTPOption{Body(body)}, opts...)...)
}

// badPart carries an HTTP step's option errors to New.
type badPart struct {
	name string
	err  error
}

func (badPart) part() {}

type headerTmpl struct {
	key string
	val template
}

// Header adds a request header; its value is a template like the URL.
func Header(key, value string) HTTPOption {
	return func(s *httpStep) error {
		if key == "" {
			return errors.New("Header: empty key")
		}
		t, err := parseTemplate(value)
		s.header = append(s.header, headerTmpl{http.CanonicalHeaderKey(key), t})
		return err
	}
}

// Body sets the request body, a template like the URL.
func Body(tmpl string) HTTPOption {
	return func(s *httpStep) error {
		t, err := parseTemplate(tmpl)
		s.body = &t
		return err
	}
}

// Timeout bounds the whole request, body included; past it the step fails
// as a timeout. It must be > 0. Without it, the journey's [Client.Timeout]
// applies ([DefaultTimeout] unless set).
func Timeout(d time.Duration) HTTPOption {
	return func(s *httpStep) error {
		if d <= 0 {
			return fmt.Errorf("Timeout must be > 0, got %v", d)
		}
		s.timeout = d
		return nil
	}
}

// Expect lists the status codes that pass; any other fails (as http_4xx,
// http_5xx, or check for other codes).
func Expect(codes ...int) HTTPOption {
	return func(s *httpStep) error {
		for _, c := range codes {
			if c < 100 || c > 599 {
				return fmt.Errorf("Expect: status %d is not in 100..599", c)
			}
		}
		s.expect = append(s.expect, codes...)
		return nil
	}
}

// Contains checks that the body contains sub.
func Contains(sub string) HTTPOption {
	return Check(func(r *Response) error {
		if !bytes.Contains(r.Body, []byte(sub)) {
			return fmt.Errorf("body does not contain %q", sub)
		}
		return nil
	})
}

// JSONEquals checks that the JSON value at path (see [ExtractJSON]) equals
// want, compared as its JSON text without quotes for strings.
func JSONEquals(path, want string) HTTPOption {
	return Check(func(r *Response) error {
		got, err := jsonPath(r.Body, path)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("JSON %s is %q, want %q", path, got, want)
		}
		return nil
	})
}

// Check adds a custom check of the response; its error fails the step as
// a failed check.
func Check(f func(*Response) error) HTTPOption {
	return func(s *httpStep) error {
		if f == nil {
			return errors.New("Check: nil function")
		}
		s.checks = append(s.checks, f)
		s.needBody = true
		return nil
	}
}

// ExtractJSON stores the JSON value at path into the VU's key. A path is
// dot-separated object keys and array indexes: "items.0.id".
func ExtractJSON(path, key string) HTTPOption {
	return extract(func(r *Response, vu *VU) error {
		v, err := jsonPath(r.Body, path)
		if err != nil {
			return err
		}
		vu.Set(key, v)
		return nil
	})
}

// ExtractHeader stores the response header name into the VU's key.
func ExtractHeader(name, key string) HTTPOption {
	return extract(func(r *Response, vu *VU) error {
		v := r.Header.Get(name)
		if v == "" {
			return fmt.Errorf("no header %q", name)
		}
		vu.Set(key, v)
		return nil
	})
}

// ExtractRegexp stores the first submatch of re in the body into the VU's
// key; re must have a group.
func ExtractRegexp(re, key string) HTTPOption {
	rx, err := regexp.Compile(re)
	return func(s *httpStep) error {
		if err != nil {
			return fmt.Errorf("ExtractRegexp: %w", err)
		}
		if rx.NumSubexp() < 1 {
			return fmt.Errorf("ExtractRegexp %q: needs a (group) to extract", re)
		}
		return extract(func(r *Response, vu *VU) error {
			m := rx.FindSubmatch(r.Body)
			if m == nil {
				return fmt.Errorf("body does not match %q", re)
			}
			vu.Set(key, string(m[1]))
			return nil
		})(s)
	}
}

func extract(f func(*Response, *VU) error) HTTPOption {
	return func(s *httpStep) error {
		s.extracts = append(s.extracts, f)
		s.needBody = true
		return nil
	}
}

func jsonPath(body []byte, path string) (string, error) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("body is not JSON: %w", err)
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return "", fmt.Errorf("JSON has no %q in %s", k, path)
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return "", fmt.Errorf("JSON index %q out of range in %s", k, path)
			}
			v = x[i]
		default:
			return "", fmt.Errorf("JSON %s: %q is not inside an object or array", path, k)
		}
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, _ := json.Marshal(v)
	return string(b), nil
}

// do sends the request and judges the response; what the response was
// stays in vu.http for [httpStep.record].
func (s *httpStep) do(ctx context.Context, vu *VU) error {
	st := &vu.http
	st.reset()
	var err error
	if st.url, err = s.url.fill(st.url, vu); err != nil {
		return err
	}
	var body io.Reader
	if s.body != nil {
		if st.body, err = s.body.fill(st.body, vu); err != nil {
			return err
		}
		body = bytes.NewReader(st.body)
	}
	timeout := s.timeout
	if timeout == 0 {
		timeout = vu.client.cfg.timeout()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, st.trace), s.method, string(st.url), body)
	if err != nil {
		return metrics.WithOutcome(err, metrics.Other)
	}
	for _, h := range s.header {
		v, err := h.val.fill(st.hdr[:0], vu)
		if err != nil {
			return err
		}
		st.hdr = v
		req.Header.Add(h.key, string(v))
	}
	resp, err := vu.HTTP.Do(req)
	if err != nil {
		return classify(err)
	}
	var data []byte
	if s.needBody {
		data, err = io.ReadAll(resp.Body)
		st.recv = int64(len(data))
	} else {
		st.recv, err = io.Copy(io.Discard, resp.Body) // io.Discard reads into pooled buffers
	}
	resp.Body.Close()
	st.bodyDone = time.Now()
	st.responded, st.status, st.sent = true, resp.StatusCode, int64(len(st.body))
	if err != nil {
		return classify(err)
	}
	if ok := s.statusOK(resp.StatusCode); !ok {
		o := metrics.CheckFailed
		switch {
		case resp.StatusCode >= 500:
			o = metrics.HTTP5xx
		case resp.StatusCode >= 400:
			o = metrics.HTTP4xx
		}
		return metrics.WithOutcome(fmt.Errorf("%s %s: status %d", s.method, st.url, resp.StatusCode), o)
	}
	if len(s.checks)+len(s.extracts) > 0 {
		r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
		for _, c := range s.checks {
			if err := c(r); err != nil {
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
	rec(phTTFB, inWrote, inFirstByte)
	if fb := st.at[inFirstByte].Load(); fb != 0 && st.responded {
		vu.shard.Record(ph[phReceive], end, st.bodyDone.Sub(clockBase)-time.Duration(fb-1), o)
	}
}

// classify turns a transport error into its outcome class.
func classify(err error) error {
	o := metrics.Other
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		o = metrics.Timeout
	case errors.Is(err, syscall.ECONNREFUSED):
		o = metrics.Refused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		o = metrics.Reset
	case errors.Is(err, context.Canceled):
		o = metrics.Other
	}
	return metrics.WithOutcome(err, o)
}
