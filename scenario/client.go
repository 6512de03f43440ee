package scenario

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds a request, body included, when neither the step
// ([Timeout]) nor the journey's [Client] says otherwise.
const DefaultTimeout = 60 * time.Second

// Client configures how a journey's HTTP steps connect. The zero value is
// the default: this package's own HTTP/1.1 client ([EngineWire]), one pool
// of keep-alive connections shared by the scenario's VUs, the system's TLS
// roots, no proxy, compressed responses asked for and decoded, redirects
// followed as net/http follows them (up to 9 in a row; the 10th fails the
// step), [DefaultTimeout] per request and [DefaultMaxBody] kept for checks.
// Every VU has its own cookie jar whatever the configuration, unless
// HTTPClient brings a Jar of its own.
//
// Two clients send requests ([Engine]): the package's own, a lean
// HTTP/1.1 client that writes each request at once and reads its answer
// without allocating, and net/http's. By default the own client sends
// whatever it can: everything but HTTPClient, Transport, Proxy, HTTP2 and
// H2C, which only net/http does and which select it. Both send the same
// requests, follow the same redirects with the same cookies, and measure
// the same way: set Engine only to compare them or to insist on one.
//
// What a VU costs (BenchmarkVUs: 10 000 VUs in one process, a 3-step
// journey with think times, each VU holding its connection, against a
// server in another process): about 16 KB a VU on the own client, its
// connection included, and about 30 KB on net/http, whose transport keeps
// two goroutines and two 4 KB buffers for every connection. A VU of an
// open model's pool that has not run costs about 5 KB.
//
// With net/http, requests are sent by the first of: HTTPClient's
// Transport, Transport, or a transport built from the fields from Dial to
// Connections (the "transport fields"). Setting a transport field together
// with Transport or HTTPClient.Transport is an error, since the field would
// be ignored; so is setting NoRedirects or MaxRedirects together with
// HTTPClient.CheckRedirect. Mistakes are reported by [New].
//
// Phases ([KindConnect], [KindTLS] …), checks and outcome classes work the
// same way on every configuration, with two exceptions: the own client does
// not measure the DNS phase, and net/http's trace sees the connect of a new
// connection only when a net.Dialer opens it, so with a Dial of your own
// and net/http only reused connections record a connect phase (of 0).
type Client struct {
	// HTTPClient, if set, is the http.Client of your own that every VU
	// uses a copy of: its Transport (if nil, the one Transport or the
	// transport fields make), its CheckRedirect (if nil, the one
	// NoRedirects or MaxRedirects make) and its Timeout, which bounds a
	// request beside the step's timeout. If its Jar is nil, each VU's copy
	// gets the VU's own cookie jar; a Jar of its own is shared by all the
	// VUs, so leave it nil unless that is what you want. Its functions
	// are called by many VUs at once.
	HTTPClient *http.Client
	// Transport, if set, sends every request (unless HTTPClient has a
	// Transport, which is then an error) instead of the transport built
	// from the transport fields below: your own http.RoundTripper, for
	// authentication, recording, or an in-memory server in tests. The
	// transport fields must then be unset: connections are the
	// transport's business.
	Transport http.RoundTripper

	// Dial, if set, opens the connections instead of a net.Dialer: a
	// custom resolver, an in-memory network. Hosts and ConnectTimeout
	// apply to it too. The connect phase is the time spent in Dial.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Hosts maps an address a request would dial, "host:port" or a bare
	// "host" for any port, to the address to dial instead, "host:port" or
	// a bare host or IP address (keeping the port), as curl's --resolve
	// does: {"api.test:443": "127.0.0.1:8443"} or {"api.test":
	// "10.0.0.7"}. An exact "host:port" key wins over a bare host. Host
	// names are compared without regard to case. Requests keep their URL:
	// the Host header, TLS server name and certificate checks are those of
	// the URL's host. With a Proxy, the addresses dialled are the
	// proxy's, so Hosts applies to the proxy, not to the target.
	Hosts map[string]string
	// Proxy returns the proxy for a request (nil URL: no proxy), as
	// http.Transport.Proxy: http.ProxyURL(u) for one proxy,
	// http.ProxyFromEnvironment for HTTP_PROXY, HTTPS_PROXY and NO_PROXY
	// (which never proxies localhost or loopback addresses). Nil: no
	// proxy. A request to an http URL goes to the proxy with its absolute
	// URL; one to an https URL through a CONNECT tunnel, inside which TLS
	// is checked against the target.
	Proxy func(*http.Request) (*url.URL, error)
	// RootCAs, if set, is the pool of certificate authorities that server
	// certificates are checked against, instead of the system's.
	RootCAs *x509.CertPool
	// Certificates are the client certificates offered to a server that
	// asks for one (mutual TLS); tls.LoadX509KeyPair loads one. Each must
	// hold a certificate and its private key.
	Certificates []tls.Certificate
	// ServerName, if set, is the name sent in TLS's server name indication
	// and checked against the certificate, instead of the URL's host,
	// for every https request of the journey: a host name (or an IP
	// address), without scheme, port or path.
	ServerName string
	// InsecureSkipVerifyHosts lists the hosts (names or IP addresses as in
	// the URL, without port, compared without regard to case) whose
	// certificates are not checked: a staging target with a self-signed
	// certificate. Requests to any other host are still checked. They go
	// through a transport of their own with tls.Config.InsecureSkipVerify,
	// chosen by the request's URL host (a redirect to another host is
	// checked again); the connection is still encrypted, but anyone on the
	// path could pose as those hosts.
	InsecureSkipVerifyHosts []string
	// HTTP2 offers HTTP/2 to https servers (TLS ALPN), falling back to
	// HTTP/1.1 when a server declines. Off by default: HTTP/1.1 only, one
	// request at a time on each connection. With
	// SharedPool, the VUs then share few connections (one per host until
	// the server's limit of concurrent streams), as browsers do; PoolPerVU
	// keeps one per VU.
	HTTP2 bool
	// H2C sends requests to http URLs as HTTP/2 over cleartext with prior
	// knowledge (no HTTP/1.1 upgrade): the server must speak h2c, such as
	// a Go server whose Protocols include UnencryptedHTTP2. https URLs are
	// unaffected (see HTTP2).
	H2C bool
	// ConnectTimeout bounds opening a connection: the dial (name
	// resolution and TCP connect, to the proxy if any) and then, each on
	// its own budget, the TLS handshake. Past it the step fails as a
	// timeout. 0 means net/http's defaults: 30 s for a dial by a
	// net.Dialer (none for a Dial of your own) and 10 s for the handshake.
	// It must be >= 0. The request's Timeout bounds the whole request,
	// connecting included.
	ConnectTimeout time.Duration
	// DisableCompression stops asking for compressed responses. By
	// default, as browsers do, a request without its own Accept-Encoding
	// header asks for gzip, and a gzip response is decoded for checks.
	// Either way the bytes received that a step counts are the body's
	// bytes as checks see them: decoded ones when the transport decoded
	// them, not the bytes on the wire. A request that sets its own
	// Accept-Encoding header gets and counts the body as sent.
	DisableCompression bool
	// Connections says which connections VUs share: [SharedPool] (the
	// default), [PoolPerVU] or [PoolPerIteration].
	Connections ConnPolicy
	// Engine chooses the client that sends the steps: [EngineAuto] (the
	// default) the own client wherever it honours the configuration, else
	// net/http. [VU.HTTP] is a net/http client whatever the engine, for Go
	// steps.
	Engine Engine

	// Timeout bounds each request, body included; a step's own [Timeout]
	// takes precedence. 0 means DefaultTimeout; it must be >= 0.
	Timeout time.Duration
	// MaxBody caps how much of a response body is kept for checks and
	// extractors (see [MaxBody]); a step's own MaxBody takes precedence.
	// 0 means DefaultMaxBody; it must be >= 0.
	MaxBody int64
	// NoRedirects stops following redirects: a 3xx response is the step's
	// response, with its status and headers (a 302 passes unless [Expect]
	// says otherwise), and any cookies it sets are kept.
	NoRedirects bool
	// MaxRedirects is how many redirects in a row a request follows; the
	// next redirect response fails the step (outcome other). 0 means
	// net/http's default, which follows 9 and fails at the 10th; it must
	// be >= 0, and 0 with NoRedirects.
	MaxRedirects int
}

