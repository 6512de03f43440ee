package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// recorder is a loopback server that keeps what every request brought.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	uri, path, contentType string
	query                  url.Values
	header                 http.Header
	body                   []byte
}

func (rec *recorder) serve(t *testing.T, respond func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{uri: r.RequestURI, path: r.URL.Path, contentType: r.Header.Get("Content-Type"),
			query: r.URL.Query(), header: r.Header.Clone(), body: b})
		rec.mu.Unlock()
		if respond != nil {
			respond(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (rec *recorder) all() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.reqs...)
}

// TestInjectedValuesStayInTheirPlace: values from a feeder that would
// rewrite a JSON body, a path or a query reach the server as the data
// they are. Before values were escaped, the JSON body had an "admin" key
// and the path was /users/../admin.
func TestInjectedValuesStayInTheirPlace(t *testing.T) {
	var rec recorder
	srv := rec.serve(t, nil)
	inject := `x","admin":true,"y":"`
	users, err := NewFeeder("users", []string{"name", "path", "q"}, [][]string{{inject, "../admin?x", "a&b=c #d"}}, Sequential, Wrap)
	require.NoError(t, err)
	j, err := New("inject", Parts{
		Feed(users),
		POST("json", srv.URL+"/apply", `{"name":"{{name}}"}`),
		GET("path", srv.URL+"/users/{{path}}/profile?q={{q}}"),
		POST("form", srv.URL+"/form", "user={{q}}&n=1", Header("Content-Type", "application/x-www-form-urlencoded")),
		POST("text", srv.URL+"/text", "hello {{name}}", Header("Content-Type", "text/plain")),
	})
	require.NoError(t, err)
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
	require.Zero(t, res.Iterations("inject").Errors(), "%v", res.Errors)
	reqs := rec.all()
	require.Len(t, reqs, 4)

	var body map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].body, &body), "%s", reqs[0].body)
	assert.Equal(t, map[string]any{"name": inject}, body, "the value stays inside its JSON string")

	assert.Equal(t, "/users/..%2Fadmin%3Fx/profile?q=a%26b%3Dc+%23d", reqs[1].uri)
	assert.Equal(t, "/users/../admin?x/profile", reqs[1].path, "one segment, decoded")
	assert.Equal(t, url.Values{"q": {"a&b=c #d"}}, reqs[1].query)

	form, err := url.ParseQuery(string(reqs[2].body))
	require.NoError(t, err)
	assert.Equal(t, url.Values{"user": {"a&b=c #d"}, "n": {"1"}}, form)

	assert.Equal(t, "hello "+inject, string(reqs[3].body), "a text body takes values as they are")
}

// TestRawPlaceholders: {{raw name}} inserts a value as is: a base URL, a
// path of several segments, a piece of JSON.
func TestRawPlaceholders(t *testing.T) {
	var rec recorder
	srv := rec.serve(t, nil)
	data, err := NewFeeder("d", []string{"base", "path", "filter"}, [][]string{{srv.URL + "/api", "a/b/c", `{"tags":["go","load"]}`}}, Sequential, Wrap)
	require.NoError(t, err)
	j, err := New("raw", Parts{
		Feed(data),
		POST("search", "{{raw base}}/files/{{raw path}}?vu={{vu.id}}", `{"filter":{{raw filter}},"by":"{{path}}"}`),
	})
	require.NoError(t, err)
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
	require.Zero(t, res.Iterations("raw").Errors(), "%v", res.Errors)
	reqs := rec.all()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/api/files/a/b/c?vu=0", reqs[0].uri)
	assert.JSONEq(t, `{"filter":{"tags":["go","load"]},"by":"a/b/c"}`, string(reqs[0].body))
}

