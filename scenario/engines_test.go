package scenario

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// paths are the two engines: every case below runs on both.
var paths = []struct {
	name string
	c    Client
}{{"nethttp", Client{Engine: EngineNetHTTP}}, {"wire", Client{Engine: EngineWire}}}

// countingServer serves h on loopback and counts its new connections.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestBothPathsAgree: the same journey gets the same figures on net/http
// and on the fast path — templates, checks, extractors, status codes,
// bytes, the connect and time-to-first-byte phases, keep-alive.
func TestBothPathsAgree(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/items":
					fmt.Fprint(w, `{"items":[{"id":"7"}]}`)
				case "/slow":
					time.Sleep(20 * time.Millisecond)
					fmt.Fprint(w, "late")
				case "/items/7":
					if r.Header.Get("X-Vu") == "" || r.Method != "POST" {
						http.Error(w, "bad", 400)
						return
					}
					w.WriteHeader(201)
					fmt.Fprintf(w, `{"ok":true,"vu":%q}`, r.Header.Get("X-Vu"))
				default:
					http.NotFound(w, r)
				}
			})
			// With PoolPerVU, a connection per VU. A shared pool's count is
			// not fixed: on net/http, a request that starts dialing and then
			// takes a connection another VU let go leaves the dialed one
			// idle, a fourth for three VUs.
			c := p.c
			c.Connections = PoolPerVU
			res := runClient(t, c, 3, 4,
				GET("list", srv.URL+"/items", ExtractJSON("items.0.id", "id")),
				POST("apply", srv.URL+"/items/{{id}}", `{"x":1}`, Header("X-Vu", "{{vu.id}}"), Expect(201), JSONEquals("vu", "{{vu.id}}")),
				GET("missing", srv.URL+"/nothing", Expect(404)),
			)
			for _, s := range []string{"list", "apply", "missing"} {
				st := step(res, "c", s)
				assert.Equal(t, int64(12), st.Outcomes[metrics.OK], "%s: %s", s, errorsOf(res))
				assert.Equal(t, int64(12), phase(res, s, KindTTFB).Count(), "%s: one TTFB a request", s)
			}
			assert.Equal(t, metrics.StatusCounts{{Code: 201, Count: 12}}, step(res, "c", "apply").Status)
			assert.Equal(t, int64(12*len(`{"x":1}`)), step(res, "c", "apply").BytesSent)
			assert.Equal(t, int64(12*len(`{"items":[{"id":"7"}]}`)), step(res, "c", "list").BytesReceived)
			assert.Equal(t, int64(3), conns.Load(), "keep-alive: a connection per VU")
			assert.Positive(t, phase(res, "list", KindConnect).Latency.Max, "the first request of each VU connects")
			assert.Equal(t, int64(12), phase(res, "list", KindConnect).Count())

			// The wait for an answer is the time to first byte, not the
			// receive phase: each phase starts where the one before ended.
			res = runClient(t, p.c, 1, 2, GET("slow", srv.URL+"/slow", Contains("late")))
			assert.Equal(t, int64(2), step(res, "c", "slow").Outcomes[metrics.OK], errorsOf(res))
			assert.GreaterOrEqual(t, phase(res, "slow", KindTTFB).Latency.Min, 20*time.Millisecond)
			assert.Less(t, phase(res, "slow", KindReceive).Latency.Max, 20*time.Millisecond)
		})
	}
}