// Engine is the HTTP client that sends a journey's requests; see
// [Client.Engine].
type Engine int

// The engines.
const (
	// EngineAuto: EngineWire, unless the Client sets a field only net/http
	// honours (HTTPClient, Transport, Proxy, HTTP2, H2C); then
	// EngineNetHTTP.
	EngineAuto Engine = iota
	// EngineWire: this package's own HTTP/1.1 client, for tests whose
	// limit is the generator: each request written at once (on a TCP
	// connection it dials itself, or a *net.TCPConn a Dial returns, the
	// write then waits in Go's poller for the answer to begin, which saves
	// the read that would find the socket empty), each response read as
	// RFC 9112 frames it (Content-Length, chunked, or up to the
	// connection's end; interim 1xx responses skipped), no allocation per
	// request of the usual kind. A response that is not HTTP/1.x fails as
	// other. A request is sent again only when a kept-alive connection the
	// server closed fails it before any answer, as net/http does, and a
	// kept-alive connection that speaks while idle is not used again. A
	// hard stop closes the connections in use, so a request in flight ends
	// at once. Setting a field it does not honour is an error.
	EngineWire
	// EngineNetHTTP: net/http's Client and Transport, as the Client's
	// fields configure them.
	EngineNetHTTP
)

func (e Engine) String() string {
	switch e {
	case EngineAuto:
		return "EngineAuto"
	case EngineWire:
		return "EngineWire"
	case EngineNetHTTP:
		return "EngineNetHTTP"
	}
	return "Engine(" + strconv.Itoa(int(e)) + ")"
}