// TestRefusedValuesFailTheStep: a header value with CR LF, a ".." path
// segment and a non-scalar outside a JSON string fail their step as
// other, and nothing is sent.
func TestRefusedValuesFailTheStep(t *testing.T) {
	var rec recorder
	srv := rec.serve(t, nil)
	bad, err := NewFeeder("bad", []string{"who", "id", "n"}, [][]string{{"ann\r\nX-Admin: 1", "..", "1}, {\"admin\": true"}}, Sequential, Wrap)
	require.NoError(t, err)
	cases := []struct {
		part Part
		want string
	}{
		{GET("s", srv.URL+"/", Header("X-Who", "{{who}}")), `{{who}} in the header X-Who "{{who}}": the value "ann\r\nX-Admin: 1" holds a control character (CR, LF …)`},
		{GET("s", srv.URL+"/users/{{id}}/x"), `{{id}} in the URL`},
		{POST("s", srv.URL+"/", `{"n":{{n}}}`), `must be a JSON number, true, false or null`},
	}
	for _, tc := range cases {
		j := Must("r", Parts{Feed(bad), tc.part})
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}))
		st := step(res, "r", "s")
		assert.Equal(t, int64(2), st.Outcomes[metrics.Other], "%v", st.Outcomes)
		require.NotEmpty(t, res.Errors)
		assert.Contains(t, res.Errors[0].Message, tc.want)
	}
	assert.Empty(t, rec.all(), "no refused request reached the server")
}