// TestBothPathsHandleTheWire: Connection: close, chunked and large bodies,
// HEAD, 1xx responses, and MaxBody.
func TestBothPathsHandleTheWire(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/close":
					w.Header().Set("Connection", "close")
					fmt.Fprint(w, "bye")
				case "/chunked":
					for i := range 5 {
						fmt.Fprintf(w, "part %d;", i)
						w.(http.Flusher).Flush()
					}
				case "/big":
					fmt.Fprint(w, big)
				case "/early":
					w.Header().Set("Link", "</style.css>; rel=preload")
					w.WriteHeader(http.StatusEarlyHints)
					fmt.Fprint(w, "after 103")
				default:
					w.Header().Set("Content-Length", "5")
					if r.Method != http.MethodHead {
						fmt.Fprint(w, "hello")
					}
				}
			})
			res := runClient(t, p.c, 1, 3, GET("close", srv.URL+"/close", Contains("bye")))
			assert.Equal(t, int64(3), step(res, "c", "close").Outcomes[metrics.OK], errorsOf(res))
			assert.Equal(t, int64(3), conns.Load(), "Connection: close: a new connection each time")

			res = runClient(t, p.c, 1, 2,
				GET("chunked", srv.URL+"/chunked", Contains("part 0;part 1;part 2;part 3;part 4;")),
				GET("big", srv.URL+"/big"),
				HTTP("head", "HEAD", srv.URL+"/head"),
				GET("early", srv.URL+"/early", Contains("after 103")),
			)
			for _, s := range []string{"chunked", "big", "head", "early"} {
				assert.Equal(t, int64(2), step(res, "c", s).Outcomes[metrics.OK], "%s: %s", s, errorsOf(res))
			}
			assert.Equal(t, int64(2*len(big)), step(res, "c", "big").BytesReceived, "a large body is read and counted")
			assert.Equal(t, int64(0), step(res, "c", "head").BytesReceived)
			res = runClient(t, p.c, 1, 2, GET("capped", srv.URL+"/big", Contains("x")), GET("next", srv.URL+"/next"))
			assert.Equal(t, int64(2), step(res, "c", "capped").Outcomes[metrics.CheckFailed], "over MaxBody for a check")
			assert.Equal(t, int64(2*len(big)), step(res, "c", "capped").BytesReceived, "the rest read and counted")
			assert.Contains(t, errorsOf(res), "the body (3145728 bytes) is larger than the 1 MiB read for checks and extractors (MaxBody)")
		})
	}
}

// TestBothPathsClassifyFailures: a timeout, a reset, a refused connection
// and TLS, with the same classes on both paths.
func TestBothPathsClassifyFailures(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/slow":
					select {
					case <-time.After(2 * time.Second):
					case <-r.Context().Done():
					}
				case "/reset":
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.(*net.TCPConn).SetLinger(0)
					conn.Close()
				}
			})
			refused := refusedURL(t)
			res := runClient(t, p.c, 1, 1,
				GET("slow", srv.URL+"/slow", Timeout(50*time.Millisecond)),
			)
			assert.Equal(t, int64(1), step(res, "c", "slow").Outcomes[metrics.Timeout], errorsOf(res))
			res = runClient(t, p.c, 1, 1, GET("reset", srv.URL+"/reset"))
			assert.Equal(t, int64(1), step(res, "c", "reset").Outcomes[metrics.Reset], errorsOf(res))
			res = runClient(t, p.c, 1, 1, GET("refused", refused))
			assert.Equal(t, int64(1), step(res, "c", "refused").Outcomes[metrics.Refused], errorsOf(res))
			notHTTP, _ := rawServer(t, func(*http.Request) (string, bool) { return "SSH-2.0-OpenSSH_9.6\r\n", true })
			res = runClient(t, p.c, 1, 1, GET("not http", notHTTP+"/"))
			assert.Equal(t, int64(1), step(res, "c", "not http").Outcomes[metrics.Other], errorsOf(res))
			assert.Contains(t, errorsOf(res), "malformed HTTP response")

			tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secure") }))
			defer tlsSrv.Close()
			res = runClient(t, p.c, 1, 1, GET("unverified", tlsSrv.URL+"/"))
			assert.Equal(t, int64(1), step(res, "c", "unverified").Errors(), "an unknown certificate fails")
			c := p.c
			c.RootCAs = poolOf(tlsSrv.Certificate())
			res = runClient(t, c, 2, 2, GET("tls", tlsSrv.URL+"/", Contains("secure")))
			assert.Equal(t, int64(4), step(res, "c", "tls").Outcomes[metrics.OK], errorsOf(res))
		})
	}
}

// TestWireHardStop: a request in flight at the hard stop ends at once
// and counts as interrupted, as on net/http.
func TestWireHardStop(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	j, err := New("c", Parts{GET("hang", srv.URL+"/")}, WithClient(Client{Engine: EngineWire}))
	require.NoError(t, err)
	sc := j.Scenario(loadgen.ConstantVUs{VUs: 2, Duration: 100 * time.Millisecond})
	sc.GracefulStop = 50 * time.Millisecond
	start := time.Now()
	res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{sc}})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 2*time.Second, "not the server's 5 s")
	assert.Equal(t, int64(2), step(res, "c", "hang").Outcomes[metrics.Interrupted])
}