// netHTTPOnly returns the names of the fields set that only net/http
// honours.
func (c *Client) netHTTPOnly() []string {
	var set []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"HTTPClient", c.HTTPClient != nil}, {"Transport", c.Transport != nil}, {"Proxy", c.Proxy != nil},
		{"HTTP2", c.HTTP2}, {"H2C", c.H2C},
	} {
		if f.set {
			set = append(set, f.name)
		}
	}
	return set
}

// engine returns the engine that sends the requests: EngineWire or
// EngineNetHTTP.
func (c *Client) engine() Engine {
	if c.Engine == EngineAuto {
		if len(c.netHTTPOnly()) > 0 {
			return EngineNetHTTP
		}
		return EngineWire
	}
	return c.Engine
}

// ConnPolicy says which connections a journey's VUs share; see
// [Client.Connections].
type ConnPolicy int

// The connection policies.
const (
	// SharedPool: one pool of keep-alive connections for all the VUs of a
	// scenario, sized to keep one per VU and host; a VU takes whichever
	// connection is idle. Connections are opened only while the VUs
	// outnumber them, so in a steady run the connect phase is mostly 0
	// and few TLS handshakes are recorded, as with a real client that
	// keeps its connections.
	SharedPool ConnPolicy = iota
	// PoolPerVU: each VU has connections of its own, never used by
	// another VU, kept alive across its iterations: a server sees as many
	// clients as there are VUs.
	PoolPerVU
	// PoolPerIteration: each VU opens new connections in every iteration
	// (kept alive between the steps of the iteration) and closes them at
	// its end, before any [Pacing] wait: a test of connection set-up,
	// whose cost the connect and TLS phases of each iteration's first
	// request show.
	PoolPerIteration
)

func (p ConnPolicy) String() string {
	switch p {
	case SharedPool:
		return "SharedPool"
	case PoolPerVU:
		return "PoolPerVU"
	case PoolPerIteration:
		return "PoolPerIteration"
	}
	return "ConnPolicy(" + strconv.Itoa(int(p)) + ")"
}

// transportFields returns the names of the transport fields that are set.
func (c *Client) transportFields() []string {
	var set []string
	add := func(name string, isSet bool) {
		if isSet {
			set = append(set, name)
		}
	}
	add("Dial", c.Dial != nil)
	add("Hosts", len(c.Hosts) > 0)
	add("Proxy", c.Proxy != nil)
	add("RootCAs", c.RootCAs != nil)
	add("Certificates", len(c.Certificates) > 0)
	add("ServerName", c.ServerName != "")
	add("InsecureSkipVerifyHosts", len(c.InsecureSkipVerifyHosts) > 0)
	add("HTTP2", c.HTTP2)
	add("H2C", c.H2C)
	add("ConnectTimeout", c.ConnectTimeout != 0)
	add("DisableCompression", c.DisableCompression)
	add("Connections", c.Connections != SharedPool)
	return set
}

