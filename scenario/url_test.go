package scenario

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/internal/wire"

	"github.com/stampede-go/stampede/metrics"
)

// TestBothPathsSendTheTemplatesPath sends, on the wire, URLs whose template
// holds bytes that are not validly escaped (an "é", a space, a raw base
// with a space) and a value "../../admin": both paths send the value in
// its segment ("..%2F..%2Fadmin"). net/http once sent
// "/caf%C3%A9/../../admin/x": net/url drops a path's escaped form when any
// byte of it is not validly escaped, and net/http escaped the decoded path
// anew, turning the value's %2F back into "/".
func TestBothPathsSendTheTemplatesPath(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv, _ := rawServer(t, func(r *http.Request) (string, bool) {
		mu.Lock()
		got = append(got, r.RequestURI)
		mu.Unlock()
		return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false
	})
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			got = nil
			f, err := NewFeeder("v", []string{"v", "base"}, [][]string{{"../../admin", srv + "/my files"}}, Sequential, Wrap)
			require.NoError(t, err)
			res := runClient(t, p.c, 1, 1, Feed(f),
				GET("cafe", srv+"/café/{{v}}/x"),
				GET("space", srv+"/my files/{{v}}?q={{v}}"),
				GET("raw", "{{raw base}}/{{v}}"),
			)
			for _, s := range []string{"cafe", "space", "raw"} {
				assert.Equal(t, int64(1), step(res, "c", s).Outcomes[metrics.OK], errorsOf(res))
			}
			assert.Equal(t, []string{
				"/caf%C3%A9/..%2F..%2Fadmin/x",
				"/my%20files/..%2F..%2Fadmin?q=..%2F..%2Fadmin",
				"/my%20files/..%2F..%2Fadmin",
			}, got)
		})
	}
}

// requestLine returns the request line that each client would send for
// the URL template tmpl filled from vu, or the error it fails with:
// net/http's as Request.Write writes it (its Transport writes the same),
// and the own client's.
func requestLine(t testing.TB, tmpl string, vu *VU) (nethttp, fast string, netErr, fastErr error) {
	t.Helper()
	s := &httpStep{name: "x", method: "GET", url: *urlTemplate(t, tmpl)}
	if _, _, err := s.prepare(vu, &Client{}); err != nil {
		return "", "", err, err
	}
	first := func(b []byte) string { l, _, _ := strings.Cut(string(b), "\r\n"); return l }
	if req, err := s.request(context.Background(), vu); err != nil {
		netErr = err
	} else {
		var b bytes.Buffer
		if netErr = req.Write(&b); netErr == nil {
			nethttp = first(b.Bytes())
		}
	}
	f := &wireClient{cfg: &Client{}, st: &vu.http, jar: newVUJar()}
	r, err := f.request(s, vu)
	if err != nil {
		return nethttp, "", netErr, err
	}
	return nethttp, first(r.head), netErr, nil
}

// sendableByHand is what a request target may hold as it is, by RFC 3986
// (pchar, "/", "%" of an escape; "[" and "]", which url.URL leaves in a
// path) in the path, and any visible ASCII in the query.
func sendableByHand(c byte, query bool) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case query:
		return c > ' ' && c < 0x7f
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/%[]", c) >= 0
}

// wantTarget is the request target that tmpl must give with every
// placeholder holding v, worked out by hand: the template's literal text
// as written, but for what a request cannot hold as it is
// (sendableByHand), and each value escaped by net/url for its place; ok
// is false where that cannot be said (a placeholder in the host, or a raw
// one, which brings what it likes).
func wantTarget(tp *template, v string) (target string, ok bool) {
	for _, h := range tp.holes {
		if h.raw || h.esc == escHost || h.builtin != 0 {
			return "", false
		}
	}
	k := strings.Index(tp.lits[0], "://")
	if k < 0 || strings.IndexAny(tp.lits[0][k+3:], "/?#") < 0 {
		return "", false // the host does not end in the first piece
	}
	var b strings.Builder
	query := false
	for i, lit := range tp.lits {
		if i == 0 {
			lit = lit[k+3+strings.IndexAny(lit[k+3:], "/?#"):]
		}
		for j := 0; j < len(lit); j++ {
			c := lit[j]
			if c == '#' {
				goto done
			}
			query = query || c == '?'
			if sendableByHand(c, query) || c == '?' {
				b.WriteByte(c)
			} else {
				b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
			}
		}
		if i == len(tp.holes) {
			break
		}
		switch tp.holes[i].esc {
		case escPath:
			b.WriteString(url.PathEscape(v))
		default:
			b.WriteString(url.QueryEscape(v))
		}
	}
done:
	t := b.String()
	if t == "" || t[0] == '?' {
		t = "/" + t
	}
	return t, true
}