// TestEngineChoice: the own client sends whatever it can; a field only
// net/http honours selects net/http, and insisting on the own client with
// one is an error that names it.
func TestEngineChoice(t *testing.T) {
	for _, tc := range []struct {
		c    Client
		want Engine
	}{
		{Client{}, EngineWire},
		{Client{NoRedirects: true, DisableCompression: true, Connections: PoolPerIteration, InsecureSkipVerifyHosts: []string{"h"}}, EngineWire},
		{Client{HTTP2: true}, EngineNetHTTP},
		{Client{Proxy: http.ProxyFromEnvironment}, EngineNetHTTP},
		{Client{Transport: http.DefaultTransport}, EngineNetHTTP},
		{Client{Engine: EngineNetHTTP}, EngineNetHTTP},
	} {
		assert.Equal(t, tc.want, tc.c.engine(), "%+v", tc.c)
	}
	_, err := New("c", Parts{GET("a", "http://127.0.0.1/")}, WithClient(Client{Engine: EngineWire, HTTP2: true, H2C: true}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Client: Engine is EngineWire, which does not do HTTP2")
	assert.Contains(t, err.Error(), "which does not do H2C")
	_, err = New("c", Parts{GET("a", "http://127.0.0.1/")}, WithClient(Client{Engine: 7}))
	assert.ErrorContains(t, err, "Client.Engine must be EngineAuto, EngineWire or EngineNetHTTP, got Engine(7)")
}

// TestBothPathsSendWhatTheyAreGiven read the raw request each engine
// writes: method, path as written, headers and body, the User-Agent and
// Accept-Encoding that both add.
func TestBothPathsSendWhatTheyAreGiven(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) { sendsWhatItIsGiven(t, p.c) })
	}
}

func sendsWhatItIsGiven(t *testing.T, cfg Client) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			got <- err.Error()
			return
		}
		body := make([]byte, r.ContentLength)
		_, _ = r.Body.Read(body)
		got <- fmt.Sprintf("%s %s %s ua=%q ae=%q %s", r.Method, r.RequestURI, r.Header.Get("X-Token"), r.Header.Get("User-Agent"), r.Header.Get("Accept-Encoding"), body)
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	}()
	res := runClient(t, cfg, 1, 1, HTTP("put", "PUT", "http://"+ln.Addr().String()+"/a/../b?q={{vu.id}}", Body("v={{vu.iteration}}"), Header("X-Token", "t-{{vu.id}}")))
	assert.Equal(t, int64(1), step(res, "c", "put").Outcomes[metrics.OK], errorsOf(res))
	assert.Equal(t, `PUT /a/../b?q=0 t-0 ua="stampede" ae="gzip" v=0`, <-got)
}

// TestNoSecondPOST: a server answers a GET, then reads a POST on the same
// kept-alive connection and closes it unanswered (it crashed after doing
// the work). Neither path sends the POST again: the server sees it once
// and the step is a reset. A GET in the same place is sent again.
func TestNoSecondPOST(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			var posts, gets atomic.Int64
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					br := bufio.NewReader(c)
					for {
						r, err := http.ReadRequest(br)
						if err != nil {
							c.Close()
							break
						}
						_, _ = io.Copy(io.Discard, r.Body)
						if r.URL.Path == "/crash" {
							if r.Method == "POST" {
								posts.Add(1)
							} else {
								gets.Add(1)
							}
							c.Close() // the work is done; the answer never comes
							break
						}
						fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
					}
				}
			}()
			url := "http://" + ln.Addr().String()
			res := runClient(t, p.c, 1, 1, GET("warm", url+"/warm"), POST("apply", url+"/crash", "x=1"))
			assert.Equal(t, int64(1), posts.Load(), "the POST was sent once")
			assert.Equal(t, int64(1), step(res, "c", "apply").Outcomes[metrics.Reset], errorsOf(res))
			res = runClient(t, p.c, 1, 1, GET("warm", url+"/warm"), GET("read", url+"/crash"))
			assert.Equal(t, int64(2), gets.Load(), "a GET is sent again on a new connection")
			assert.Equal(t, int64(1), step(res, "c", "read").Outcomes[metrics.Reset], errorsOf(res))
			ln.Close()
			<-done
		})
	}
}