// TestChecksFillTemplates: JSONEquals and Contains compare with their
// template filled for the VU, not with the literal "{{vu.id}}".
func TestChecksFillTemplates(t *testing.T) {
	var rec recorder
	srv := rec.serve(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"owner":%q,"greeting":"hello %s"}`, r.URL.Query().Get("vu"), r.URL.Query().Get("name"))
	})
	users, err := NewFeeder("users", []string{"name"}, [][]string{{"ann"}, {"bob"}}, PerVU, Wrap)
	require.NoError(t, err)
	j := Must("checks", Parts{
		Feed(users),
		GET("ok", srv.URL+"/?vu={{vu.id}}&name={{name}}", JSONEquals("owner", "{{vu.id}}"), Contains(`"greeting":"hello {{name}}"`)),
		GET("wrong", srv.URL+"/?vu=x", JSONEquals("owner", "{{vu.id}}")),
	})
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 3, Iterations: 2}))
	assert.Equal(t, int64(6), step(res, "checks", "ok").Outcomes[metrics.OK], "%v", res.Errors)
	assert.Equal(t, int64(6), step(res, "checks", "wrong").Outcomes[metrics.CheckFailed])
	require.NotEmpty(t, res.Errors)
	assert.Regexp(t, `JSON owner is "x", want "[012]"`, res.Errors[0].Message)
}

// TestProvidesDeclaresGoStepValues: a value a Go step stores, declared
// with Provides, fills the placeholders after it; declared but never
// stored, it fails the step that uses it as other.
func TestProvidesDeclaresGoStepValues(t *testing.T) {
	var rec recorder
	srv := rec.serve(t, nil)
	j, err := New("login", Parts{
		Step("login", func(ctx context.Context, vu *VU) error { vu.Set("token", fmt.Sprint("t-", vu.ID)); return nil }),
		Provides("token", "unset"),
		GET("me", srv.URL+"/me", Header("Authorization", "Bearer {{token}}")),
		GET("other", srv.URL+"/{{unset}}"),
	})
	require.NoError(t, err)
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
	reqs := rec.all()
	require.Len(t, reqs, 1)
	assert.Equal(t, "Bearer t-0", reqs[0].header.Get("Authorization"))
	assert.Equal(t, int64(1), step(res, "login", "other").Outcomes[metrics.Other])
	require.NotEmpty(t, res.Errors)
	assert.Contains(t, res.Errors[0].Message, `no value for {{unset}} in the URL`)
}

// TestBuildCatchesMistakes: New reports every mistake of HTTP steps at
// once, each with its journey and step.
func TestBuildCatchesMistakes(t *testing.T) {
	users, err := NewFeeder("users", []string{"meeting", "name"}, [][]string{{"7", "ann"}}, Sequential, Wrap)
	require.NoError(t, err)
	other, err := NewFeeder("other", []string{"x"}, [][]string{{"1"}}, Sequential, Wrap)
	require.NoError(t, err)
	ok := func(context.Context, *VU) error { return nil }
	base := "http://127.0.0.1:9"
	_, err = New("j", Parts{
		Feed(users),
		GET("list", base+"/meetings", ExtractJSON("items.0.id", "first"), JSONEquals("owner", "{{mine}}")),
		GET("typo", base+"/meetings/{{meetng}}"),
		GET("later", base+"/{{token}}", ExtractHeader("X-Self", "self"), Contains("{{self}}")),
		Group("g", GET("own", base+"/{{self}}")),
		Step("login", ok), Provides("token"),
		Feed(other),
		POST("replaced", base+"/", `{"name":"{{name}}"}`),
		GET("empty-url", ""),
		GET("bad-host", "http://[::1"),
		GET("ftp", "ftp://x/y"),
		GET("relative", "/meetings"),
		GET("no-host", "http:///x"),
		GET("host-first", "{{x}}/meetings"),
		HTTP("method", "BAD METHOD", base+"/"),
		GET("header", base+"/", Header("Bad Key:", "v"), Header("X-Ok", "a\r\nb")),
		GET("extract", base+"/", ExtractJSON("", "k"), ExtractJSON("a", ""), ExtractHeader("X", ""), ExtractHeader("", "k"), ExtractRegexp("(a)", "")),
		GET("timeout", base+"/", Timeout(0), MaxBody(0)),
		POST("json", base+"/", `{"a": }`),
		POST("json-ct", base+"/", `[1,`, Header("Content-Type", "application/json")),
		GET("placeholder", base+"/{{x}}/{{ raw x y }}"),
		Provides("", "a b"),
	})
	require.Error(t, err)
	for _, want := range []string{
		`journey "j": step "list": {{mine}} in the JSONEquals value "{{mine}}" is provided by nothing before it`,
		`journey "j": step "typo": {{meetng}} in the URL "http://127.0.0.1:9/meetings/{{meetng}}" is provided by nothing before it (a feeder's column, an extractor of an earlier step, or a value a Go step stores, declared with Provides); available here: first, meeting, name, vu.id, vu.iteration`,
		`step "later": {{token}} in the URL "http://127.0.0.1:9/{{token}}" is provided only after this step, by a Provides; a value must be provided before the step that uses it`,
		`step "later": {{self}} in the Contains value "{{self}}" is stored by ExtractHeader in step "later", after its request`,
		`step "replaced": {{name}} in the body "{\"name\":\"{{name}}\"}" is a column of feeder "users", but Feed("other") replaces the row before this step; available here: first, self, token, x, vu.id, vu.iteration`,
		`step "empty-url": URL is empty; want an http:// or https:// URL`,
		`step "bad-host": URL "http://[::1" does not parse: missing ']' in host`,
		`step "ftp": URL "ftp://x/y": the scheme must be http or https, got "ftp"`,
		`step "relative": URL "/meetings": the scheme must be http or https, got ""`,
		`step "no-host": URL "http:///x" has no host`,
		`step "host-first": URL "{{x}}/meetings": {{x}} stands before the scheme; start the URL with http:// or https://, or write {{raw x}}`,
		`step "method": method "BAD METHOD" is not an HTTP token`,
		`step "header": Header: key "Bad Key:" is not a valid header name`,
		`step "header": Header "X-Ok": the value "a\r\nb" holds a control character`,
		`step "extract": ExtractJSON("", "k"): the path and the key must be non-empty`,
		`step "extract": ExtractJSON("a", ""): the path and the key must be non-empty`,
		`step "extract": ExtractHeader("X", ""): the header name and the key must be non-empty`,
		`step "extract": ExtractHeader("", "k")`,
		`step "extract": ExtractRegexp "(a)": the key must be non-empty`,
		`journey "j": step "timeout": Timeout must be > 0, got 0s`,
		`journey "j": step "timeout": MaxBody must be > 0 bytes, got 0`,
		`step "json": Body "{\"a\": }" is taken for JSON (it starts with { and has no Content-Type header), but it is not valid JSON`,
		`step "json-ct": Body "[1," is taken for JSON (its Content-Type is JSON), but it is not valid JSON`,
		`step "placeholder": template "http://127.0.0.1:9/{{x}}/{{ raw x y }}": bad placeholder {{ raw x y }}: want {{name}} or {{raw name}}`,
		`journey "j": Provides: key 0 is ""`,
		`journey "j": Provides: key 1 is "a b"`,
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.NotContains(t, err.Error(), `step "g/own"`, "a value extracted by an earlier step counts, in a group too")
	assert.NotContains(t, err.Error(), `{{first}}`)
	for _, line := range strings.Split(err.Error(), "\n") {
		assert.True(t, strings.HasPrefix(line, `scenario: journey "j": `), "every error names the journey: %q", line)
	}
}

// TestOneMistakeOneError: a step whose template does not parse reports
// that, and only that (not also "needs at least one step").
func TestOneMistakeOneError(t *testing.T) {
	_, err := New("j", Parts{GET("h", "http://127.0.0.1/{{unclosed")})
	require.Error(t, err)
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	require.Len(t, errs, 1, "%v", err)
	assert.EqualError(t, errs[0], `scenario: journey "j": step "h": template "http://127.0.0.1/{{unclosed": unclosed {{`)
}

// TestURLsWithPlaceholdersAreCheckedAtBuild: a URL whose placeholders
// stand in the host, path, query or fragment is checked with stand-ins.
func TestURLsWithPlaceholdersAreCheckedAtBuild(t *testing.T) {
	f, err := NewFeeder("f", []string{"host", "port", "id"}, [][]string{{"::1", "9", "1"}}, Sequential, Wrap)
	require.NoError(t, err)
	_, err = New("ok", Parts{Feed(f),
		GET("a", "http://{{host}}:{{port}}/x/{{id}}?q={{id}}#{{id}}"),
		GET("b", "https://127.0.0.1/{{id}}"),
		GET("c", "http://[{{host}}]:{{port}}/"),
	})
	require.NoError(t, err)
	_, err = New("bad", Parts{Feed(f), GET("a", "http://[{{host}}/x"), GET("b", "gopher://{{host}}/")})
	assert.ErrorContains(t, err, `step "a": URL "http://[{{host}}/x" does not parse`)
	assert.ErrorContains(t, err, `step "b": URL "gopher://{{host}}/": the scheme must be http or https`)
}

// TestMaxBodyCapsWhatIsKept: a body longer than the cap fails its step as
// a failed check, is read to its end (its bytes counted, its connection
// reused) and is not buffered whole; a body at the cap passes.
func TestMaxBodyCapsWhatIsKept(t *testing.T) {
	const big = 8 << 20
	chunk := make([]byte, 64<<10)
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		if r.URL.Query().Has("length") {
			w.Header().Set("Content-Length", fmt.Sprint(n))
		}
		for n > 0 {
			m, _ := w.Write(chunk[:min(n, len(chunk))])
			n -= m
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	var seen []int
	keep := CheckResponse(func(r *Response) error { seen = append(seen, len(r.Body)); return nil })
	// A collection in every run, large body or small: the pause the
	// generator's health then records costs both runs the same.
	collect := Step("gc", func(context.Context, *VU) error { runtime.GC(); return nil })
	// allocated runs a journey of one step and returns what it got and
	// the bytes the run allocated.
	allocated := func(name, url string) (*loadgen.Result, uint64) {
		j := Must("big", Parts{collect, GET(name, url, keep)})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
		runtime.ReadMemStats(&after)
		return res, after.TotalAlloc - before.TotalAlloc
	}
	for _, tc := range []struct{ name, query string }{{"chunked", ""}, {"with-length", "&length"}} {
		_, small := allocated(tc.name, fmt.Sprintf("%s/?n=10%s", srv.URL, tc.query))
		res, total := allocated(tc.name, fmt.Sprintf("%s/?n=%d%s", srv.URL, big, tc.query))
		st := step(res, "big", tc.name)
		assert.Equal(t, int64(1), st.Outcomes[metrics.CheckFailed], "%s: %v", tc.name, st.Outcomes)
		assert.Equal(t, int64(big), st.BytesReceived, "%s: the whole body was read", tc.name)
		require.NotEmpty(t, res.Errors)
		assert.Contains(t, res.Errors[0].Message, "the body (8388608 bytes) is larger than the 1 MiB read for checks and extractors (MaxBody)")
		// Buffering the body whole, as io.ReadAll did, allocates more
		// than 8 MiB; the capped read keeps at most 1 MiB, in buffers
		// that add up to about 2 MiB.
		assert.Less(t, total-small, uint64(3<<20), "%s: bytes allocated for an 8 MiB body, beyond those for a 10-byte one", tc.name)
	}
	assert.Equal(t, []int{10, 10}, seen, "no check runs on a body over the cap")
	seen = nil

	j := Must("cap", Parts{
		GET("at-cap", fmt.Sprintf("%s/?n=%d", srv.URL, 64<<10), keep, MaxBody(64<<10)),
		GET("at-cap-length", fmt.Sprintf("%s/?n=%d&length", srv.URL, 64<<10), keep, MaxBody(64<<10)),
		GET("client-cap", fmt.Sprintf("%s/?n=%d&length", srv.URL, 2000), keep),
		GET("over-cap", fmt.Sprintf("%s/?n=%d", srv.URL, 64<<10+1), keep, MaxBody(64<<10)),
	}, WithClient(Client{MaxBody: 2000}))
	before := conns.Load()
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 3}))
	assert.Equal(t, int64(3), step(res, "cap", "at-cap").Outcomes[metrics.OK])
	assert.Equal(t, int64(3), step(res, "cap", "at-cap-length").Outcomes[metrics.OK])
	assert.Equal(t, int64(3), step(res, "cap", "over-cap").Outcomes[metrics.CheckFailed])
	assert.Equal(t, int64(3*(64<<10+1)), step(res, "cap", "over-cap").BytesReceived)
	assert.Equal(t, []int{64 << 10, 64 << 10, 2000, 64 << 10, 64 << 10, 2000, 64 << 10, 64 << 10, 2000}, seen)
	require.NotEmpty(t, res.Errors)
	assert.Equal(t, `step "over-cap": GET `+srv.URL+`/?n=65537: the body (65537 bytes) is larger than the 64 KiB read for checks and extractors (MaxBody)`, res.Errors[0].Message)
	assert.Equal(t, int64(1), conns.Load()-before, "a body over the cap is read to its end: the connection is reused")
	j = Must("client", Parts{GET("over-client-cap", fmt.Sprintf("%s/?n=%d&length", srv.URL, 2001), keep)}, WithClient(Client{MaxBody: 2000}))
	res = run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
	assert.Equal(t, int64(1), step(res, "client", "over-client-cap").Outcomes[metrics.CheckFailed])
	require.NotEmpty(t, res.Errors)
	assert.Contains(t, res.Errors[0].Message, "the body (2001 bytes) is larger than the 2000 bytes read for checks and extractors (MaxBody)")
	_, err := New("neg", Parts{GET("g", srv.URL)}, WithClient(Client{MaxBody: -1}))
	assert.ErrorContains(t, err, `journey "neg": Client.MaxBody must be >= 0 (0 means 1 MiB), got -1`)
}

