// Package wire is the HTTP/1.1 codec of scenario's own client: a
// request's URL split for its request line, a response's head read from a
// bufio.Reader, and its body framed as RFC 9112 section 6 says (none,
// Content-Length, chunked, or up to the connection's end).
//
// Call [SplitURL] on a sendable URL, write the request with [AppendTarget]
// and [AppendBasicAuth], then read the answer with [Head.Read] and
// [Body.Reset]:
//
//	var h wire.Head
//	if err := h.Read(br, method == "HEAD"); err != nil { ... }
//	var b wire.Body
//	b.Reset(br, &h)
//	n, err := b.Discard()
//
// A head keeps its header lines as they came, for checks and extractors,
// which see them as net/http would ([Head.Header] reads them with
// net/textproto). Nothing here allocates for a response of the usual kind.
package wire

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/textproto"
	"net/url"
	"sync"
)

// MaxHead bounds a response's heads (interim ones included), as net/http
// bounds them by default (Transport.MaxResponseHeaderBytes).
const MaxHead = 10 << 20

// ErrMalformed is the error of a response that is not HTTP/1.x.
var ErrMalformed = errors.New("malformed HTTP response")

// URL is an absolute http or https URL split for a request.
type URL struct {
	HTTPS     bool
	Authority []byte // host[:port], without user information
	Userinfo  []byte // before the '@', if any
	Target    []byte // path and query as written; empty for "/"
}