// TestBothPathsAddNoContentType: a body goes without a Content-Type
// unless the step sets one.
func TestBothPathsAddNoContentType(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			var got atomic.Value
			srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) { got.Store(r.Header.Get("Content-Type") + "|") })
			runClient(t, p.c, 1, 1, POST("a", srv.URL+"/", "x"))
			assert.Equal(t, "|", got.Load())
			runClient(t, p.c, 1, 1, POST("a", srv.URL+"/", "x", Header("Content-Type", "text/plain")))
			assert.Equal(t, "text/plain|", got.Load())
		})
	}
}

// TestBothPathsIPv6: a bracketed IPv6 host without a port dials port 80
// of that address (refused here).
func TestBothPathsIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback")
	}
	ln.Close()
	for _, p := range paths {
		res := runClient(t, p.c, 1, 1, GET("v6", "http://[::1]/"))
		st := step(res, "c", "v6")
		assert.Equal(t, int64(1), st.Outcomes[metrics.Refused]+st.Outcomes[metrics.OK]+st.Outcomes[metrics.HTTP4xx], "%s: %s", p.name, errorsOf(res))
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "v6") }))
	srv.Listener, err = net.Listen("tcp", "[::1]:0")
	require.NoError(t, err)
	srv.Start()
	defer srv.Close()
	for _, p := range paths {
		res := runClient(t, p.c, 1, 1, GET("v6", srv.URL+"/", Contains("v6")))
		assert.Equal(t, int64(1), step(res, "c", "v6").Outcomes[metrics.OK], "%s: %s", p.name, errorsOf(res))
	}
}

// rawServer serves keep-alive connections on loopback, answering each
// request with the bytes answer returns for it (and, when close says so,
// waiting for the client to close the connection: a request on it fails
// the test), then calling written, if given, which may write more; it
// counts connections.
func rawServer(t *testing.T, answer func(r *http.Request) (resp string, close bool), written ...func(r *http.Request, c io.Writer)) (string, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, r.Body)
					resp, close := answer(r)
					if _, err := io.WriteString(c, resp); err != nil {
						return
					}
					for _, f := range written {
						f(r, c)
					}
					if close {
						// The server is done with the connection but its
						// close is late, as a busy server's can be: the
						// client must close it, and not send on it again.
						c.SetReadDeadline(time.Now().Add(10 * time.Second))
						if n, _ := c.Read(make([]byte, 1)); n > 0 {
							t.Errorf("a request on a connection that was to close after %s %s", r.Method, r.URL)
						}
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return "http://" + ln.Addr().String(), &conns
}

// TestBothPathsKeepConnectionsHonest: a connection is not used again after
// a response that left bytes past its length (a body longer than its
// Content-Length), nor after a request that said Connection: close; a
// Host header is the request's host on both paths.
func TestBothPathsKeepConnectionsHonest(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			url, conns := rawServer(t, func(r *http.Request) (string, bool) {
				switch r.URL.Path {
				case "/overlong": // 5 characters, 6 bytes
					return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nh\xc3\xa9llo", false
				case "/host":
					return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(r.Host), r.Host), false
				}
				// Closes after a request that asked, without saying so.
				return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", r.Close
			})
			res := runClient(t, p.c, 1, 3, GET("overlong", url+"/overlong"))
			st := step(res, "c", "overlong")
			if p.name == "wire" {
				assert.Equal(t, int64(3), st.Outcomes[metrics.OK], errorsOf(res))
				assert.Equal(t, int64(3), conns.Load(), "a new connection after each overlong body")
			} else {
				// net/http drops the connection when its reader finds the
				// byte past the length, which races with the next request
				// taking the connection from the pool: that request then
				// fails on it, reading the byte as its answer's start. It
				// never succeeds on it.
				assert.Equal(t, int64(3), st.Outcomes[metrics.OK]+st.Outcomes[metrics.Other], errorsOf(res))
				assert.Equal(t, st.Outcomes[metrics.OK], conns.Load(), "each success on a new connection")
				if st.Outcomes[metrics.Other] > 0 {
					assert.Contains(t, errorsOf(res), "malformed HTTP version")
				}
			}

			conns.Store(0)
			res = runClient(t, p.c, 1, 3, POST("bye", url+"/bye", "x", Header("Connection", "close")))
			assert.Equal(t, int64(3), step(res, "c", "bye").Outcomes[metrics.OK], errorsOf(res))
			assert.Equal(t, int64(3), conns.Load(), "a new connection after each Connection: close")

			res = runClient(t, p.c, 1, 1, GET("host", url+"/host", Header("Host", "api.example"), Contains("api.example")))
			assert.Equal(t, int64(1), step(res, "c", "host").Outcomes[metrics.OK], errorsOf(res))
		})
	}
}

