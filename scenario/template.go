package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stampede-go/stampede/internal/wire"
)

// escape is how a placeholder's value is written where it stands. It is
// decided once, when the step is built, from the placeholder's place in
// the template: filling a template only applies it.
type escape uint8

const (
	escRaw        escape = iota // as is: {{raw name}}, plain-text bodies, check values
	escPath                     // a URL path segment (url.PathEscape)
	escQuery                    // a URL query component or the fragment (url.QueryEscape); a form body
	escHost                     // the URL's host or port: only host characters pass
	escJSONString               // inside a JSON string: JSON string content
	escJSONValue                // a JSON value outside strings: a number, true, false or null
	escHeader                   // a header value: refused if it holds a control character
)

// The values a VU always has.
const (
	builtinVUID        = "vu.id"
	builtinVUIteration = "vu.iteration"
)

// hole is one placeholder of a template.
type hole struct {
	name    string
	raw     bool   // written {{raw name}}: inserted as is
	esc     escape // set by the template's context (forURL, forBody, forHeader)
	builtin uint8  // 1: vu.id, 2: vu.iteration
}

// template is a string with {{name}} placeholders, filled from the VU's
// stored values and current row; {{vu.id}} and {{vu.iteration}} are the
// VU's id and iteration number. Each placeholder's value is escaped for
// its place (see [HTTP]) unless written {{raw name}}.
type template struct {
	src   string
	where string   // "URL", "body", "header X": for messages
	lits  []string // len(holes)+1 literal pieces around the placeholders
	holes []hole
}

func parseTemplate(s string) (template, error) {
	t := template{src: s}
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			t.lits = append(t.lits, s)
			return t, nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return t, fmt.Errorf("template %q: unclosed {{", t.src)
		}
		inner := s[i+2 : i+j]
		f := strings.Fields(inner)
		var h hole
		switch {
		case len(f) == 1:
			h.name = f[0]
		case len(f) == 2 && f[0] == "raw":
			h.name, h.raw = f[1], true
		default:
			return t, fmt.Errorf("template %q: bad placeholder {{%s}}: want {{name}} or {{raw name}}", t.src, inner)
		}
		if strings.ContainsAny(h.name, "{}") {
			return t, fmt.Errorf("template %q: bad placeholder {{%s}}: a name cannot hold { or }", t.src, inner)
		}
		switch h.name {
		case builtinVUID:
			h.builtin = 1
		case builtinVUIteration:
			h.builtin = 2
		}
		t.lits = append(t.lits, s[:i])
		t.holes = append(t.holes, h)
		s = s[i+j+2:]
	}
}

// fill appends the template, its placeholders filled and escaped, to dst.
func (t *template) fill(dst []byte, vu *VU) ([]byte, error) {
	base := len(dst)
	// Where values made only of dots (or of nothing) went in a URL's path:
	// such a value may make, alone or with its neighbours, a segment "."
	// or "..".
	var dots, holes [4]int
	nd := 0
	dst = append(dst, t.lits[0]...)
	for i := range t.holes {
		h := &t.holes[i]
		switch h.builtin {
		case 1: // digits need no escaping anywhere
			dst = strconv.AppendInt(dst, int64(vu.ID), 10)
		case 2:
			dst = strconv.AppendInt(dst, vu.Iteration, 10)
		default:
			v, ok := vu.Get(h.name)
			if !ok {
				return dst, fmt.Errorf("no value for {{%s}} in the %s %q (neither stored nor in the row)", h.name, t.where, t.src)
			}
			if h.esc == escPath && strings.Trim(v, ".") == "" {
				if nd == len(dots) {
					return dst, fmt.Errorf("the %s %q has more than %d values made of dots", t.where, t.src, len(dots))
				}
				dots[nd], holes[nd] = len(dst)-base, i
				nd++
			}
			var err error
			if dst, err = h.append(dst, v); err != nil {
				return dst, fmt.Errorf("{{%s}} in the %s %q: %w", h.name, t.where, t.src, err)
			}
		}
		dst = append(dst, t.lits[i+1]...)
	}
	if nd > 0 {
		if seg, in, ok := dotSegment(dst[base:], dots[:nd]); ok {
			var names []string
			for k, h := range holes[:nd] {
				if in[k] && !slices.Contains(names, "{{"+t.holes[h].name+"}}") {
					names = append(names, "{{"+t.holes[h].name+"}}")
				}
			}
			return dst, fmt.Errorf("%s in the %s %q: the values make the path segment %q, which moves up the path", strings.Join(names, " and "), t.where, t.src, seg)
		}
	}
	return dst, nil
}