func TestReadCapped(t *testing.T) {
	body := strings.Repeat("abcdefghij", 100) // 1000 bytes
	for _, limit := range []int64{1, 999, 1000, 1001, 4096} {
		for _, size := range []int64{-1, 1000, 10, 5000} {
			for name, r := range map[string]io.Reader{
				"whole": strings.NewReader(body), "one byte": iotest.OneByteReader(strings.NewReader(body)), "half": iotest.HalfReader(strings.NewReader(body)),
				"data with EOF": iotest.DataErrReader(strings.NewReader(body)), "one byte with EOF": iotest.DataErrReader(iotest.OneByteReader(strings.NewReader(body))),
			} {
				data, n, over, err := readCapped(r, limit, size)
				require.NoError(t, err)
				assert.Equal(t, int64(1000), n, "limit %d size %d %s: every byte counted", limit, size, name)
				assert.Equal(t, limit < 1000, over, "limit %d size %d %s", limit, size, name)
				assert.Equal(t, body[:min(limit, 1000)], string(data), "limit %d size %d %s", limit, size, name)
				assert.LessOrEqual(t, int64(cap(data)), limit+1, "never more than limit+1 bytes kept")
			}
		}
	}
	_, n, _, err := readCapped(iotest.TimeoutReader(strings.NewReader(body)), 100, -1)
	assert.ErrorIs(t, err, iotest.ErrTimeout)
	assert.Positive(t, n)
}

