package scenario

import (
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/internal/memnet"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// engineOf holds the engine that bothEngines chose for a test, by the
// test's name (which a synctest bubble's T shares).
var engineOf sync.Map // name → Engine

// bothEngines runs f as two subtests, "wire" and "nethttp": runClient in
// each sends with that engine wherever the Client leaves it to choose.
func bothEngines(t *testing.T, f func(t *testing.T)) {
	for _, e := range []Engine{EngineWire, EngineNetHTTP} {
		t.Run(strings.TrimPrefix(strings.ToLower(e.String()), "engine"), func(t *testing.T) {
			engineOf.Store(t.Name(), e)
			t.Cleanup(func() { engineOf.Delete(t.Name()) })
			f(t)
		})
	}
}

// enginePrefix returns the name of the bothEngines subtest that the test
// named name is in, or name.
func enginePrefix(name string) string {
	for _, e := range []string{"/wire", "/nethttp"} {
		if i := strings.Index(name, e); i >= 0 && (len(name) == i+len(e) || name[i+len(e)] == '/') {
			return name[:i+len(e)]
		}
	}
	return name
}

// runClient runs a journey "c" of parts with client c: vus VUs, iters
// iterations each, on the engine bothEngines chose if any.
func runClient(t *testing.T, c Client, vus, iters int, parts ...Part) *loadgen.Result {
	t.Helper()
	if e, ok := engineOf.Load(enginePrefix(t.Name())); ok && c.Engine == EngineAuto && len(c.netHTTPOnly()) == 0 {
		c.Engine = e.(Engine)
	}
	j, err := New("c", parts, WithClient(c))
	require.NoError(t, err)
	return run(t, j.Scenario(loadgen.PerVUIterations{VUs: vus, Iterations: iters}))
}

// refusedURL returns a loopback URL whose connections are refused: its
// port is bound by a socket that never listens, held until the test ends,
// so that no listener of the test (or of another) can take the port
// meanwhile, as one could a port listened on and closed.
func refusedURL(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	return fmt.Sprintf("http://127.0.0.1:%d/", sa.(*syscall.SockaddrInet4).Port)
}

// phase returns a phase of step name of journey "c".
func phase(res *loadgen.Result, name string, k metrics.Kind) metrics.Stats {
	if m := res.Metrics.SeriesOf(metrics.Key{Scenario: "c", Step: name, Kind: k}); m != nil {
		return m.Total
	}
	return metrics.Stats{}
}

// errorsOf returns the messages of the run's error samples.
func errorsOf(res *loadgen.Result) string {
	var b strings.Builder
	for _, e := range res.Errors {
		fmt.Fprintf(&b, "%s: %s\n", e.Outcome, e.Message)
	}
	return b.String()
}

// assertPhases checks that every request of step name recorded its time
// to first byte, as on any configuration.
func assertPhases(t *testing.T, res *loadgen.Result, name string) {
	t.Helper()
	assert.Equal(t, step(res, "c", name).Count(), phase(res, name, KindTTFB).Count(), "one TTFB per request of %q", name)
}

// poolOf returns a pool of the certificate of a TLS test server.
func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })

// newTLSServer starts a TLS test server with cfg (nil: the default) that
// does not log the handshakes that tests make fail on purpose.
func newTLSServer(h http.Handler, cfg *tls.Config) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = cfg
	srv.StartTLS()
	return srv
}

