package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

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
	sendJSON bool // SendJSON: a JSON body with its Content-Type
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
	if s.sendJSON {
		switch {
		case s.body == nil:
			errs = append(errs, errors.New("SendJSON needs a body (POST's, or Body)"))
		case s.hasHeader("Content-Type"):
			errs = append(errs, errors.New("SendJSON sets the Content-Type header: give SendJSON or a Content-Type Header, not both"))
		default:
			ct, _ := parseTemplate(jsonContentType)
			s.header = append(s.header, headerTmpl{key: "Content-Type", val: ct})
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

// POST is HTTP(name, "POST", url, Body(body), opts...). It sends the body
// as it is, with no Content-Type unless an option sets one: add
// [SendJSON] for a JSON API, as in
//
//	scenario.POST("apply", base+"/apply", `{"name":"{{name}}"}`, scenario.SendJSON())
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
// The Content-Type header is not set for you: [SendJSON] sets it for a
// JSON body.
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

// SendJSON says that the step's body is JSON: the request carries
// "Content-Type: application/json", and the body's placeholders are
// written as JSON (see [Body]). It needs a body, and replaces a
// Content-Type [Header] (giving both is an error).
func SendJSON() HTTPOption {
	return func(s *httpStep) error {
		s.sendJSON = true
		return nil
	}
}

const jsonContentType = "application/json"

// hasHeader reports whether a Header option set key (canonical).
func (s *httpStep) hasHeader(key string) bool {
	for _, h := range s.header {
		if h.key == key {
			return true
		}
	}
	return false
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

// CheckResponse adds a custom check of the response; its error fails the step as
// a failed check.
func CheckResponse(f func(*Response) error) HTTPOption {
	return func(s *httpStep) error {
		if f == nil {
			return errors.New("CheckResponse: nil function")
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
