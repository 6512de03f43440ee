package scenario

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
)

// The fast path's HTTP/1.1 codec ([Client.Fast]): a request written into
// a buffer of the VU's own, and a response read from the connection's
// bufio.Reader, with its body framed as RFC 9112 section 6 says (none,
// Content-Length, chunked, or up to the connection's end). It keeps the
// response's header lines as they came, for checks and extractors, which
// see them as net/http would (net/textproto reads them). Nothing here
// allocates for a request of the usual kind.

// maxHead bounds a response's heads (interim ones included), as net/http
// bounds them by default (Transport.MaxResponseHeaderBytes).
const maxHead = 10 << 20

// errMalformed is the error of a response that is not HTTP/1.x.
var errMalformed = errors.New("malformed HTTP response")

// fastURL is an absolute http or https URL split for a request.
type fastURL struct {
	https     bool
	authority []byte // host[:port], without user information
	userinfo  []byte // before the '@', if any
	target    []byte // path and query as written; empty for "/"
}

// splitURL splits u, an absolute http or https URL.
func splitURL(u []byte) (fastURL, error) {
	var f fastURL
	var ok bool
	if f.https, f.authority, f.target, ok = cutAuthority(u); !ok {
		return f, errors.New("the fast path sends http and https URLs")
	}
	if at := bytes.LastIndexByte(f.authority, '@'); at >= 0 {
		f.userinfo, f.authority = f.authority[:at], f.authority[at+1:]
	}
	if n := len(f.authority); n > 0 && f.authority[n-1] == ':' {
		f.authority = f.authority[:n-1] // an empty port: the scheme's
	}
	if len(f.authority) == 0 {
		return f, errors.New("the URL has no host")
	}
	if i := bytes.IndexByte(f.target, '#'); i >= 0 {
		f.target = f.target[:i] // a fragment is not sent
	}
	for _, c := range f.authority {
		if c <= ' ' || c == 0x7f {
			return f, fmt.Errorf("the URL's host holds the byte %q", c)
		}
	}
	for i, c := range f.target {
		switch {
		case c < ' ' || c == 0x7f:
			return f, fmt.Errorf("the URL holds the control character %q", c)
		case c == '%' && (i+2 >= len(f.target) || !isHex(f.target[i+1]) || !isHex(f.target[i+2])):
			return f, fmt.Errorf("the URL holds %q, which is not a percent-escape", clip(f.target[i:min(i+3, len(f.target))]))
		}
	}
	return f, nil
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f' }

// appendTarget appends the request target of u: its path and query, "/"
// for an empty path. The URL is sendable already ([appendSendable]).
func appendTarget(b []byte, u *fastURL) []byte {
	if len(u.target) == 0 || u.target[0] == '?' {
		b = append(b, '/')
	}
	return append(b, u.target...)
}

// appendBasicAuth appends an Authorization header for a URL's user
// information, as net/http sends it.
func appendBasicAuth(b []byte, userinfo []byte) ([]byte, error) {
	u, err := url.Parse("http://" + string(userinfo) + "@h/")
	if err != nil || u.User == nil {
		return b, fmt.Errorf("the URL's user information %q does not parse", userinfo)
	}
	pass, _ := u.User.Password()
	b = append(b, "Authorization: Basic "...)
	b = base64.StdEncoding.AppendEncode(b, []byte(u.User.Username()+":"+pass))
	return append(b, "\r\n"...), nil
}

// hasToken reports whether a comma-separated header value holds token,
// in any case.
func hasToken(v []byte, token string) bool {
	for tok := range bytes.SplitSeq(v, []byte(",")) {
		if bytes.EqualFold(trimOWS(tok), []byte(token)) {
			return true
		}
	}
	return false
}

// bodyMethod reports whether a request of method without a body states
// Content-Length: 0, as net/http's does.
func bodyMethod(method string) bool {
	return method == "POST" || method == "PUT" || method == "PATCH"
}

// respHead is what a response's head says.
type respHead struct {
	status  int
	minor   int   // HTTP/1.minor
	length  int64 // the body's length; -1 if it is chunked or runs to the connection's end
	chunked bool
	close   bool   // the connection is not to be used again
	lines   []byte // the header lines as they came, each ended by CRLF, then CRLF
	long    []byte // a line longer than the reader's buffer, put together
}

// read reads a response's head from br, skipping interim (1xx)
// responses; head says whether the request was a HEAD.
func (h *respHead) read(br *bufio.Reader, head bool) error {
	size := 0 // of all the heads
	for {
		if err := h.readOne(br, head, &size); err != nil {
			return err
		}
		if h.status >= 200 || h.status == http.StatusSwitchingProtocols {
			break
		}
	}
	if h.status == http.StatusSwitchingProtocols {
		return fmt.Errorf("%w: 101 Switching Protocols is not for the fast path", errMalformed)
	}
	return nil
}

// readOne reads one response head.
func (h *respHead) readOne(br *bufio.Reader, head bool, size *int) error {
	h.lines, h.length, h.chunked, h.close = h.lines[:0], -1, false, false
	line, _, err := h.line(br, size)
	if err != nil {
		return err
	}
	// HTTP/1.x SP 3DIGIT [SP reason]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
		len(line) > 12 && line[12] != ' ' {
		return fmt.Errorf("%w: status line %q", errMalformed, clip(line))
	}
	h.minor = int(line[7] - '0')
	h.status = 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: status line %q", errMalformed, clip(line))
		}
		h.status = h.status*10 + int(c-'0')
	}
	if h.status < 100 {
		return fmt.Errorf("%w: status line %q", errMalformed, clip(line))
	}
	keepAlive, te := false, false
	for {
		line, _, err := h.line(br, size)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		h.lines = append(append(h.lines, line...), '\r', '\n')
		colon := bytes.IndexByte(line, ':')
		// A folded line, a CR inside a line and a name with a space are
		// refused, as net/http refuses them.
		if colon <= 0 || line[0] == ' ' || line[0] == '\t' || bytes.IndexByte(line, '\r') >= 0 || bytes.ContainsAny(line[:colon], " \t") {
			return fmt.Errorf("%w: header line %q", errMalformed, clip(line))
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		switch {
		case len(name) < 10: // none of the names below
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseLength(value)
			if !ok || h.length >= 0 && n != h.length {
				return fmt.Errorf("%w: Content-Length %q", errMalformed, clip(value))
			}
			h.length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if h.minor == 0 {
				continue // not HTTP/1.0's: ignored, as net/http does
			}
			if !bytes.EqualFold(value, []byte("chunked")) {
				return fmt.Errorf("%w: Transfer-Encoding %q is not chunked", errMalformed, clip(value))
			}
			te = true
		case bytes.EqualFold(name, []byte("Connection")):
			h.close = h.close || hasToken(value, "close")
			keepAlive = keepAlive || hasToken(value, "keep-alive")
		}
	}
	h.lines = append(h.lines, '\r', '\n')
	if h.minor == 0 && !keepAlive {
		h.close = true
	}
	switch {
	case head || h.status < 200 || h.status == http.StatusNoContent || h.status == http.StatusNotModified:
		h.length = 0
	case te:
		h.chunked, h.length = true, -1
	case h.length < 0:
		h.close = true // the body runs to the connection's end
	}
	return nil
}