func TestClientSkipsVerificationForNamedHostsOnly(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		srv := newTLSServer(okHandler, nil) // a self-signed certificate
		defer srv.Close()
		addr := srv.Listener.Addr().String()
		hosts := map[string]string{"staging.test": addr, "prod.test": addr}
		parts := Parts{GET("staging", "https://staging.test/"), GET("prod", "https://prod.test/")}

		res := runClient(t, Client{Hosts: hosts}, 1, 2, parts)
		st := step(res, "c", "staging")
		assert.Equal(t, int64(2), st.Outcomes[metrics.Other], "verified by default: %v", st.Outcomes)
		assert.Contains(t, errorsOf(res), `Get "https://staging.test/": tls: failed to verify certificate: x509:`)

		res = runClient(t, Client{Hosts: hosts, InsecureSkipVerifyHosts: []string{"Staging.TEST"}}, 1, 2,
			GET("staging", "https://staging.test/", Contains("ok")), GET("prod", "https://prod.test/"))
		assert.Equal(t, int64(2), step(res, "c", "staging").Outcomes[metrics.OK], errorsOf(res))
		prod := step(res, "c", "prod")
		assert.Equal(t, int64(2), prod.Outcomes[metrics.Other], "an unlisted host is still verified: %v", prod.Outcomes)
		assert.Contains(t, errorsOf(res), `Get "https://prod.test/": tls: failed to verify certificate`)
		tlsPhase := phase(res, "staging", KindTLS)
		assert.Equal(t, int64(1), tlsPhase.Latency.Count(), "one handshake, then the connection is kept")
		assert.Positive(t, tlsPhase.Latency.Max)
		assertPhases(t, res, "staging")
	})
}

// newClientCert returns a self-signed client certificate.
func newClientCert(t *testing.T, cn string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func TestClientCertificates(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		cert := newClientCert(t, "load-vu")
		var seen atomic.Value
		srv := newTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		}), &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: poolOf(cert.Leaf)})
		defer srv.Close()
		roots := poolOf(srv.Certificate())

		res := runClient(t, Client{RootCAs: roots, Certificates: []tls.Certificate{cert}}, 1, 2, GET("get", srv.URL+"/"))
		assert.Equal(t, int64(2), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
		assert.Equal(t, "load-vu", seen.Load())
		assertPhases(t, res, "get")

		res = runClient(t, Client{RootCAs: roots}, 1, 1, GET("get", srv.URL+"/"))
		assert.Equal(t, int64(1), step(res, "c", "get").Errors(), "the server refuses a client without a certificate")
		assert.Contains(t, errorsOf(res), "certificate required")
	})
}

func TestClientRootCAs(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		srv := httptest.NewTLSServer(okHandler)
		defer srv.Close()
		res := runClient(t, Client{RootCAs: poolOf(srv.Certificate())}, 2, 3, GET("get", srv.URL+"/", Contains("ok")))
		assert.Equal(t, int64(6), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
		assert.Positive(t, phase(res, "get", KindTLS).Latency.Max)
		assertPhases(t, res, "get")

		other := newTLSServer(okHandler, nil) // the same test certificate …
		defer other.Close()
		res = runClient(t, Client{RootCAs: poolOf(newClientCert(t, "another CA").Leaf)}, 1, 1, GET("get", other.URL+"/"))
		assert.Equal(t, int64(1), step(res, "c", "get").Outcomes[metrics.Other], "… is not signed by a CA of this pool")
		assert.Contains(t, errorsOf(res), "x509: certificate signed by unknown authority")
	})
}

func TestClientServerName(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		var sni atomic.Value
		srv := newTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sni.Store(r.TLS.ServerName) }), nil)
		defer srv.Close()
		roots := poolOf(srv.Certificate()) // valid for 127.0.0.1, ::1, example.com and *.example.com
		res := runClient(t, Client{RootCAs: roots, ServerName: "api.example.com"}, 1, 1, GET("get", srv.URL+"/"))
		assert.Equal(t, int64(1), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
		assert.Equal(t, "api.example.com", sni.Load(), "sent as the server name")

		res = runClient(t, Client{RootCAs: roots, ServerName: "api.test"}, 1, 1, GET("get", srv.URL+"/"))
		assert.Equal(t, int64(1), step(res, "c", "get").Outcomes[metrics.Other])
		assert.Contains(t, errorsOf(res), "not api.test", "checked against the certificate instead of 127.0.0.1")
	})
}

// protoServer returns a server that records the HTTP major version of
// every request.
func protoServer(protos *sync.Map) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := protos.LoadOrStore(r.ProtoMajor, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		fmt.Fprint(w, "ok")
	})
}

func count(m *sync.Map, key int) int64 {
	if n, ok := m.Load(key); ok {
		return n.(*atomic.Int64).Load()
	}
	return 0
}