// SplitURL splits u, an absolute http or https URL.
func SplitURL(u []byte) (URL, error) {
	var f URL
	var ok bool
	if f.HTTPS, f.Authority, f.Target, ok = CutAuthority(u); !ok {
		return f, errors.New("the URL is not http or https")
	}
	if at := bytes.LastIndexByte(f.Authority, '@'); at >= 0 {
		f.Userinfo, f.Authority = f.Authority[:at], f.Authority[at+1:]
	}
	if n := len(f.Authority); n > 0 && f.Authority[n-1] == ':' {
		f.Authority = f.Authority[:n-1] // an empty port: the scheme's
	}
	if len(f.Authority) == 0 {
		return f, errors.New("the URL has no host")
	}
	if i := bytes.IndexByte(f.Target, '#'); i >= 0 {
		f.Target = f.Target[:i] // a fragment is not sent
	}
	for _, c := range f.Authority {
		if c <= ' ' || c == 0x7f {
			return f, fmt.Errorf("the URL's host holds the byte %q", c)
		}
	}
	for i, c := range f.Target {
		switch {
		case c < ' ' || c == 0x7f:
			return f, fmt.Errorf("the URL holds the control character %q", c)
		case c == '%' && (i+2 >= len(f.Target) || !isHex(f.Target[i+1]) || !isHex(f.Target[i+2])):
			return f, fmt.Errorf("the URL holds %q, which is not a percent-escape", clip(f.Target[i:min(i+3, len(f.Target))]))
		}
	}
	return f, nil
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f' }

// AppendTarget appends the request target of u: its path and query, "/"
// for an empty path. The URL must be sendable already: what a request line
// cannot hold percent-encoded (scenario does that as it fills a template).
func AppendTarget(b []byte, u *URL) []byte {
	if len(u.Target) == 0 || u.Target[0] == '?' {
		b = append(b, '/')
	}
	return append(b, u.Target...)
}

// AppendBasicAuth appends an Authorization header for a URL's user
// information, as net/http sends it.
func AppendBasicAuth(b []byte, userinfo []byte) ([]byte, error) {
	u, err := url.Parse("http://" + string(userinfo) + "@h/")
	if err != nil || u.User == nil {
		return b, fmt.Errorf("the URL's user information %q does not parse", userinfo)
	}
	pass, _ := u.User.Password()
	b = append(b, "Authorization: Basic "...)
	b = base64.StdEncoding.AppendEncode(b, []byte(u.User.Username()+":"+pass))
	return append(b, "\r\n"...), nil
}

// HasToken reports whether a comma-separated header value holds token,
// in any case.
func HasToken(v []byte, token string) bool {
	for tok := range bytes.SplitSeq(v, []byte(",")) {
		if bytes.EqualFold(trimOWS(tok), []byte(token)) {
			return true
		}
	}
	return false
}

// BodyMethod reports whether a request of method without a body states
// Content-Length: 0, as net/http's does.
func BodyMethod(method string) bool {
	return method == "POST" || method == "PUT" || method == "PATCH"
}

// Head is what a response's head says.
type Head struct {
	Status  int
	Minor   int   // HTTP/1.Minor
	Length  int64 // the body's length; -1 if it is chunked or runs to the connection's end
	Chunked bool
	Close   bool // the connection is not to be used again
	// Gzip: the body is gzip-encoded (Content-Encoding: gzip).
	Gzip bool
	// Cookies: the head sets cookies (Set-Cookie).
	Cookies  bool
	lines    []byte // the header lines as they came, each ended by CRLF, then CRLF
	long     []byte // a line longer than the reader's buffer, put together
	location [2]int // where the Location value is in lines; {0, 0} if none
}

// Location returns the value of the head's Location header, or nil; it is
// valid until the next Read.
func (h *Head) Location() []byte {
	if h.location[1] == 0 {
		return nil
	}
	return h.lines[h.location[0]:h.location[1]]
}

// Read reads a response's head from br, skipping interim (1xx)
// responses; head says whether the request was a HEAD.
func (h *Head) Read(br *bufio.Reader, head bool) error {
	size := 0 // of all the heads
	for {
		if err := h.readOne(br, head, &size); err != nil {
			return err
		}
		if h.Status >= 200 || h.Status == http.StatusSwitchingProtocols {
			break
		}
	}
	if h.Status == http.StatusSwitchingProtocols {
		return fmt.Errorf("%w: 101 Switching Protocols, which the client does not take up", ErrMalformed)
	}
	return nil
}

// readOne reads one response head.
func (h *Head) readOne(br *bufio.Reader, head bool, size *int) error {
	h.lines, h.Length, h.Chunked, h.Close = h.lines[:0], -1, false, false
	h.Gzip, h.Cookies, h.location = false, false, [2]int{}
	line, _, err := h.line(br, size)
	if err != nil {
		return err
	}
	// HTTP/1.x SP 3DIGIT [SP reason]
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
		len(line) > 12 && line[12] != ' ' {
		return fmt.Errorf("%w: status line %q", ErrMalformed, clip(line))
	}
	h.Minor = int(line[7] - '0')
	h.Status = 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: status line %q", ErrMalformed, clip(line))
		}
		h.Status = h.Status*10 + int(c-'0')
	}
	if h.Status < 100 {
		return fmt.Errorf("%w: status line %q", ErrMalformed, clip(line))
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
		if colon <= 0 || line[0] == ' ' || line[0] == '\t' || bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line[:colon], ' ') >= 0 || bytes.IndexByte(line[:colon], '\t') >= 0 {
			return fmt.Errorf("%w: header line %q", ErrMalformed, clip(line))
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		switch {
		case len(name) == 8 && h.location[1] == 0 && bytes.EqualFold(name, []byte("Location")): // the first, as net/http's Get
			// value lies within line, which lies just before the CRLF
			// appended to lines.
			at := len(h.lines) - 2 - len(line) + (cap(line) - cap(value))
			h.location = [2]int{at, at + len(value)}
		// The names below, each compared only at its own length.
		case len(name) == 10 && bytes.EqualFold(name, []byte("Set-Cookie")):
			h.Cookies = true
		case len(name) == 16 && bytes.EqualFold(name, []byte("Content-Encoding")):
			h.Gzip = bytes.EqualFold(value, []byte("gzip"))
		case len(name) == 14 && bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseLength(value)
			if !ok || h.Length >= 0 && n != h.Length {
				return fmt.Errorf("%w: Content-Length %q", ErrMalformed, clip(value))
			}
			h.Length = n
		case len(name) == 17 && bytes.EqualFold(name, []byte("Transfer-Encoding")):
			if h.Minor == 0 {
				continue // not HTTP/1.0's: ignored, as net/http does
			}
			if !bytes.EqualFold(value, []byte("chunked")) {
				return fmt.Errorf("%w: Transfer-Encoding %q is not chunked", ErrMalformed, clip(value))
			}
			te = true
		case len(name) == 10 && bytes.EqualFold(name, []byte("Connection")):
			h.Close = h.Close || HasToken(value, "close")
			keepAlive = keepAlive || HasToken(value, "keep-alive")
		}
	}
	h.lines = append(h.lines, '\r', '\n')
	if h.Minor == 0 && !keepAlive {
		h.Close = true
	}
	switch {
	case head || h.Status < 200 || h.Status == http.StatusNoContent || h.Status == http.StatusNotModified:
		h.Length = 0
	case te:
		h.Chunked, h.Length = true, -1
	case h.Length < 0:
		h.Close = true // the body runs to the connection's end
	}
	return nil
}