// line reads a line of the head without its CRLF (or LF), counting its
// bytes in size against maxHead, and says whether it ended with CRLF. It
// is valid until the next read.
func (h *respHead) line(br *bufio.Reader, size *int) ([]byte, bool, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		h.long = append(h.long[:0], line...)
		for err == bufio.ErrBufferFull && *size+len(h.long) <= maxHead {
			line, err = br.ReadSlice('\n')
			h.long = append(h.long, line...)
		}
		line = h.long
	}
	*size += len(line)
	if *size > maxHead {
		return nil, false, fmt.Errorf("%w: the head is larger than %s", errMalformed, formatSize(maxHead))
	}
	if err != nil {
		if err == io.EOF && *size > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		return line[:n-1], true, nil
	}
	return line, false, nil
}

// header returns the head's header lines as net/http would.
func (h *respHead) header() http.Header {
	m, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(h.lines))).ReadMIMEHeader()
	if err != nil && len(m) == 0 {
		return http.Header{}
	}
	if hasToken([]byte(m.Get("Connection")), "close") {
		m.Del("Connection") // as net/http takes it out
	}
	return http.Header(m)
}

// trimOWS trims the spaces and tabs around a value.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseLength parses a Content-Length value: decimal digits.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseHex parses a chunk size: hexadecimal digits.
func parseHex(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= (c|0x20) && (c|0x20) <= 'f':
			c = (c | 0x20) - 'a' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(c)
	}
	return n, true
}