func TestClientHTTP2(t *testing.T) {
	var protos sync.Map
	srv := httptest.NewUnstartedServer(protoServer(&protos))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := poolOf(srv.Certificate())

	res := runClient(t, Client{RootCAs: roots}, 2, 2, GET("get", srv.URL+"/"))
	assert.Equal(t, int64(4), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
	assert.Equal(t, int64(4), count(&protos, 1), "HTTP/1.1 by default")

	res = runClient(t, Client{RootCAs: roots, HTTP2: true}, 2, 2, GET("get", srv.URL+"/", Contains("ok")))
	assert.Equal(t, int64(4), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
	assert.Equal(t, int64(4), count(&protos, 2), "HTTP/2 with HTTP2")
	assert.Positive(t, phase(res, "get", KindTLS).Latency.Max)
	assertPhases(t, res, "get")
}

func TestClientH2C(t *testing.T) {
	var protos sync.Map
	srv := httptest.NewUnstartedServer(protoServer(&protos))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()

	res := runClient(t, Client{H2C: true}, 2, 3, GET("get", srv.URL+"/", Contains("ok")))
	assert.Equal(t, int64(6), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
	assert.Equal(t, int64(6), count(&protos, 2), "HTTP/2 over cleartext")
	assert.Equal(t, int64(0), count(&protos, 1))
	assertPhases(t, res, "get")
	// Over HTTP/2 a request may ride a connection dialed for another VU's,
	// so the connect time is checked with one VU: its first request dials.
	res = runClient(t, Client{H2C: true}, 1, 1, GET("get", srv.URL+"/"))
	assert.Positive(t, phase(res, "get", KindConnect).Latency.Max)

	res = runClient(t, Client{}, 1, 1, GET("get", srv.URL+"/"))
	assert.Equal(t, int64(1), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
	assert.Equal(t, int64(1), count(&protos, 1), "HTTP/1.1 without H2C")
}

func TestClientProxy(t *testing.T) {
	var got atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.RequestURI) // a proxy gets the absolute URL
		fmt.Fprint(w, "via proxy")
	}))
	defer proxy.Close()
	pu, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	res := runClient(t, Client{Proxy: http.ProxyURL(pu)}, 1, 2, GET("get", "http://api.test/meetings?id={{vu.iteration}}", Contains("via proxy")))
	assert.Equal(t, int64(2), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
	assert.Equal(t, "http://api.test/meetings?id=1", got.Load())
	assert.Positive(t, phase(res, "get", KindConnect).Latency.Max, "the connection to the proxy")
	assertPhases(t, res, "get")
}

func TestClientHosts(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		var mu sync.Mutex
		var seen []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.Host+r.URL.Path)
			mu.Unlock()
		}))
		defer srv.Close()
		addr := srv.Listener.Addr().String()
		_, port, _ := net.SplitHostPort(addr)
		res := runClient(t, Client{Hosts: map[string]string{"api.test:80": addr, "WEB.test": "127.0.0.1"}}, 1, 1,
			GET("api", "http://api.test/a"), GET("web", "http://web.test:"+port+"/b"))
		assert.Zero(t, step(res, "c", "api").Errors()+step(res, "c", "web").Errors(), errorsOf(res))
		assert.Equal(t, []string{"api.test/a", "web.test:" + port + "/b"}, seen, "the URL's host is sent as is")
		assert.Positive(t, phase(res, "api", KindConnect).Latency.Max)
		assertPhases(t, res, "api")

		hosts := map[string]string{"a.test:80": "10.0.0.1:8080", "a.test": "10.0.0.2", "b.test": "::1", "c.test:80": "[::1]:81"}
		for in, want := range map[string]string{
			"a.test:80": "10.0.0.1:8080", "A.TEST:443": "10.0.0.2:443", "b.test:80": "[::1]:80", "c.test:80": "[::1]:81",
			"c.test:81": "c.test:81", "Other.test:80": "Other.test:80",
		} {
			assert.Equal(t, want, override(hosts, in), in)
		}
	})
}

// connCounter is a server that counts new connections and, for each,
// the VUs (X-VU header) whose requests it carried.
type connCounter struct {
	srv   *httptest.Server
	conns atomic.Int64
	mu    sync.Mutex
	vus   map[string]map[string]bool // remote address → VUs
}

