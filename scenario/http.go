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
	at             [numInstants]atomic.Int64 // monotonic nanoseconds since clockBase; 0: not seen
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

var clockBase = time.Now()

func (s *httpState) mark(i int) { s.markAt(i, time.Now()) }

// markAt marks instant i as t.
func (s *httpState) markAt(i int, t time.Time) { s.at[i].Store(int64(t.Sub(clockBase)) + 1) }

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

// Response is what checks and extractors see of an HTTP response.
type Response struct {
	Status int
	Header http.Header
	// Body is nil unless a check or extractor needs the body; then it is
	// the whole body, which is at most the step's [MaxBody] (a longer body
	// fails the step before any check runs).
	Body []byte
}

// DefaultMaxBody is how much of a response body is read for checks and
// extractors when neither the step ([MaxBody]) nor the journey's [Client]
// says otherwise: 1 MiB, well above the JSON documents and pages that
// checks usually read, and small enough that a thousand VUs checking at
// once hold at most 1 GiB.
const DefaultMaxBody = 1 << 20

// HTTPOption configures an HTTP step.
type HTTPOption func(*httpStep) error

type httpStep struct {
	name     string
	method   string
	url      template
	body     *template
	header   []headerTmpl
	timeout  time.Duration
	maxBody  int64
	expect   []int
	checks   []check
	extracts []func(*Response, *VU) error
	uses     []*template // the values checks compare with
	keys     []extractKey
	needBody bool
}

// check is a check of a response, with the VU whose values fill its
// templates.
type check func(r *Response, vu *VU) error

// extractKey is a value an extractor stores, and which one.
type extractKey struct{ key, by string }

// HTTP returns a step that sends method to the URL template, reads the
// whole response, and checks it. Without [Expect], any status below 400
// passes. Mistakes are reported when the journey is built ([New]): a
// method that is not an HTTP token, a URL that does not parse or is not
// http or https, bad options, and placeholders that nothing before the
// step provides.
//
// # Templates
//
// The URL, the body ([Body]), header values ([Header]) and the values
// that [Contains] and [JSONEquals] compare with are templates: {{name}}
// is replaced by the VU's stored value of that name (set by an extractor
// of an earlier step, or by a Go step with [VU.Set] and declared with
// [Provides]) or else by the current row's column of that name;
// {{vu.id}} and {{vu.iteration}} by the VU's id and iteration number.
// Each value is escaped for the place where its placeholder stands, as
// read from the template's literal text when the step is built:
//
//   - in the URL's path, as a path segment (url.PathEscape): "/", "?",
//     "#" and the like are percent-encoded, so "../admin" stays in its
//     segment as "..%2Fadmin"; values that make a segment "." or "..",
//     alone or with their neighbours ("/{{a}}{{b}}/", "/{{a}}./"), fail
//     the step;
//   - in the URL's query or fragment, as a query component
//     (url.QueryEscape): "a&b=c" is "a%26b%3Dc";
//   - in the URL's host or port, the value must be a host name, an IP
//     address or a port (letters, digits and - . _ ~ : [ ]), or the step
//     fails;
//   - in the body, as [Body] says: as JSON string content, form-encoded,
//     or as is;
//   - in a header value, as is, but a value holding a control character
//     (CR, LF …) fails the step instead of splitting the header;
//   - in a value a check compares with, as is: a check sends nothing.
//
// The URL goes on the wire as its template and values make it, on
// either client: bytes that a request line cannot hold as they are (a
// space, an "é", "<>\^`{|}) are percent-encoded where they stand, the
// fragment is not sent, and nothing else changes, so a value's escapes
// stay escapes ("..%2Fadmin" is never sent as "../admin").
//
// {{raw name}} inserts the value as is wherever it stands: a base URL
// ({{raw base}}/meetings, whose scheme and host are then checked only
// when the request is made), a piece of JSON ({"filter": {{raw f}}}), a
// path of several segments. Only header values still refuse control
// characters (net/http would refuse them anyway). A raw value does not
// change how the placeholders after it are read: that comes from the
// literal text alone.
//
// A step whose value is missing or refused when the request is made fails
// with outcome other.
func HTTP(name, method, url string, opts ...HTTPOption) Part {
	s := &httpStep{name: name, method: method}
	var errs []error
	if method == "" {
		errs = append(errs, errors.New("method must be non-empty"))
	} else if !isToken(method) {
		errs = append(errs, fmt.Errorf("method %q is not an HTTP token (letters, digits and !#$%%&'*+-.^_`|~, no space)", method))
	}
	t, err := parseTemplate(url)
	if err == nil {
		err = t.forURL()
	}
	if err != nil {
		errs = append(errs, err)
	}
	s.url = t
	for _, o := range opts {
		if o == nil {
			errs = append(errs, errors.New("an option is nil"))
		} else if err := o(s); err != nil {
			errs = append(errs, err)
		}
	}
	if s.body != nil {
		if err := s.body.forBody(s.contentType()); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return badPart{name: name, errs: errs}
	}
	return stepPart{name: name, http: s}
}

