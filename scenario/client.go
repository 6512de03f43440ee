package scenario

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// DefaultTimeout bounds a request, body included, when neither the step
// ([Timeout]) nor the journey's [Client] says otherwise.
const DefaultTimeout = 60 * time.Second

// Client configures how a journey's HTTP steps connect. The zero value is
// the default: one pool of keep-alive connections shared by the
// scenario's VUs (sized so that every VU keeps one), HTTP/1.1, the
// system's TLS roots, no proxy, [DefaultTimeout] per request and
// [DefaultMaxBody] kept for checks. Every VU has its own cookie jar
// whatever the configuration.
type Client struct {
	// Transport, if set, sends every request instead of the transport
	// built from the fields below: your own http.RoundTripper, for
	// authentication, recording, or an in-memory server in tests. Dial
	// must then be nil: connections are the transport's business.
	Transport http.RoundTripper
	// Dial, if set, opens the connections instead of a net.Dialer: a host
	// override, a custom resolver, an in-memory network.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds each request, body included; a step's own [Timeout]
	// takes precedence. 0 means DefaultTimeout; it must be >= 0.
	Timeout time.Duration
	// MaxBody caps how much of a response body is kept for checks and
	// extractors (see [MaxBody]); a step's own MaxBody takes precedence.
	// 0 means DefaultMaxBody; it must be >= 0.
	MaxBody int64
}

func (c *Client) validate() error {
	var errs []error
	if c.Transport != nil && c.Dial != nil {
		errs = append(errs, errors.New("Client: set Transport or Dial, not both"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("Client.Timeout must be >= 0 (0 means %v), got %v", DefaultTimeout, c.Timeout))
	}
	if c.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("Client.MaxBody must be >= 0 (0 means %s), got %d", formatSize(DefaultMaxBody), c.MaxBody))
	}
	return errors.Join(errs...)
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

// clientRun is one run's HTTP connections for a journey.
type clientRun struct {
	cfg Client
	rt  http.RoundTripper
	own *http.Transport // the transport built here, closed at the end
}

func (c Client) build(maxVUs int) *clientRun {
	r := &clientRun{cfg: c, rt: c.Transport}
	if r.rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 0 // no limit overall
		t.MaxIdleConnsPerHost = max(maxVUs, 2)
		t.MaxConnsPerHost = 0
		t.IdleConnTimeout = 90 * time.Second
		t.ForceAttemptHTTP2 = false
		t.TLSClientConfig = &tls.Config{}
		if c.Dial != nil {
			t.DialContext = c.Dial
		}
		r.rt, r.own = t, t
	}
	return r
}

// forVU returns the http.Client of one VU.
func (r *clientRun) forVU(vu *VU) *http.Client {
	return &http.Client{Transport: r.rt, Jar: vu.jar}
}

func (r *clientRun) close() {
	if r.own != nil {
		r.own.CloseIdleConnections()
	}
}