func newConnCounter(t *testing.T) *connCounter {
	cc := &connCounter{vus: map[string]map[string]bool{}}
	cc.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cc.mu.Lock()
		if cc.vus[r.RemoteAddr] == nil {
			cc.vus[r.RemoteAddr] = map[string]bool{}
		}
		cc.vus[r.RemoteAddr][r.Header.Get("X-VU")] = true
		cc.mu.Unlock()
		fmt.Fprint(w, "ok")
	}))
	cc.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cc.conns.Add(1)
		}
	}
	cc.srv.Start()
	t.Cleanup(cc.srv.Close)
	return cc
}

// TestConnectionSharing: which connections each policy opens and which
// VUs' requests each carries. The VUs send one after the other — VU n
// waits n seconds on the bubble's fake clock before its first iteration —
// over an in-memory network, so the counts are exact: a shared pool hands
// every VU the connection the first one let go; a pool per VU opens one
// per VU; a pool per iteration one per iteration. (VUs that send at once
// would make a shared pool's count depend on the goroutines' order: a
// request that starts dialing may take a connection another VU let go and
// leave the dialed one idle.)
func TestConnectionSharing(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		const vus, iters = 3, 4
		for _, tc := range []struct {
			policy      ConnPolicy
			conns, each int // connections opened, VUs each carried
		}{
			{SharedPool, 1, vus},
			{PoolPerVU, vus, 1},
			{PoolPerIteration, vus * iters, 1},
		} {
			t.Run(tc.policy.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var mu sync.Mutex
					carried := map[string]map[string]bool{} // connection → VUs
					var conns int
					ln := memnet.Listen()
					srv := &http.Server{
						Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							mu.Lock()
							defer mu.Unlock()
							c := r.Context().Value(connKey{}).(string)
							if carried[c] == nil {
								carried[c] = map[string]bool{}
							}
							carried[c][r.Header.Get("X-VU")] = true
							fmt.Fprint(w, "ok")
						}),
						ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
							mu.Lock()
							defer mu.Unlock()
							conns++
							return context.WithValue(ctx, connKey{}, strconv.Itoa(conns))
						},
					}
					go srv.Serve(ln)
					defer srv.Close()
					res := runClient(t, Client{Dial: ln.Dial, Connections: tc.policy}, vus, iters,
						Step("stagger", func(_ context.Context, vu *VU) error {
							if vu.Iteration == 0 {
								time.Sleep(time.Duration(vu.ID) * time.Second)
							}
							return nil
						}),
						GET("first", "http://mem/1", Header("X-VU", "{{vu.id}}")),
						GET("second", "http://mem/2", Header("X-VU", "{{vu.id}}")),
					)
					assert.Zero(t, res.Iterations("c").Errors(), errorsOf(res))
					mu.Lock()
					defer mu.Unlock()
					assert.Equal(t, tc.conns, conns)
					assert.Len(t, carried, tc.conns, "every connection carried requests")
					for c, by := range carried {
						assert.Len(t, by, tc.each, "the VUs of connection %s: %v", c, by)
					}
					connected := phase(res, "first", KindConnect).Count() + phase(res, "second", KindConnect).Count()
					assert.Equal(t, int64(2*vus*iters), connected, "a connect phase for every request, 0 when reused")
				})
			})
		}
	})
}

// connKey keys the server's name of a connection in a request's context.
type connKey struct{}

// TestClientConnectionPolicies: on loopback, a pool per iteration pays
// for a connect (and a TLS handshake) every iteration, and keeps its
// connection between the iteration's steps.
func TestClientConnectionPolicies(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		const vus, iters = 3, 4
		journey := func(cc *connCounter) Parts {
			return Parts{
				GET("first", cc.srv.URL+"/1", Header("X-VU", "{{vu.id}}")),
				GET("second", cc.srv.URL+"/2", Header("X-VU", "{{vu.id}}")),
			}
		}
		t.Run("PoolPerIteration", func(t *testing.T) {
			cc := newConnCounter(t)
			res := runClient(t, Client{Connections: PoolPerIteration}, vus, iters, journey(cc))
			assert.Zero(t, res.Iterations("c").Errors(), errorsOf(res))
			assert.Equal(t, int64(vus*iters), cc.conns.Load(), "a new connection every iteration")
			first := phase(res, "first", KindConnect)
			assert.Equal(t, int64(vus*iters), first.Latency.Count())
			assert.Positive(t, first.Latency.Min, "every iteration pays for its connect")
			assert.Zero(t, phase(res, "second", KindConnect).Latency.Max, "kept alive within the iteration")
			assertPhases(t, res, "first")
		})
		t.Run("PoolPerIteration over TLS", func(t *testing.T) {
			srv := httptest.NewTLSServer(okHandler)
			defer srv.Close()
			res := runClient(t, Client{Connections: PoolPerIteration, RootCAs: poolOf(srv.Certificate())}, 2, 3, GET("get", srv.URL+"/"))
			assert.Zero(t, res.Iterations("c").Errors(), errorsOf(res))
			hs := phase(res, "get", KindTLS)
			assert.Equal(t, int64(6), hs.Latency.Count(), "a handshake every iteration")
			assert.Positive(t, hs.Latency.Min)
		})
	})
}