// GET is HTTP(name, "GET", url, opts...).
func GET(name, url string, opts ...HTTPOption) Part { return HTTP(name, http.MethodGet, url, opts...) }

// POST is HTTP(name, "POST", url, Body(body), opts...).
func POST(name, url, body string, opts ...HTTPOption) Part {
	return HTTP(name, http.MethodPost, url, append([]HTTPOption{Body(body)}, opts...)...)
}

// badPart carries an HTTP step's errors to New.
type badPart struct {
	name string
	errs []error
}

func (badPart) part() {}

// templates returns every template of the step, in the order they are
// filled.
func (s *httpStep) templates() []*template {
	ts := []*template{&s.url}
	for i := range s.header {
		ts = append(ts, &s.header[i].val)
	}
	if s.body != nil {
		ts = append(ts, s.body)
	}
	return append(ts, s.uses...)
}

// contentType returns the step's Content-Type header, or "" if it has
// none or if it is a template.
func (s *httpStep) contentType() string {
	for _, h := range s.header {
		if h.key == "Content-Type" {
			if len(h.val.holes) > 0 {
				return ""
			}
			return h.val.src
		}
	}
	return ""
}

type headerTmpl struct {
	key string
	val template
}

// Header adds a request header. The key must be a valid header name (an
// HTTP token: letters, digits and !#$%&'*+-.^_`|~); the value is a
// template (see [HTTP]) whose placeholders are inserted as they are, but
// a value that holds a control character such as CR or LF fails the step
// (outcome other) rather than being sent. A Host header replaces the
// URL's host in the request (the connection still goes to the URL's
// host), once per step; Content-Length, Transfer-Encoding and Trailer
// are the client's to write and are refused.
func Header(key, value string) HTTPOption {
	return func(s *httpStep) error {
		if key == "" {
			return errors.New("Header: empty key")
		}
		if !isToken(key) {
			return fmt.Errorf("Header: key %q is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~, no space or colon)", key)
		}
		key = http.CanonicalHeaderKey(key)
		switch key {
		case "Content-Length", "Transfer-Encoding", "Trailer":
			return fmt.Errorf("Header %q: the client writes it from the body; a step cannot set it", key)
		case "Host":
			for _, h := range s.header {
				if h.key == "Host" {
					return errors.New(`Header "Host" is given twice; a request has one host`)
				}
			}
		}
		t, err := parseTemplate(value)
		if err != nil {
			return fmt.Errorf("Header %q: %w", key, err)
		}
		if err := t.forHeader(key); err != nil {
			return err
		}
		s.header = append(s.header, headerTmpl{key, t})
		return nil
	}
}

// isToken reports whether s is an HTTP token (RFC 9110), what a method
// and a header name must be.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// Body sets the request body, a template (see [HTTP]). How a
// placeholder's value is written depends on the kind of body, decided
// when the step is built:
//
//   - JSON, when the step's Content-Type header ([Header]) is
//     application/json or ends in +json, or, with no Content-Type header,
//     when the body starts with { or [ (after white space). Inside a JSON
//     string, as in {"name":"{{name}}"}, a value is written as
//     json.Marshal writes a string, without the quotes, so it cannot end
//     the string. Outside strings, as in {"n":{{n}}}, it must be a JSON
//     number, true, false or null, or the step fails; {{raw name}}
//     inserts any JSON. With its placeholders filled with "" and 0, the
//     body must be valid JSON, or [New] reports it (not checked when a
//     raw placeholder stands outside strings).
//   - A form, when the Content-Type is application/x-www-form-urlencoded:
//     values are query-escaped (url.QueryEscape), so "a&b" is "a%26b".
//   - Text, otherwise: values are inserted as they are.
//
// A Content-Type header whose value is itself a template counts as none.
// The Content-Type header is not set for you.
func Body(tmpl string) HTTPOption {
	return func(s *httpStep) error {
		t, err := parseTemplate(tmpl)
		if err != nil {
			return fmt.Errorf("Body: %w", err)
		}
		s.body = &t
		return nil
	}
}