func (c *Client) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("Client"+format, args...)) }
	owner := ""
	switch {
	case c.HTTPClient != nil && c.HTTPClient.Transport != nil:
		owner = "HTTPClient.Transport"
		if c.Transport != nil {
			bad(": set Transport or HTTPClient.Transport, not both")
		}
	case c.Transport != nil:
		owner = "Transport"
	}
	if owner != "" {
		for _, f := range c.transportFields() {
			bad(": set %s or %s, not both: %s configures the transport built when neither Transport nor HTTPClient.Transport is set", owner, f, f)
		}
	}
	if c.HTTPClient != nil && c.HTTPClient.CheckRedirect != nil {
		if c.NoRedirects {
			bad(": set HTTPClient.CheckRedirect or NoRedirects, not both")
		}
		if c.MaxRedirects != 0 {
			bad(": set HTTPClient.CheckRedirect or MaxRedirects, not both")
		}
	}
	switch {
	case c.Engine < EngineAuto || c.Engine > EngineNetHTTP:
		bad(".Engine must be EngineAuto, EngineWire or EngineNetHTTP, got %v", c.Engine)
	case c.Engine == EngineWire:
		for _, f := range c.netHTTPOnly() {
			bad(": Engine is EngineWire, which does not do %s (the own client speaks HTTP/1.1, without a proxy, on connections it opens); leave Engine to EngineAuto to send with net/http", f)
		}
	}
	if c.NoRedirects && c.MaxRedirects != 0 {
		bad(": set NoRedirects or MaxRedirects, not both (NoRedirects follows none)")
	}
	if c.MaxRedirects < 0 {
		bad(".MaxRedirects must be >= 0 (0 means net/http's default; NoRedirects follows none), got %d", c.MaxRedirects)
	}
	if c.Timeout < 0 {
		bad(".Timeout must be >= 0 (0 means %v), got %v", DefaultTimeout, c.Timeout)
	}
	if c.ConnectTimeout < 0 {
		bad(".ConnectTimeout must be >= 0 (0 means net/http's defaults), got %v", c.ConnectTimeout)
	}
	if c.MaxBody < 0 {
		bad(".MaxBody must be >= 0 (0 means %s), got %d", formatSize(DefaultMaxBody), c.MaxBody)
	}
	if c.Connections < SharedPool || c.Connections > PoolPerIteration {
		bad(".Connections must be SharedPool, PoolPerVU or PoolPerIteration, got %v", c.Connections)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Hosts)) {
		if err := checkAddr(k, false); err != nil {
			bad(".Hosts: key %q %v", k, err)
		}
		if err := checkAddr(c.Hosts[k], true); err != nil {
			bad(".Hosts[%q]: %q %v", k, c.Hosts[k], err)
		}
	}
	for i, h := range c.InsecureSkipVerifyHosts {
		if !isHost(h) {
			bad(".InsecureSkipVerifyHosts[%d] is %q; want a host name or IP address as in the URL, without scheme, port, path or brackets", i, h)
		}
	}
	if c.ServerName != "" && !isHost(c.ServerName) {
		bad(".ServerName is %q; want a host name or IP address, without scheme, port or path", c.ServerName)
	}
	for i, crt := range c.Certificates {
		if len(crt.Certificate) == 0 || crt.PrivateKey == nil {
			bad(".Certificates[%d] needs a certificate and its private key (tls.LoadX509KeyPair or tls.X509KeyPair load both)", i)
		}
	}
	return errs
}