// FuzzURLTemplates fills hostile URL templates with hostile values (one
// value for every placeholder) and compares what the two clients would
// send: where both send, they send the same request line; where the
// template's host is its own, the target is the template's literal text
// as written (escaped only where a request cannot hold a byte) with each
// value escaped for its place, so no value moves up the path or leaves its
// segment or component.
func FuzzURLTemplates(f *testing.F) {
	for _, tc := range [][2]string{
		{"http://127.0.0.1/café/{{v}}/x", "../../admin"},
		{"http://127.0.0.1/my files/{{v}}", "../../admin"},
		{"http://127.0.0.1/api/{{a}}{{b}}/secret", "."},
		{"http://127.0.0.1/a/{{v}}./b?x={{v}}#{{v}}", "%2F.."},
		{"http://127.0.0.1/\"<a>\"/{|}?q=a b&r={{v}}", "a b\xff"},
		{"http://127.0.0.1:8080/%41{{v}}?%zz", "x"},
		{"{{raw v}}/x", "http://127.0.0.1/a b"},
		{"http://127.0.0.1/{{v}}", "é/ü?#"},
	} {
		f.Add(tc[0], tc[1])
	}
	f.Fuzz(func(t *testing.T, tmpl, v string) {
		tp, err := parseTemplate(tmpl)
		if err != nil || tp.forURL() != nil {
			return // New refuses it
		}
		vu := testVU()
		for _, h := range tp.holes {
			vu.store[h.name] = v
		}
		nethttp, fast, netErr, fastErr := requestLine(t, tmpl, vu)
		if netErr == nil && fastErr == nil && nethttp != fast {
			t.Fatalf("%q with %q: net/http sends %q, the own client %q", tmpl, v, nethttp, fast)
		}
		// Values never move up the path: a request has no more "." and
		// ".." segments than the template's literal text has.
		if !slices.ContainsFunc(tp.holes, func(h hole) bool { return h.raw }) && fastErr == nil {
			literal := tp.dummy(func(int, *hole) string { return "x" })
			if got, most := dotSegments(fast), dotSegments("GET "+appendTargetOf(literal)+" HTTP/1.1"); got > most {
				t.Fatalf("%q with %q: %q has %d dot segments; the template's text has %d", tmpl, v, fast, got, most)
			}
		}
		want, ok := wantTarget(&tp, v)
		if !ok {
			return
		}
		for _, c := range []struct {
			line string
			err  error
		}{{nethttp, netErr}, {fast, fastErr}} {
			if c.err != nil {
				continue
			}
			if got := strings.TrimSuffix(strings.TrimPrefix(c.line, "GET "), " HTTP/1.1"); got != want {
				t.Fatalf("%q with %q: sends %q, want %q", tmpl, v, got, want)
			}
		}
	})
}

// TestSendableURLsSplit: a URL made sendable splits into the authority,
// user information and request target the wire client writes.
func TestSendableURLsSplit(t *testing.T) {
	for _, tc := range []struct{ url, authority, userinfo, target string }{
		{"http://example.com", "example.com", "", "/"},
		{"HTTPS://example.com:8443/a/b?c=d#frag", "example.com:8443", "", "/a/b?c=d"},
		{"http://u:p@[::1]:80?q", "[::1]:80", "u:p", "/?q"},
		{"http://h/a b/\xc3\xa9", "h", "", "/a%20b/%C3%A9"},
		{"http://h:/x", "h", "", "/x"},
		{`http://h/"<a>"/{|}?q=a b&r="x"`, "h", "", `/%22%3Ca%3E%22/%7B%7C%7D?q=a%20b&r="x"`},
		{"http://h/%41?b=%2F", "h", "", "/%41?b=%2F"},
	} {
		u, err := wire.SplitURL(appendSendable(nil, []byte(tc.url)))
		require.NoError(t, err, tc.url)
		assert.Equal(t, tc.authority, string(u.Authority), tc.url)
		assert.Equal(t, tc.userinfo, string(u.Userinfo), tc.url)
		assert.Equal(t, tc.target, string(wire.AppendTarget(nil, &u)), tc.url)
	}
	for _, bad := range []string{"ftp://h/", "http:///path", "http://h/a\r\nX: y", "http://h\x00/", "http://h/%zz", "http://h/?x=%4"} {
		_, err := wire.SplitURL(appendSendable(nil, []byte(bad)))
		assert.Error(t, err, "%q", bad)
	}
}

// dotSegments counts the "." and ".." segments of a request line's path.
func dotSegments(line string) int {
	target := strings.TrimSuffix(strings.TrimPrefix(line, "GET "), " HTTP/1.1")
	path, _, _ := strings.Cut(target, "?")
	n := 0
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			n++
		}
	}
	return n
}

// appendTargetOf returns the request target of a URL as the own client
// writes it, or "" if it cannot.
func appendTargetOf(u string) string {
	w, err := wire.SplitURL(appendSendable(nil, []byte(u)))
	if err != nil {
		return ""
	}
	return string(wire.AppendTarget(nil, &w))
}