func TestClassifyTransportErrors(t *testing.T) {
	op := func(err error) error {
		return &url.Error{Op: "Post", URL: "http://127.0.0.1/", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}}
	}
	for _, tc := range []struct {
		err  error
		want metrics.Outcome
	}{
		{&url.Error{Op: "Post", URL: "http://127.0.0.1/", Err: errors.New("http: server closed idle connection")}, metrics.Reset},
		{op(syscall.ECONNRESET), metrics.Reset},
		{op(syscall.EPIPE), metrics.Reset},
		{op(syscall.ECONNABORTED), metrics.Reset},
		{fmt.Errorf("net/http: HTTP/1.x transport connection broken: %w", op(syscall.ECONNRESET)), metrics.Reset},
		{&url.Error{Op: "Get", URL: "http://127.0.0.1/", Err: io.EOF}, metrics.Reset},
		{&url.Error{Op: "Get", URL: "http://127.0.0.1/", Err: io.ErrUnexpectedEOF}, metrics.Reset},
		{&url.Error{Op: "Get", URL: "http://127.0.0.1/", Err: net.ErrClosed}, metrics.Reset},
		{op(syscall.ECONNREFUSED), metrics.Refused},
		{&url.Error{Op: "Get", URL: "http://127.0.0.1/", Err: context.DeadlineExceeded}, metrics.Timeout},
		{&url.Error{Op: "Get", URL: "http://127.0.0.1/", Err: context.Canceled}, metrics.Other},
		{errors.New("net/http: invalid header field value"), metrics.Other},
	} {
		assert.Equal(t, tc.want, metrics.OutcomeOf(classify(tc.err)), "%v", tc.err)
	}
}