// isHost reports whether s is a host name or an IP address, without port,
// brackets, scheme or path.
func isHost(s string) bool {
	if net.ParseIP(s) != nil {
		return true
	}
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// checkAddr checks a key or a value of Client.Hosts: a host, or host:port
// with a port in 1..65535; IPv6 addresses bare or in brackets with a port.
func checkAddr(s string, value bool) error {
	what := "a host name or host:port"
	if value {
		what = "a host name, an IP address or host:port"
	}
	if isHost(s) {
		return nil
	}
	h, p, err := net.SplitHostPort(s)
	if err == nil && isHost(h) {
		if n, err := strconv.Atoi(p); err == nil && 0 < n && n < 1<<16 {
			return nil
		}
	}
	return fmt.Errorf("is not %s (like api.test:443; no scheme or path, a port in 1..65535)", what)
}

func (c *Client) maxBody() int64 {
	if c.MaxBody == 0 {
		return DefaultMaxBody
	}
	return c.MaxBody
}

func (c *Client) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// clone returns c with its own copies of the maps, slices and client that
// the caller could change after handing c over.
func (c Client) clone() Client {
	c.Hosts = maps.Clone(c.Hosts)
	c.Certificates = slices.Clone(c.Certificates)
	c.InsecureSkipVerifyHosts = slices.Clone(c.InsecureSkipVerifyHosts)
	if c.HTTPClient != nil {
		hc := *c.HTTPClient
		c.HTTPClient = &hc
	}
	return c
}

// clientRun is one run's HTTP clients for a journey: net/http's, which
// every VU has for Go steps ([VU.HTTP]) and which sends the steps with
// EngineNetHTTP, and the own client's shared state with EngineWire.
type clientRun struct {
	cfg      Client
	shared   http.RoundTripper // SharedPool: every VU's; else nil
	redirect func(*http.Request, []*http.Request) error
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	skip     map[string]bool // InsecureSkipVerifyHosts, in lower case
	wire     *wireRun        // EngineWire; else nil
	mu       sync.Mutex
	own      []pool // the pools built here, closed at the end
}

func (c Client) build(maxVUs int) *clientRun {
	r := &clientRun{cfg: c, shared: c.Transport}
	if c.HTTPClient != nil && c.HTTPClient.Transport != nil {
		r.shared = c.HTTPClient.Transport
	}
	switch {
	case c.NoRedirects:
		r.redirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	case c.MaxRedirects > 0:
		n := c.MaxRedirects
		r.redirect = func(req *http.Request, via []*http.Request) error {
			if len(via) > n {
				return fmt.Errorf("stopped after %d redirects (Client.MaxRedirects)", n)
			}
			return nil
		}
	}
	if len(c.InsecureSkipVerifyHosts) > 0 {
		r.skip = map[string]bool{}
		for _, h := range c.InsecureSkipVerifyHosts {
			r.skip[strings.ToLower(h)] = true
		}
	}
	r.dial = c.dialer()
	if r.shared == nil && c.Connections == SharedPool {
		p := r.newPool(max(maxVUs, 2))
		r.shared, r.own = p, []pool{p}
	}
	if c.engine() == EngineWire {
		r.wire = newWireRun(r)
	}
	return r
}

// forVU returns what one VU sends its steps with, and its http.Client for
// Go steps.
func (r *clientRun) forVU(vu *VU) (sender, *http.Client) {
	hc, iter := r.netForVU(vu)
	if r.wire != nil {
		return r.wire.forVU(vu, iter), hc
	}
	return &netSender{client: hc, iter: iter}, hc
}

func (r *clientRun) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.own {
		p.CloseIdleConnections()
	}
	if r.wire != nil {
		r.wire.close()
	}
}

// dialer returns the function that opens connections, or nil for the
// transport's own net.Dialer.
func (c *Client) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	var dial func(ctx context.Context, network, addr string) (net.Conn, error)
	if user := c.Dial; user != nil {
		// A net.Dialer reports its connect to the request's trace (the
		// connect phase); the user's Dial is timed here instead.
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			trace := httptrace.ContextClientTrace(ctx)
			if trace != nil && trace.ConnectStart != nil {
				trace.ConnectStart(network, addr)
			}
			conn, err := user(ctx, network, addr)
			if trace != nil && trace.ConnectDone != nil {
				trace.ConnectDone(network, addr, err)
			}
			return conn, err
		}
	}
	if dial == nil && (len(c.Hosts) > 0 || c.ConnectTimeout > 0) {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second} // as http.DefaultTransport's
		dial = d.DialContext
	}
	if len(c.Hosts) > 0 {
		hosts := make(map[string]string, len(c.Hosts))
		for k, v := range c.Hosts {
			hosts[strings.ToLower(k)] = v
		}
		next := dial
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return next(ctx, network, override(hosts, addr))
		}
	}
	if d := c.ConnectTimeout; d > 0 {
		next := dial
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			conn, err := next(dctx, network, addr)
			if err != nil && ctx.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) {
				err = &connectTimeoutError{addr: addr, d: d, err: err}
			}
			return conn, err
		}
	}
	return dial
}

// override returns the address to dial for addr ("host:port") by hosts,
// whose keys are in lower case.
func override(hosts map[string]string, addr string) string {
	if to, ok := hosts[strings.ToLower(addr)]; ok {
		return withPort(to, addr)
	}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		if to, ok := hosts[strings.ToLower(h)]; ok {
			return withPort(to, addr)
		}
	}
	return addr
}

// withPort returns to, given the port of addr if it has none.
func withPort(to, addr string) string {
	if _, _, err := net.SplitHostPort(to); err == nil {
		return to
	}
	_, port, _ := net.SplitHostPort(addr)
	return net.JoinHostPort(strings.Trim(to, "[]"), port)
}

// connectTimeoutError is a dial that ConnectTimeout cut off.
type connectTimeoutError struct {
	addr string
	d    time.Duration
	err  error
}

func (e *connectTimeoutError) Error() string {
	return fmt.Sprintf("no connection to %s within the Client's ConnectTimeout of %v: %v", e.addr, e.d, e.err)
}
func (e *connectTimeoutError) Unwrap() error { return e.err }
func (e *connectTimeoutError) Timeout() bool { return true }