func TestClientCompression(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		body := strings.Repeat("meeting ", 1250) // 10000 bytes
		var asked atomic.Value
		var wire atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ae := r.Header.Get("Accept-Encoding")
			asked.Store(ae)
			if !strings.Contains(ae, "gzip") {
				fmt.Fprint(w, body)
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			var n countWriter
			zw := gzip.NewWriter(&n)
			fmt.Fprint(zw, body)
			zw.Close()
			wire.Store(int64(n))
			zw = gzip.NewWriter(w)
			fmt.Fprint(zw, body)
			zw.Close()
		}))
		defer srv.Close()

		res := runClient(t, Client{}, 1, 1, GET("get", srv.URL+"/", Contains("meeting meeting")))
		st := step(res, "c", "get")
		assert.Equal(t, int64(1), st.Outcomes[metrics.OK], errorsOf(res))
		assert.Equal(t, "gzip", asked.Load(), "gzip asked for by default")
		assert.Less(t, wire.Load(), int64(200), "the server compressed the body")
		assert.Equal(t, int64(len(body)), st.BytesReceived, "the decoded bytes are counted")

		res = runClient(t, Client{DisableCompression: true}, 1, 1, GET("get", srv.URL+"/", Contains("meeting meeting")))
		st = step(res, "c", "get")
		assert.Equal(t, int64(1), st.Outcomes[metrics.OK], errorsOf(res))
		assert.Equal(t, "", asked.Load(), "no Accept-Encoding with DisableCompression")
		assert.Equal(t, int64(len(body)), st.BytesReceived)
	})
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func TestClientRedirects(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		var mu sync.Mutex
		var paths []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			paths = append(paths, r.URL.Path)
			mu.Unlock()
			switch {
			case r.URL.Path == "/start":
				http.SetCookie(w, &http.Cookie{Name: "s", Value: "1", Path: "/"})
				http.Redirect(w, r, "/end", http.StatusFound)
			case strings.HasPrefix(r.URL.Path, "/loop/"):
				http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
			default:
				fmt.Fprint(w, "done")
			}
		}))
		defer srv.Close()
		visited := func() []string {
			mu.Lock()
			defer mu.Unlock()
			p := paths
			paths = nil
			return p
		}

		res := runClient(t, Client{}, 1, 1, GET("get", srv.URL+"/start", Contains("done")))
		assert.Equal(t, metrics.StatusCounts{{Code: 200, Count: 1}}, step(res, "c", "get").Status, errorsOf(res))
		assert.Equal(t, []string{"/start", "/end"}, visited(), "followed by default")

		res = runClient(t, Client{NoRedirects: true}, 1, 1,
			GET("get", srv.URL+"/start", Expect(302), ExtractHeader("Location", "to")), GET("then", srv.URL+"{{raw to}}", Contains("done")))
		assert.Equal(t, metrics.StatusCounts{{Code: 302, Count: 1}}, step(res, "c", "get").Status, errorsOf(res))
		assert.Equal(t, int64(1), step(res, "c", "then").Outcomes[metrics.OK], errorsOf(res))
		assert.Equal(t, []string{"/start", "/end"}, visited(), "the 302 is the step's response; the next step follows it")

		res = runClient(t, Client{MaxRedirects: 2}, 1, 1, GET("get", srv.URL+"/loop/"))
		assert.Equal(t, int64(1), step(res, "c", "get").Outcomes[metrics.Other])
		assert.Contains(t, errorsOf(res), "stopped after 2 redirects (Client.MaxRedirects)")
		assert.Equal(t, []string{"/loop/", "/loop/x", "/loop/xx"}, visited(), "two redirects followed, the third refused")
	})
}