// Timeout bounds the whole request, body included, counted from the
// step's start; past it the step fails as a timeout. It must be > 0.
// Without it, the journey's [Client.Timeout] applies ([DefaultTimeout]
// unless set).
func Timeout(d time.Duration) HTTPOption {
	return func(s *httpStep) error {
		if d <= 0 {
			return fmt.Errorf("Timeout must be > 0, got %v", d)
		}
		s.timeout = d
		return nil
	}
}

// MaxBody caps how much of the response body is kept for the step's
// checks and extractors; it must be > 0. Without it, the journey's
// [Client.MaxBody] applies ([DefaultMaxBody] unless set). A longer body
// is still read to its end and counted as received, but not kept: the
// step fails as a failed check. A step without checks or extractors keeps
// nothing, whatever the size.
func MaxBody(n int64) HTTPOption {
	return func(s *httpStep) error {
		if n <= 0 {
			return fmt.Errorf("MaxBody must be > 0 bytes, got %d", n)
		}
		s.maxBody = n
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

// Contains checks that the body contains sub, a template (see [HTTP])
// whose values are inserted as they are: Contains("meeting {{id}}").
func Contains(sub string) HTTPOption {
	return func(s *httpStep) error {
		t, err := parseTemplate(sub)
		if err != nil {
			return fmt.Errorf("Contains: %w", err)
		}
		if len(t.holes) == 0 {
			b := []byte(sub)
			s.addCheck(func(r *Response, _ *VU) error {
				if !bytes.Contains(r.Body, b) {
					return fmt.Errorf("body does not contain %q", sub)
				}
				return nil
			})
			return nil
		}
		tp := s.use(t, "Contains value")
		s.addCheck(func(r *Response, vu *VU) error {
			want, err := vu.http.fillCheck(tp, vu)
			if err != nil {
				return err
			}
			if !bytes.Contains(r.Body, want) {
				return fmt.Errorf("body does not contain %q", want)
			}
			return nil
		})
		return nil
	}
}

// JSONEquals checks that the JSON value at path (see [ExtractJSON]) equals
// want, compared as its JSON text without quotes for strings. want is a
// template (see [HTTP]) whose values are inserted as they are:
// JSONEquals("owner", "{{vu.id}}") compares with the VU's id.
func JSONEquals(path, want string) HTTPOption {
	return func(s *httpStep) error {
		if path == "" {
			return errors.New("JSONEquals: empty path")
		}
		t, err := parseTemplate(want)
		if err != nil {
			return fmt.Errorf("JSONEquals: %w", err)
		}
		tp := s.use(t, "JSONEquals value")
		s.addCheck(func(r *Response, vu *VU) error {
			got, err := jsonPath(r.Body, path)
			if err != nil {
				return err
			}
			w := want
			if len(tp.holes) > 0 {
				b, err := vu.http.fillCheck(tp, vu)
				if err != nil {
					return err
				}
				if got == string(b) {
					return nil
				}
				w = string(b)
			}
			if got != w {
				return fmt.Errorf("JSON %s is %q, want %q", path, got, w)
			}
			return nil
		})
		return nil
	}
}

// use records a check's template, whose placeholders New checks with the
// step's others, and returns where it is kept.
func (s *httpStep) use(t template, where string) *template {
	t.where = where
	s.uses = append(s.uses, &t)
	return &t
}

func (s *httpStep) addCheck(c check) {
	s.checks = append(s.checks, c)
	s.needBody = true
}

// fillCheck fills a check's template into the VU's check buffer.
func (st *httpState) fillCheck(t *template, vu *VU) ([]byte, error) {
	var err error
	st.chk, err = t.fill(st.chk[:0], vu)
	return st.chk, err
}

// Check adds a custom check of the response; its error fails the step as
// a failed check.
func Check(f func(*Response) error) HTTPOption {
	return func(s *httpStep) error {
		if f == nil {
			return errors.New("Check: nil function")
		}
		s.addCheck(func(r *Response, _ *VU) error { return f(r) })
		return nil
	}
}

// ExtractJSON stores the JSON value at path into the VU's key. A path is
// dot-separated object keys and array indexes: "items.0.id". Neither may
// be empty.
func ExtractJSON(path, key string) HTTPOption {
	return func(s *httpStep) error {
		if path == "" || key == "" {
			return fmt.Errorf("ExtractJSON(%q, %q): the path and the key must be non-empty", path, key)
		}
		return s.extract(key, "ExtractJSON", func(r *Response, vu *VU) error {
			v, err := jsonPath(r.Body, path)
			if err != nil {
				return err
			}
			vu.Set(key, v)
			return nil
		})
	}
}

// ExtractHeader stores the response header name into the VU's key.
// Neither may be empty.
func ExtractHeader(name, key string) HTTPOption {
	return func(s *httpStep) error {
		if name == "" || key == "" {
			return fmt.Errorf("ExtractHeader(%q, %q): the header name and the key must be non-empty", name, key)
		}
		return s.extract(key, "ExtractHeader", func(r *Response, vu *VU) error {
			v := r.Header.Get(name)
			if v == "" {
				return fmt.Errorf("no header %q", name)
			}
			vu.Set(key, v)
			return nil
		})
	}
}

// ExtractRegexp stores the first submatch of re in the body into the VU's
// key; re must have a group, and key must be non-empty.
func ExtractRegexp(re, key string) HTTPOption {
	rx, err := regexp.Compile(re)
	return func(s *httpStep) error {
		if err != nil {
			return fmt.Errorf("ExtractRegexp: %w", err)
		}
		if rx.NumSubexp() < 1 {
			return fmt.Errorf("ExtractRegexp %q: needs a (group) to extract", re)
		}
		if key == "" {
			return fmt.Errorf("ExtractRegexp %q: the key must be non-empty", re)
		}
		return s.extract(key, "ExtractRegexp", func(r *Response, vu *VU) error {
			m := rx.FindSubmatch(r.Body)
			if m == nil {
				return fmt.Errorf("body does not match %q", re)
			}
			vu.Set(key, string(m[1]))
			return nil
		})
	}
}

func (s *httpStep) extract(key, by string, f func(*Response, *VU) error) error {
	s.extracts = append(s.extracts, f)
	s.keys = append(s.keys, extractKey{key, by})
	s.needBody = true
	return nil
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

// request makes the net/http request of the step, prepared in vu.http.
func (s *httpStep) request(ctx context.Context, vu *VU) (*http.Request, error) {
	st := &vu.http
	var body io.Reader
	if s.body != nil {
		body = bytes.NewReader(st.body)
	}
	req, err := http.NewRequestWithContext(ctx, s.method, string(st.url), body)
	if err != nil {
		return nil, metrics.WithOutcome(err, metrics.Other)
	}
	if err := s.headers(vu, func(k string, v []byte) {
		if k == "Host" {
			req.Host = string(v) // net/http sends req.Host, not a Host header
			return
		}
		req.Header.Add(k, string(v))
	}); err != nil {
		return nil, err
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = userAgentValue
	}
	return req, nil
}

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
		vu.shard.Record(ph[phReceive], end, done.Sub(clockBase)-time.Duration(fb-1), o)
	}
}

// errServerClosedIdle is the text of net/http's unexported error for a
// kept-alive connection that the server closed as a request went out on
// it (a request that cannot be retried, such as a POST, gets it).
const errServerClosedIdle = "http: server closed idle connection"

// classify turns a transport error into its outcome class: a connection
// the peer reset or closed (ECONNRESET, EPIPE, an early EOF, a kept-alive
// connection the server closed) is reset.
func classify(err error) error {
	o := metrics.Other
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		o = metrics.Timeout
	case errors.Is(err, syscall.ECONNREFUSED):
		o = metrics.Refused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		strings.Contains(err.Error(), errServerClosedIdle):
		o = metrics.Reset
	case errors.Is(err, context.Canceled):
		o = metrics.Other
	}
	return metrics.WithOutcome(err, o)
}