// TestFramingHeadersAreRefused: the headers that frame a request's body
// are the client's to write.
func TestFramingHeadersAreRefused(t *testing.T) {
	for _, k := range []string{"Content-Length", "transfer-encoding", "Trailer"} {
		_, err := New("j", Parts{POST("p", "http://127.0.0.1/", "x", Header(k, "1"))})
		assert.ErrorContains(t, err, "the client writes it from the body", k)
	}
	_, err := New("j", Parts{GET("g", "http://127.0.0.1/", Header("Host", "a"), Header("host", "b"))})
	assert.ErrorContains(t, err, `Header "Host" is given twice`)
}

// TestBothEnginesFollowTheSameRedirects records what a server sees of a
// journey of redirects and cookies (a login that sets a session and
// redirects, a POST redirected by 303 and by 307, redirects to another
// host and to a subdomain, a custom Host through a relative redirect, a
// 302 without Location, a redirect that overrides a cookie the step set,
// user information in the URL, a gzip body, a loop cut at the tenth
// redirect) and requires the own client to send exactly what net/http
// sends, header for header.
func TestBothEnginesFollowTheSameRedirects(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s %s auth=%q cookie=%q ref=%q ct=%q cl=%q ae=%q ua=%q body=%q", r.Method, r.Host, r.RequestURI,
			r.Header.Get("Authorization"), r.Header.Values("Cookie"), r.Header.Get("Referer"), r.Header.Get("Content-Type"),
			r.Header.Get("Content-Length"), r.Header.Get("Accept-Encoding"), r.Header.Get("User-Agent"), body))
		mu.Unlock()
		port := r.Context().Value(http.LocalAddrContextKey).(net.Addr).(*net.TCPAddr).Port
		switch p := r.URL.Path; {
		case p == "/login":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "abc", Path: "/"})
			http.Redirect(w, r, "/home", http.StatusFound)
		case p == "/r307":
			http.Redirect(w, r, "/echo", http.StatusTemporaryRedirect)
		case p == "/r303":
			http.Redirect(w, r, "/echo?from=303", http.StatusSeeOther)
		case p == "/cross":
			http.Redirect(w, r, fmt.Sprintf("http://other.test:%d/echo", port), http.StatusFound)
		case p == "/sub":
			http.Redirect(w, r, fmt.Sprintf("http://sub.api.test:%d/echo", port), http.StatusMovedPermanently)
		case strings.HasSuffix(p, "/relative"):
			http.Redirect(w, r, "echo", http.StatusFound)
		case p == "/noloc":
			w.WriteHeader(http.StatusFound)
		case p == "/setc":
			http.SetCookie(w, &http.Cookie{Name: "c2", Value: "new", Path: "/"})
			http.Redirect(w, r, "/echo", http.StatusFound)
		case p == "/gz":
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			fmt.Fprint(zw, "zipped")
			zw.Close()
		case strings.HasPrefix(p, "/loop/"):
			http.Redirect(w, r, p+"x", http.StatusFound)
		default:
			fmt.Fprint(w, "echo")
		}
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	api := "http://api.test:" + port
	parts := Parts{
		POST("login", api+"/login", "user=a", Header("Content-Type", "application/x-www-form-urlencoded"), Header("Authorization", "Bearer t"), Contains("echo")),
		POST("r307", api+"/r307", "x=1", Header("Content-Type", "text/plain"), Header("Content-Language", "en")),
		HTTP("r303", "PUT", api+"/r303", Body("x=2"), Header("Content-Type", "text/plain")),
		GET("cross", api+"/cross", Header("Authorization", "Bearer t"), Header("Cookie", "manual=1")),
		GET("sub", api+"/sub", Header("Authorization", "Bearer t"), Header("Referer", "http://mine.test/")),
		GET("relative", api+"/a/relative", Header("Host", "custom.test")),
		GET("noloc", api+"/noloc", Expect(302)),
		GET("setc", api+"/setc", Header("Cookie", "c2=old; keep=1")),
		GET("userinfo", "http://u:p@api.test:"+port+"/relative"),
		GET("gz", api+"/gz", Contains("zipped")),
		HTTP("head", "HEAD", api+"/r307"),
		GET("loop", api+"/loop/"),
	}
	hosts := map[string]string{"api.test": "127.0.0.1", "sub.api.test": "127.0.0.1", "other.test": "127.0.0.1"}
	got := map[string][]string{}
	for _, p := range paths {
		c := p.c
		c.Hosts = hosts
		res := runClient(t, c, 1, 1, parts...)
		for _, s := range []string{"login", "r307", "r303", "cross", "sub", "relative", "noloc", "setc", "userinfo", "gz", "head"} {
			assert.Equal(t, int64(1), step(res, "c", s).Outcomes[metrics.OK], "%s %s: %s", p.name, s, errorsOf(res))
		}
		assert.Equal(t, int64(1), step(res, "c", "loop").Outcomes[metrics.Other], p.name)
		assert.Contains(t, errorsOf(res), "stopped after 10 redirects", p.name)
		assert.Equal(t, int64(len("zipped")), step(res, "c", "gz").BytesReceived, p.name)
		mu.Lock()
		got[p.name], seen = seen, nil
		mu.Unlock()
	}
	require.Equal(t, len(got["nethttp"]), len(got["wire"]))
	for i := range got["nethttp"] {
		assert.Equal(t, got["nethttp"][i], got["wire"][i], "request %d", i)
	}
	// What net/http does, which the own client must do too.
	want := func(line, why string) {
		t.Helper()
		for _, g := range got["wire"] {
			if strings.HasPrefix(g, line) {
				return
			}
		}
		t.Errorf("%s: no request starts with %s", why, line)
	}
	h := "api.test:" + port
	want(`GET `+h+` /home auth="Bearer t" cookie=["sid=abc"] ref="http://`+h+`/login"`, "the session set by the redirect goes with it")
	want(`POST `+h+` /echo auth="" cookie=["sid=abc"] ref="http://`+h+`/r307" ct="text/plain" cl="3"`, "307 keeps the method and body")
	want(`GET `+h+` /echo?from=303 auth="" cookie=["sid=abc"] ref="http://`+h+`/r303" ct="" cl=""`, "303 turns a PUT into a GET without body")
	want(`GET other.test:`+port+` /echo auth="" cookie=[]`, "credentials stay behind on another host")
	want(`GET sub.api.test:`+port+` /echo auth="Bearer t" cookie=[] ref="http://mine.test/"`, "but go to a subdomain, and a Referer of the step's own stays")
	want(`GET custom.test /a/echo`, "a custom Host goes through a relative redirect")
	want(`GET `+h+` /echo auth="" cookie=["keep=1; sid=abc; c2=new"]`, "a cookie the redirect set replaces the step's")
	want(`GET `+h+` /echo auth="Basic dTpw"`, "user information authorizes every hop")
	want(`HEAD `+h+` /echo auth="" cookie=["sid=abc; c2=new"] ref="http://`+h+`/r307" ct="" cl="" ae=""`, "HEAD stays HEAD and asks for no gzip")
}