// clip shortens what an error quotes.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// fastBody reads a response's body from the connection's reader, as its
// head frames it.
type fastBody struct {
	br      *bufio.Reader
	n       int64 // bytes left in the body, or in the current chunk
	chunked bool
	toEOF   bool // the body runs to the connection's end
	started bool // a chunk was read: CRLF comes before the next size
	done    bool
	err     error     // to report at the next Read
	head    *respHead // for the trailer lines
}

// reset frames the body of a response with head h.
func (b *fastBody) reset(br *bufio.Reader, h *respHead) {
	*b = fastBody{br: br, head: h, chunked: h.chunked, toEOF: !h.chunked && h.length < 0}
	if !h.chunked && h.length >= 0 {
		b.n = h.length
		b.done = h.length == 0
	}
}

// more makes n the bytes readable now, reading the next chunk's size if
// need be; it returns false at the body's end.
func (b *fastBody) more() (bool, error) {
	if b.n > 0 || b.toEOF {
		return true, nil
	}
	if !b.chunked || b.done {
		b.done = true
		return false, nil
	}
	size := 0
	// Chunk lines end with CRLF: a bare LF is refused, as net/http
	// refuses it.
	if b.started {
		line, crlf, err := b.head.line(b.br, &size)
		if err != nil {
			return false, eofIsUnexpected(err)
		}
		if len(line) != 0 || !crlf {
			return false, fmt.Errorf("%w: no CRLF after a chunk", errMalformed)
		}
	}
	b.started = true
	line, crlf, err := b.head.line(b.br, &size)
	if err != nil {
		return false, eofIsUnexpected(err)
	}
	if !crlf {
		return false, fmt.Errorf("%w: a chunk size line without CRLF", errMalformed)
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // a chunk extension
	}
	n, ok := parseHex(trimOWS(line))
	if !ok {
		return false, fmt.Errorf("%w: chunk size %q", errMalformed, clip(line))
	}
	if n == 0 { // the last chunk: trailer lines up to an empty one
		for {
			line, _, err := b.head.line(b.br, &size)
			if err != nil {
				return false, eofIsUnexpected(err)
			}
			if len(line) == 0 {
				b.done = true
				return false, nil
			}
		}
	}
	b.n = n
	return true, nil
}

// Read reads the body.
func (b *fastBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if ok, err := b.more(); !ok || err != nil {
		if err == nil {
			err = io.EOF
		}
		return 0, err
	}
	if !b.toEOF && int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.br.Read(p)
	b.n -= int64(n)
	if b.toEOF {
		if err == io.EOF {
			b.done = true
		}
		return n, err
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if n > 0 && err != nil {
		b.err, err = err, nil // reported at the next Read
	}
	return n, err
}

// discard reads the rest of the body without keeping it and returns how
// many bytes that was.
func (b *fastBody) discard() (int64, error) {
	var total int64
	for {
		if b.toEOF {
			n, err := b.br.WriteTo(io.Discard)
			b.done = true
			return total + n, err
		}
		ok, err := b.more()
		if !ok || err != nil {
			return total, err
		}
		n, err := b.br.Discard(int(min(b.n, 1<<30)))
		total += int64(n)
		b.n -= int64(n)
		if err != nil {
			return total, eofIsUnexpected(err)
		}
	}
}

// eofIsUnexpected turns the end of the connection inside a body into
// io.ErrUnexpectedEOF.
func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