func TestClientConnectTimeout(t *testing.T) {
	bothEngines(t, func(t *testing.T) {
		t.Run("dial", func(t *testing.T) {
			// A Dial that never connects stands for a host that drops SYNs:
			// nothing on loopback reliably does.
			blocked := func(ctx context.Context, network, addr string) (net.Conn, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			start := time.Now()
			res := runClient(t, Client{Dial: blocked, ConnectTimeout: 50 * time.Millisecond, Timeout: 10 * time.Second}, 1, 1, GET("get", "http://api.test/"))
			assert.Less(t, time.Since(start), 5*time.Second)
			st := step(res, "c", "get")
			assert.Equal(t, int64(1), st.Outcomes[metrics.Timeout], errorsOf(res))
			assert.GreaterOrEqual(t, st.Failed.Max, 50*time.Millisecond)
			assert.Less(t, st.Failed.Max, 5*time.Second)
			assert.Contains(t, errorsOf(res), "no connection to api.test:80 within the Client's ConnectTimeout of 50ms")
		})
		t.Run("TLS handshake", func(t *testing.T) {
			// A server that accepts and never answers the TLS hello.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var conns []net.Conn
			wg.Go(func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}
			})
			defer func() {
				ln.Close()
				wg.Wait()
				for _, c := range conns {
					c.Close()
				}
			}()
			res := runClient(t, Client{ConnectTimeout: 50 * time.Millisecond, Timeout: 10 * time.Second}, 1, 1, GET("get", "https://"+ln.Addr().String()+"/"))
			st := step(res, "c", "get")
			assert.Equal(t, int64(1), st.Outcomes[metrics.Timeout], errorsOf(res))
			assert.Less(t, st.Failed.Max, 5*time.Second)
			assert.Contains(t, errorsOf(res), "TLS handshake timeout")
		})
	})
}

func TestClientTransport(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { auth.Store(r.Header.Get("Authorization")) }))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	var calls atomic.Int64
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer t0ken")
		return tr.RoundTrip(r)
	})
	res := runClient(t, Client{Transport: rt}, 2, 2, GET("get", srv.URL+"/"))
	assert.Equal(t, int64(4), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
	assert.Equal(t, int64(4), calls.Load())
	assert.Equal(t, "Bearer t0ken", auth.Load())
	assertPhases(t, res, "get")
	assert.Equal(t, int64(4), phase(res, "get", KindConnect).Count(), "the trace reaches the transport")

	_, err := New("c", Parts{GET("get", srv.URL)}, WithClient(Client{Transport: rt, RootCAs: x509.NewCertPool(), Connections: PoolPerVU}))
	assert.ErrorContains(t, err, "Client: set Transport or RootCAs, not both")
	assert.ErrorContains(t, err, "Client: set Transport or Connections, not both")
}