// dotSegment finds, in the path of the filled URL u, a segment "." or ".."
// that holds one of the offsets at; in says which.
func dotSegment(u []byte, at []int) (seg string, in [4]bool, found bool) {
	_, _, rest, ok := wire.CutAuthority(u)
	if !ok {
		return "", in, false
	}
	start := len(u) - len(rest)
	end := start + bytes.IndexAny(rest, "?#")
	if end < start {
		end = len(u)
	}
	for i := start; i < end; {
		j := i + 1
		for j < end && u[j] != '/' {
			j++
		}
		if s := string(u[i+1 : j]); s == "." || s == ".." { // after the '/'
			for k, a := range at {
				if i < a && a < j {
					in[k], found, seg = true, true, s
				}
			}
			if found {
				return seg, in, true
			}
		}
		i = j
	}
	return "", in, false
}

// append appends v escaped for the hole's place, or refuses it.
func (h *hole) append(dst []byte, v string) ([]byte, error) {
	switch h.esc {
	case escPath:
		return appendEscaped(dst, v, &pathSafe, false), nil
	case escQuery:
		return appendEscaped(dst, v, &querySafe, true), nil
	case escHost:
		for i := 0; i < len(v); i++ {
			if !hostSafe[v[i]] {
				return dst, fmt.Errorf("the value %q is not a host name, IP address or port (letters, digits and - . _ ~ : [ ] only)", v)
			}
		}
	case escJSONString:
		return appendJSONString(dst, v), nil
	case escJSONValue:
		if !isJSONScalar(v) {
			return dst, fmt.Errorf("the value %q stands outside a JSON string, where it must be a JSON number, true, false or null; put the placeholder in quotes for a string, or write {{raw %s}} to insert JSON", v, h.name)
		}
	case escHeader:
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
				return dst, fmt.Errorf("the value %q holds a control character (CR, LF …), which a header value cannot hold", v)
			}
		}
	}
	return append(dst, v...), nil
}

// Which bytes stay as they are: in a path segment (url.PathEscape), in a
// query component (url.QueryEscape), in a host.
var pathSafe, querySafe, hostSafe = func() (p, q, h [256]bool) {
	for c := range 256 {
		b := byte(c)
		alnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		unreserved := alnum || strings.IndexByte("-_.~", b) >= 0
		q[c] = unreserved
		p[c] = unreserved || strings.IndexByte("$&+:=@", b) >= 0
		h[c] = unreserved || strings.IndexByte(":[]", b) >= 0
	}
	return
}()