// line reads a line of the head without its CRLF (or LF), counting its
// bytes in size against MaxHead, and says whether it ended with CRLF. It
// is valid until the next read.
func (h *Head) line(br *bufio.Reader, size *int) ([]byte, bool, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		h.long = append(h.long[:0], line...)
		for err == bufio.ErrBufferFull && *size+len(h.long) <= MaxHead {
			line, err = br.ReadSlice('\n')
			h.long = append(h.long, line...)
		}
		line = h.long
	}
	*size += len(line)
	if *size > MaxHead {
		return nil, false, fmt.Errorf("%w: the head is larger than %s", ErrMalformed, "10 MiB")
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

// Header returns the head's header lines as net/http would.
func (h *Head) Header() http.Header {
	m, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(h.lines))).ReadMIMEHeader()
	if err != nil && len(m) == 0 {
		return http.Header{}
	}
	if HasToken([]byte(m.Get("Connection")), "close") {
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

// Body reads a response's body from the connection's reader, as its
// head frames it.
type Body struct {
	br      *bufio.Reader
	n       int64 // bytes left in the body, or in the current chunk
	chunked bool
	toEOF   bool // the body runs to the connection's end
	started bool // a chunk was read: CRLF comes before the next size
	done    bool
	err     error // to report at the next Read
	head    *Head // for the trailer lines
}

// Reset frames the body of a response with head h.
func (b *Body) Reset(br *bufio.Reader, h *Head) {
	*b = Body{br: br, head: h, chunked: h.Chunked, toEOF: !h.Chunked && h.Length < 0}
	if !h.Chunked && h.Length >= 0 {
		b.n = h.Length
		b.done = h.Length == 0
	}
}

// more makes n the bytes readable now, reading the next chunk's size if
// need be; it returns false at the body's end.
func (b *Body) more() (bool, error) {
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
			return false, fmt.Errorf("%w: no CRLF after a chunk", ErrMalformed)
		}
	}
	b.started = true
	line, crlf, err := b.head.line(b.br, &size)
	if err != nil {
		return false, eofIsUnexpected(err)
	}
	if !crlf {
		return false, fmt.Errorf("%w: a chunk size line without CRLF", ErrMalformed)
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // a chunk extension
	}
	n, ok := parseHex(trimOWS(line))
	if !ok {
		return false, fmt.Errorf("%w: chunk size %q", ErrMalformed, clip(line))
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
func (b *Body) Read(p []byte) (int, error) {
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

// Done reports whether the body was read to its end.
func (b *Body) Done() bool { return b.done }

// Discard reads the rest of the body without keeping it and returns how
// many bytes that was. A large body is read straight from the connection
// in 64 KiB reads, not through the reader's buffer: fewer system calls
// per byte than net/http's 8 KiB copies.
func (b *Body) Discard() (int64, error) {
	var total int64
	for {
		if b.toEOF {
			n, err := b.drain(math.MaxInt64)
			b.done = true
			if err == io.EOF {
				err = nil
			}
			return total + n, err
		}
		ok, err := b.more()
		if !ok || err != nil {
			return total, err
		}
		var n int64
		if b.n > int64(b.br.Size()) {
			n, err = b.drain(b.n)
		} else {
			var m int
			m, err = b.br.Discard(int(b.n))
			n = int64(m)
		}
		total += n
		b.n -= n
		if err != nil {
			return total, eofIsUnexpected(err)
		}
	}
}

// scratch holds the buffers that drain reads into, shared by every client.
var scratch = sync.Pool{New: func() any { return new([64 << 10]byte) }}

// drain reads and drops up to n bytes: what the reader holds, then reads
// of the connection into a scratch buffer, which bypass the reader's.
func (b *Body) drain(n int64) (int64, error) {
	buf := scratch.Get().(*[64 << 10]byte)
	defer scratch.Put(buf)
	var total int64
	for total < n {
		m, err := b.br.Read(buf[:min(n-total, int64(len(buf)))])
		total += int64(m)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// eofIsUnexpected turns the end of the connection inside a body into
// io.ErrUnexpectedEOF.
func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Trim lets go of buffers that an unusually large head grew, so that a
// client does not keep the largest head it ever read. The head's header
// lines and location are not valid after it.
func (h *Head) Trim() {
	const keep = 64 << 10
	if cap(h.lines) > keep {
		h.lines = nil
	}
	if cap(h.long) > keep {
		h.long = nil
	}
	h.location = [2]int{}
}

// CutAuthority splits u, an absolute http or https URL (the scheme in any
// case): the authority (user information and host) ends at the first "/",
// "?" or "#", and rest is what follows. ok is false for any other scheme.
func CutAuthority(u []byte) (https bool, authority, rest []byte, ok bool) {
	switch {
	case len(u) >= 7 && bytes.EqualFold(u[:7], []byte("http://")):
		rest = u[7:]
	case len(u) >= 8 && bytes.EqualFold(u[:8], []byte("https://")):
		https, rest = true, u[8:]
	default:
		return false, nil, nil, false
	}
	end := bytes.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	return https, rest[:end], rest[end:], true
}