func TestClientHTTPClient(t *testing.T) {
	var mixups, auths atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer t0ken" {
			auths.Add(1)
		}
		vu := r.Header.Get("X-VU")
		if c, err := r.Cookie("vu"); err != nil {
			http.SetCookie(w, &http.Cookie{Name: "vu", Value: vu, Path: "/"})
		} else if c.Value != vu {
			mixups.Add(1)
		}
		if r.URL.Path == "/login" {
			http.Redirect(w, r, "/home", http.StatusSeeOther)
		}
	}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer t0ken")
		return tr.RoundTrip(r)
	})}
	res := runClient(t, Client{HTTPClient: hc}, 2, 3, GET("get", srv.URL+"/", Header("X-VU", "{{vu.id}}")))
	assert.Equal(t, int64(6), step(res, "c", "get").Outcomes[metrics.OK], errorsOf(res))
	assert.Equal(t, int64(6), auths.Load(), "the client's transport sent every request")
	assert.Zero(t, mixups.Load(), "each VU has its own cookie jar")
	assertPhases(t, res, "get")

	// Without a Transport, the client runs over the one the fields build,
	// with its own redirect policy.
	addr := srv.Listener.Addr().String()
	var redirects atomic.Int64
	hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		redirects.Add(1)
		return http.ErrUseLastResponse
	}}
	res = runClient(t, Client{HTTPClient: hc, Hosts: map[string]string{"api.test": addr}, Connections: PoolPerVU}, 1, 2,
		GET("login", "http://api.test/login", Expect(303)))
	assert.Equal(t, int64(2), step(res, "c", "login").Outcomes[metrics.OK], errorsOf(res))
	assert.Equal(t, int64(2), redirects.Load())
	hc.CheckRedirect = nil // the journey has its own copy
	_, err := New("c", Parts{GET("get", srv.URL)}, WithClient(Client{
		HTTPClient: &http.Client{Transport: tr, CheckRedirect: hc.CheckRedirect}, HTTP2: true, Transport: tr,
	}))
	assert.ErrorContains(t, err, "Client: set Transport or HTTPClient.Transport, not both")
	assert.ErrorContains(t, err, "Client: set HTTPClient.Transport or HTTP2, not both")
	_, err = New("c", Parts{GET("get", srv.URL)}, WithClient(Client{
		HTTPClient: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}, NoRedirects: true,
	}))
	assert.ErrorContains(t, err, "Client: set HTTPClient.CheckRedirect or NoRedirects, not both")
}

func TestClientValidation(t *testing.T) {
	_, err := New("c", Parts{GET("get", "http://127.0.0.1/")}, WithClient(Client{
		Timeout: -1, ConnectTimeout: -time.Second, MaxRedirects: -1, Connections: ConnPolicy(7),
		Hosts:                   map[string]string{"http://api.test": "127.0.0.1", "api.test:99999": "127.0.0.1", "ok.test": "", "b.test:80": "10.0.0.1/x"},
		InsecureSkipVerifyHosts: []string{"staging.test", "staging.test:443", "[::1]"},
		ServerName:              "https://api.test",
		Certificates:            []tls.Certificate{{}},
	}))
	require.Error(t, err)
	for _, want := range []string{
		`journey "c": Client.Timeout must be >= 0 (0 means 1m0s), got -1ns`,
		"Client.ConnectTimeout must be >= 0 (0 means net/http's defaults), got -1s",
		"Client.MaxRedirects must be >= 0 (0 means net/http's default; NoRedirects follows none), got -1",
		"Client.Connections must be SharedPool, PoolPerVU or PoolPerIteration, got ConnPolicy(7)",
		`Client.Hosts: key "http://api.test" is not a host name or host:port`,
		`Client.Hosts: key "api.test:99999" is not a host name or host:port (like api.test:443; no scheme or path, a port in 1..65535)`,
		`Client.Hosts["ok.test"]: "" is not a host name, an IP address or host:port`,
		`Client.Hosts["b.test:80"]: "10.0.0.1/x" is not`,
		`Client.InsecureSkipVerifyHosts[1] is "staging.test:443"; want a host name or IP address as in the URL, without scheme, port, path or brackets`,
		`Client.InsecureSkipVerifyHosts[2] is "[::1]"`,
		`Client.ServerName is "https://api.test"; want a host name or IP address, without scheme, port or path`,
		"Client.Certificates[0] needs a certificate and its private key",
	} {
		assert.ErrorContains(t, err, want)
	}
	assert.NotContains(t, err.Error(), "InsecureSkipVerifyHosts[0]")
	_, err = New("c", Parts{GET("get", "http://127.0.0.1/")}, WithClient(Client{NoRedirects: true, MaxRedirects: 3}))
	assert.ErrorContains(t, err, "Client: set NoRedirects or MaxRedirects, not both")
	_, err = New("c", Parts{GET("get", "http://127.0.0.1/")}, WithClient(Client{
		Hosts: map[string]string{"api.test": "::1", "[::1]:80": "127.0.0.1:8080", "::1": "localhost"}, InsecureSkipVerifyHosts: []string{"::1", "10.0.0.1"},
	}))
	assert.NoError(t, err)
	assert.Equal(t, "PoolPerIteration", PoolPerIteration.String())
}
