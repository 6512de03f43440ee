package wire

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readWire reads one response of the fast path's codec from raw: its
// head, its body and what is left on the connection after it.
func readWire(raw string, head bool) (h *Head, body string, rest string, err error) {
	br := bufio.NewReaderSize(strings.NewReader(raw), 64)
	h = &Head{}
	if err := h.Read(br, head); err != nil {
		return h, "", "", err
	}
	var b Body
	b.Reset(br, h)
	data, err := io.ReadAll(&b)
	left, _ := io.ReadAll(br)
	return h, string(data), string(left), err
}

func TestWireReadsResponses(t *testing.T) {
	long := strings.Repeat("v", 5000) // longer than the reader's buffer
	for _, tc := range []struct {
		name, raw   string
		head        bool
		status      int
		body, rest  string
		close       bool
		headerKey   string
		headerValue string
	}{
		{name: "length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhelloNEXT", status: 200, body: "hello", rest: "NEXT", headerKey: "X-A", headerValue: "b"},
		{name: "no reason", raw: "HTTP/1.1 204\r\n\r\nNEXT", status: 204, rest: "NEXT"},
		{name: "LF only", raw: "HTTP/1.1 200 OK\ncontent-length: 2\n\nhiNEXT", status: 200, body: "hi", rest: "NEXT"},
		{name: "chunked", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA \r\n, world!!!\r\n0\r\nTrailer: x\r\n\r\nNEXT",
			status: 200, body: "hello, world!!!", rest: "NEXT"},
		{name: "chunked wins over length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", status: 200, body: "hi"},
		{name: "HEAD has no body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nNEXT", head: true, status: 200, rest: "NEXT"},
		{name: "304 has no body", raw: "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nNEXT", status: 304, rest: "NEXT"},
		{name: "interim responses skipped", raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", status: 201, body: "ok"},
		{name: "to the end", raw: "HTTP/1.1 200 OK\r\n\r\nall of it", status: 200, body: "all of it", close: true},
		{name: "close", raw: "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n", status: 200, close: true},
		{name: "HTTP/1.0", raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", close: true},
		{name: "HTTP/1.0 keep-alive", raw: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok"},
		{name: "long header line", raw: "HTTP/1.1 200 OK\r\nX-Long: " + long + "\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", headerKey: "X-Long", headerValue: long},
		{name: "same length twice", raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, body, rest, err := readWire(tc.raw, tc.head)
			require.NoError(t, err)
			assert.Equal(t, tc.status, h.Status)
			assert.Equal(t, tc.body, body)
			assert.Equal(t, tc.rest, rest)
			assert.Equal(t, tc.close, h.Close, "close")
			if tc.headerKey != "" {
				assert.Equal(t, tc.headerValue, h.Header().Get(tc.headerKey))
			}
		})
	}
}

func TestWireRefusesMalformedResponses(t *testing.T) {
	for name, raw := range map[string]string{
		"not HTTP":          "SSH-2.0-OpenSSH\r\n\r\n",
		"HTTP/2 status":     "HTTP/2 200 OK\r\n\r\n",
		"short status":      "HTTP/1.1 20\r\n\r\n",
		"letters in status": "HTTP/1.1 2x0 OK\r\n\r\n",
		"status below 100":  "HTTP/1.1 099 Odd\r\n\r\n",
		"two lengths":       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"bad length":        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"gzip coding":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"no colon":          "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
		"bad chunk size":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"no CRLF":           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n0\r\n\r\n",
		"switching":         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
		"head too large":    "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("v", MaxHead) + "\r\n\r\n",
		"endless 100s":      strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", MaxHead/25+1),
		"folded line":       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n 0\r\n\r\n0123456789",
		"CR in a line":      "HTTP/1.1 200 OK\r\nX: a\rContent-Length: 3\r\n\r\nabc",
		"space in a name":   "HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\nabc",
		"tab in a name":     "HTTP/1.1 200 OK\r\nContent-Length\t: 3\r\n\r\nabc",
		"chunk size LF":     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nhi\r\n0\r\n\r\n",
		"chunk end LF":      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\n0\r\n\r\n",
	} {
		_, _, _, err := readWire(raw, false)
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
	for name, raw := range map[string]string{
		"nothing":          "",
		"cut in the head":  "HTTP/1.1 200 OK\r\nContent-Le",
		"cut in the body":  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel",
		"cut in a chunk":   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
		"no last chunk":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n",
		"cut in a trailer": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n",
	} {
		_, _, _, err := readWire(raw, false)
		if name == "nothing" {
			assert.ErrorIs(t, err, io.EOF, name) // a kept-alive connection the server closed
			continue
		}
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, name)
	}
}

// TestWireReadsWhatTheClientActsOn: Location, a gzip encoding and
// Set-Cookie are noted as the head is read; Trim lets go of a large head's
// buffers.
func TestWireReadsWhatTheClientActsOn(t *testing.T) {
	h, _, _, err := readWire("HTTP/1.1 302 Found\r\nSet-Cookie: a=1\r\nLocation:  /next?x=1 \r\nContent-Encoding: GZIP\r\nContent-Length: 0\r\n\r\n", false)
	require.NoError(t, err)
	assert.Equal(t, "/next?x=1", string(h.Location()))
	assert.True(t, h.Gzip)
	assert.True(t, h.Cookies)
	h, _, _, err = readWire("HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 0\r\n\r\n", false)
	require.NoError(t, err)
	assert.Nil(t, h.Location())
	assert.False(t, h.Gzip)
	assert.False(t, h.Cookies)

	h, _, _, err = readWire("HTTP/1.1 200 OK\r\nX: "+strings.Repeat("v", 100<<10)+"\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", false)
	require.NoError(t, err)
	assert.Equal(t, "/x", string(h.Location()))
	h.Trim()
	assert.Nil(t, h.lines, "a head's lines over 64 KiB are let go")
	assert.Nil(t, h.long)
	assert.Nil(t, h.Location())
}

// FuzzWireAgreesWithNetHTTP: on any bytes, the codec does not panic, and
// where both it and net/http read a response, they read the same status,
// body and header values, agree on whether the connection may be used
// again, and, when it may, leave the same bytes on it.
func FuzzWireAgreesWithNetHTTP(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 404 Not Found\r\nX: 1\r\nContent-Length: 1\r\n\r\nx",
		"HTTP/1.0 200 OK\r\n\r\nto the end",
		"HTTP/1.1 304 Not Modified\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, head bool) {
		h, body, rest, err := readWire(raw, head)
		if err == nil { // Discard reads what Read reads
			br := bufio.NewReaderSize(strings.NewReader(raw), 64)
			var h2 Head
			require.NoError(t, h2.Read(br, head))
			var b Body
			b.Reset(br, &h2)
			n, derr := b.Discard()
			left, _ := io.ReadAll(br)
			if derr != nil || n != int64(len(body)) || string(left) != rest {
				t.Fatalf("Discard: %d bytes, %v, %q left; Read: %d bytes, %q left", n, derr, left, len(body), rest)
			}
		}
		method := "GET"
		if head {
			method = "HEAD"
		}
		req, _ := http.NewRequest(method, "http://h/", nil)
		br := bufio.NewReader(strings.NewReader(raw))
		resp, herr := http.ReadResponse(br, req)
		for herr == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			resp, herr = http.ReadResponse(br, req) // interim responses, as net/http's Transport skips them
		}
		if err != nil || herr != nil {
			return
		}
		hbody, berr := io.ReadAll(resp.Body)
		if berr != nil {
			return
		}
		hrest, _ := io.ReadAll(br)
		if h.Status != resp.StatusCode || body != string(hbody) {
			t.Fatalf("codec: %d %q; net/http: %d %q", h.Status, body, resp.StatusCode, hbody)
		}
		if h.Close != resp.Close {
			t.Fatalf("codec: close %v; net/http: close %v", h.Close, resp.Close)
		}
		if !h.Close && rest != string(hrest) {
			t.Fatalf("left on the connection: codec %q, net/http %q", rest, hrest)
		}
		if string(h.Location()) != resp.Header.Get("Location") {
			t.Fatalf("Location: codec %q, net/http %q", h.Location(), resp.Header.Get("Location"))
		}
		if h.Gzip != strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") || h.Cookies != (len(resp.Header["Set-Cookie"]) > 0) {
			t.Fatalf("codec: gzip %v, cookies %v; net/http: %q", h.Gzip, h.Cookies, resp.Header)
		}
		for k, v := range h.Header() {
			if k != "Content-Length" && k != "Transfer-Encoding" && resp.Header.Get(k) != v[0] {
				t.Fatalf("header %s: codec %q, net/http %q", k, v[0], resp.Header.Get(k))
			}
		}
	})
}