// TestBothEnginesDropAConnectionThatSpeaksWhileIdle: a server answers /a,
// then writes a second response no one asked for. The next request goes
// on a new connection and gets its own answer, on both engines (the own
// client looks at a connection idle for 1 ms or more before it reuses
// it; the step between waits until the stray bytes are out, and 5 ms).
func TestBothEnginesDropAConnectionThatSpeaksWhileIdle(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			stray := make(chan struct{}, 10)
			base, conns := rawServer(t, func(r *http.Request) (string, bool) {
				if r.URL.Path == "/a" {
					return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", false
				}
				return "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nb-body", false
			}, func(r *http.Request, c io.Writer) {
				if r.URL.Path == "/a" { // then an answer no one asked for
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nGARBAGE")
					stray <- struct{}{}
				}
			})
			res := runClient(t, p.c, 1, 3,
				GET("a", base+"/a"),
				Step("wait", func(ctx context.Context, vu *VU) error {
					<-stray
					time.Sleep(5 * time.Millisecond)
					return nil
				}),
				GET("b", base+"/b", Contains("b-body")))
			assert.Equal(t, int64(3), step(res, "c", "b").Outcomes[metrics.OK], errorsOf(res))
			assert.Equal(t, int64(4), conns.Load(), "the first, and a new one after each stray answer")
		})
	}
}