// appendEscaped percent-encodes the bytes of s that safe does not keep;
// with plus, a space is "+".
func appendEscaped(dst []byte, s string, safe *[256]bool, plus bool) []byte {
	const hex = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if safe[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		if c == ' ' && plus {
			dst = append(dst, '+')
		} else {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// jsonSafe is the ASCII that json.Marshal writes as is (it escapes <, >
// and & for HTML).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return
}()

// appendJSONString appends s as the content of a JSON string, as
// json.Marshal writes it (without the quotes).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&15])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	return append(dst, s[start:]...)
}

// isJSONScalar reports whether v is a JSON number, true, false or null.
func isJSONScalar(v string) bool {
	switch v {
	case "true", "false", "null":
		return true
	}
	i := 0
	digits := func() int {
		n := 0
		for i < len(v) && '0' <= v[i] && v[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(v) && v[i] == '-' {
		i++
	}
	switch {
	case i < len(v) && v[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(v) && v[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(v)
}

// unsafeInPath is what a request's path cannot hold as it is: what
// url.URL.EscapedPath percent-encodes (a space, a control character, a
// byte above 0x7e, and "<>\^`{|}). In the query, only a space and bytes
// above 0x7e are unsafe here.
var unsafeInPath = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c <= ' ' || c > 0x7e || strings.IndexByte("\"<>\\^`{|}", byte(c)) >= 0
	}
	return t
}()

// appendSendable appends u, a filled URL, as both clients send it: after
// the scheme and host, what a path or query cannot hold as it is (see
// unsafeInPath) is percent-encoded, and the fragment, which is not sent,
// is left out. Every other byte stays as it is, so a value's escapes
// ("..%2Fadmin") reach the server as the template wrote them.
//
// This is what keeps net/http honest: given a path with one byte that is
// not validly escaped (an "é" or a space of the template's own), net/url
// drops the escaped form and net/http sends the decoded path escaped
// anew, turning a value's "%2F" back into "/". A path escaped here is
// valid, and net/http sends it as it is.
//
// A URL that does not start with http:// or https:// is appended as it
// is: the client refuses it.
func appendSendable(dst, u []byte) []byte {
	_, _, rest, ok := wire.CutAuthority(u)
	if !ok {
		return append(dst, u...)
	}
	dst = append(dst, u[:len(u)-len(rest)]...)
	query := false
	for _, c := range rest {
		switch {
		case c == '#':
			return dst
		case c == '?':
			query = true
		case c < ' ' || c == 0x7f: // control characters stay, to be refused
		case c == ' ' || c > 0x7e || !query && unsafeInPath[c]:
			dst = append(dst, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// dummy fills the template with a stand-in for every placeholder, to check
// what the literal text makes of it.
func (t *template) dummy(value func(i int, h *hole) string) string {
	var b strings.Builder
	b.WriteString(t.lits[0])
	for i := range t.holes {
		b.WriteString(value(i, &t.holes[i]))
		b.WriteString(t.lits[i+1])
	}
	return b.String()
}

// forURL decides where each placeholder of a URL stands (host, path,
// query, fragment) and checks the URL: with every placeholder filled with
// "0" (or "::1" just after a "["), it must parse with the scheme http or
// https and a host. A URL whose start (scheme and host) comes from a raw
// placeholder is checked when the request is made.
func (t *template) forURL() error {
	t.where = "URL"
	if t.src == "" {
		return errors.New("URL is empty; want an http:// or https:// URL")
	}
	const (
		inStart = iota // before a literal scheme://
		inHost
		inPath
		inQuery
		inFragment
	)
	state := inStart
	scan := func(lit string) {
		for i := 0; i < len(lit); i++ {
			switch c := lit[i]; {
			case c == '#':
				state = inFragment
			case c == '?' && state < inQuery:
				state = inQuery
			case c == '/' && state < inPath:
				state = inPath
			}
		}
	}
	if k := strings.Index(t.lits[0], "://"); k > 0 && validScheme(t.lits[0][:k]) {
		state = inHost
		scan(t.lits[0][k+3:])
	}
	rawStart := false
	for i := range t.holes {
		h := &t.holes[i]
		if i > 0 || state == inStart {
			scan(t.lits[i])
		}
		if h.raw {
			h.esc = escRaw
			if state <= inHost {
				rawStart = true
			}
			if state == inStart {
				state = inHost // the raw value brings the scheme; its host ends at the next /, ? or #
			}
			continue
		}
		switch state {
		case inStart:
			return fmt.Errorf("URL %q: {{%s}} stands before the scheme; start the URL with http:// or https://, or write {{raw %s}} to take the start of the URL from a value as is", t.src, h.name, h.name)
		case inHost:
			h.esc = escHost
		case inPath:
			h.esc = escPath
		default:
			h.esc = escQuery
		}
	}
	if rawStart {
		return nil
	}
	u, err := url.Parse(t.dummy(func(i int, h *hole) string {
		if h.esc == escHost && strings.HasSuffix(t.lits[i], "[") {
			return "::1" // an IPv6 address: http://[{{ip}}]:8080/
		}
		return "0"
	}))
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("URL %q does not parse: %v", t.src, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("URL %q: the scheme must be http or https, got %q", t.src, u.Scheme)
	case u.Host == "":
		return fmt.Errorf("URL %q has no host", t.src)
	}
	return nil
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// forHeader makes every placeholder of a header value refuse control
// characters, raw or not (net/http would refuse them anyway), and checks
// the literal text.
func (t *template) forHeader(key string) error {
	t.where = "header " + key
	for i := range t.holes {
		t.holes[i].esc = escHeader
	}
	for _, l := range t.lits {
		for j := 0; j < len(l); j++ {
			if c := l[j]; c < ' ' && c != '\t' || c == 0x7f {
				return fmt.Errorf("Header %q: the value %q holds a control character (CR, LF …), which a header value cannot hold", key, t.src)
			}
		}
	}
	return nil
}

// Body kinds, as [Body] documents them.
const (
	bodyText = iota
	bodyForm
	bodyJSON
)

// forBody decides how the body's placeholders are escaped, from the
// request's Content-Type (ct; "" if none or if it is a template) or else
// the body's first character, and checks a JSON body's shape.
func (t *template) forBody(ct string) error {
	t.where = "body"
	kind := bodyText
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
		}
		switch {
		case mt == "application/x-www-form-urlencoded":
			kind = bodyForm
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			kind = bodyJSON
		}
	} else if s := strings.TrimLeft(t.lits[0], " \t\r\n"); s != "" && (s[0] == '{' || s[0] == '[') {
		kind = bodyJSON
	}
	switch kind {
	case bodyForm:
		for i := range t.holes {
			if !t.holes[i].raw {
				t.holes[i].esc = escQuery
			}
		}
	case bodyJSON:
		inString, rawValue := false, false
		// An escape sequence in a string: escaped just after its backslash,
		// hex the digits of a \uXXXX still to come, seq where it started.
		escaped, hex, seq := false, 0, 0
		for i, l := range t.lits {
			for j := 0; j < len(l); j++ {
				switch c := l[j]; {
				case escaped:
					escaped = false
					if c == 'u' {
						hex = 4
					}
				case hex > 0:
					hex--
				case inString && c == '\\':
					escaped, seq = true, j
				case c == '"':
					inString = !inString
				}
			}
			if i == len(t.holes) {
				break
			}
			h := &t.holes[i]
			switch {
			case h.raw:
				rawValue = rawValue || !inString
			case escaped || hex > 0:
				// A value here would finish the sequence: after a
				// backslash, the backslash that escapes a quote of the
				// value would be escaped itself, and the quote would end
				// the string.
				return fmt.Errorf("Body %q: {{%s}} stands in the escape sequence %s of a JSON string, where its value would finish the sequence (and could end the string); "+
					"complete the sequence in the template (\\\\ for a backslash) or write {{raw %s}} to insert the value as is", t.src, h.name, l[seq:], h.name)
			case inString:
				h.esc = escJSONString
			default:
				h.esc = escJSONValue
			}
			escaped, hex = false, 0 // a raw value is taken to finish a sequence it stands in
		}
		if rawValue {
			return nil // what a raw value brings is not known here
		}
		d := t.dummy(func(_ int, h *hole) string {
			if h.esc == escJSONValue {
				return "0"
			}
			return ""
		})
		var v any
		if err := json.Unmarshal([]byte(d), &v); err != nil {
			why := "its Content-Type is JSON"
			if ct == "" {
				why = "it starts with " + string(strings.TrimLeft(t.lits[0], " \t\r\n")[0]) + " and has no Content-Type header"
			}
			return fmt.Errorf("Body %q is taken for JSON (%s), but it is not valid JSON: %v; fix it, or set the Content-Type header of what it is", t.src, why, err)
		}
	}
	return nil
}

// names calls f with the name of every placeholder that is not built in.
func (t *template) names(f func(name string)) {
	for _, h := range t.holes {
		if h.builtin == 0 {
			f(h.name)
		}
	}
}