// TestServerClosedIdleConnectionIsReset: a POST that goes out on a
// kept-alive connection the server has just closed gets net/http's
// "server closed idle connection" (a POST is not retried); that is a
// reset, not other. The server closes the connection at the moment the
// client takes it from its pool, so the race is not left to chance.
func TestServerClosedIdleConnectionIsReset(t *testing.T) {
	var (
		mu         sync.Mutex
		serverConn net.Conn
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			serverConn = c
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	closed := make(chan struct{}, 1)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &closeNotifier{Conn: c, closed: closed}, nil
	}}
	defer tr.CloseIdleConnections()
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if !i.Reused {
				return
			}
			mu.Lock()
			serverConn.Close()
			mu.Unlock()
			select { // the client's read loop saw the close and closed its side
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Error("the client did not see the server close the connection")
			}
		}}
		return tr.RoundTrip(r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
	})
	j := Must("idle", Parts{GET("first", srv.URL+"/"), POST("second", srv.URL+"/", "data")}, WithClient(Client{Transport: rt}))
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
	st := step(res, "idle", "second")
	assert.Equal(t, int64(1), st.Outcomes[metrics.Reset], "%v %v", st.Outcomes, res.Errors)
	require.NotEmpty(t, res.Errors)
	assert.Contains(t, res.Errors[0].Message, "server closed idle connection")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closeNotifier is a connection that reports its Close.
type closeNotifier struct {
	net.Conn
	closed chan struct{}
	once   sync.Once
}

func (c *closeNotifier) Close() error {
	c.once.Do(func() { c.closed <- struct{}{} })
	return c.Conn.Close()
}