// TestBothEnginesRefuseAnInvalidHost: a Host header value that is not a
// host fails the step on both engines (net/http would send an empty
// Host); an empty one leaves the URL's.
func TestBothEnginesRefuseAnInvalidHost(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			var hosts []string
			var mu sync.Mutex
			srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hosts = append(hosts, r.Host)
				mu.Unlock()
			})
			res := runClient(t, p.c, 1, 1,
				Provides("v"), Step("set", func(_ context.Context, vu *VU) error { vu.Set("v", "evil.example a/b"); return nil }),
				GET("bad", srv.URL+"/", Header("Host", "{{v}}")))
			assert.Equal(t, int64(1), step(res, "c", "bad").Outcomes[metrics.Other], errorsOf(res))
			assert.Contains(t, errorsOf(res), `Header "Host": the value "evil.example a/b" is not a host[:port]`)
			res = runClient(t, p.c, 1, 1,
				Provides("v"), Step("set", func(_ context.Context, vu *VU) error { vu.Set("v", ""); return nil }),
				GET("empty", srv.URL+"/", Header("Host", "{{v}}")))
			assert.Equal(t, int64(1), step(res, "c", "empty").Outcomes[metrics.OK], errorsOf(res))
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, []string{strings.TrimPrefix(srv.URL, "http://")}, hosts, "the bad request was not sent; the empty Host is the URL's")
		})
	}
}

// TestSendJSON: SendJSON sends a JSON body with its Content-Type on both
// engines; it needs a body, and it and a Content-Type header exclude each
// other.
func TestSendJSON(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Header.Get("Content-Type")+" "+string(body))
		mu.Unlock()
	}))
	defer srv.Close()
	for _, p := range paths {
		res := runClient(t, p.c, 1, 1, POST("apply", srv.URL+"/apply", `{"name":"vu-{{vu.id}}"}`, SendJSON()))
		assert.Equal(t, int64(1), step(res, "c", "apply").Outcomes[metrics.OK], "%s: %s", p.name, errorsOf(res))
	}
	assert.Equal(t, []string{`application/json {"name":"vu-0"}`, `application/json {"name":"vu-0"}`}, seen)

	_, err := New("j", Parts{GET("g", srv.URL, SendJSON())})
	assert.ErrorContains(t, err, "SendJSON needs a body")
	_, err = New("j", Parts{POST("p", srv.URL, `{}`, SendJSON(), Header("content-type", "text/plain"))})
	assert.ErrorContains(t, err, "give SendJSON or a Content-Type Header, not both")
}

// TestBothPathsSendBodiesLargerThanTheSocket: a body larger than the
// socket's buffer goes out whole (the own client's last write, tried at
// once, finishes as any write does), and so does a request written
// through a Dial's own connection type, whose Write is the one used.
func TestBothPathsSendBodiesLargerThanTheSocket(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 1<<19) // 8 MiB
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				if err != nil || len(b) == len(body) && string(b) != body {
					http.Error(w, "body differs", 400)
					return
				}
				fmt.Fprintf(w, "got %d", len(b))
			})
			res := runClient(t, p.c, 1, 2, POST("big", srv.URL+"/", body, Contains(fmt.Sprintf("got %d", len(body)))), GET("after", srv.URL+"/"))
			assert.Equal(t, int64(2), step(res, "c", "big").Outcomes[metrics.OK], errorsOf(res))
			assert.Equal(t, int64(2*len(body)), step(res, "c", "big").BytesSent)

			var writes atomic.Int64
			c := p.c
			c.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return countingConn{conn.(*net.TCPConn), &writes}, nil
			}
			res = runClient(t, c, 1, 3, POST("small", srv.URL+"/", "x", Contains("got 1")))
			assert.Equal(t, int64(3), step(res, "c", "small").Outcomes[metrics.OK], errorsOf(res))
			assert.GreaterOrEqual(t, writes.Load(), int64(3), "every request goes through the Dial's connection's Write")
		})
	}
}

// countingConn is a TCP connection of a Dial of the user's own that
// counts its writes (and keeps TCPConn's other methods, SyscallConn too).
type countingConn struct {
	*net.TCPConn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.TCPConn.Write(b)
}
