package scenario

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"time"

	"github.com/stampede-go/stampede/internal/wire"
	"github.com/stampede-go/stampede/metrics"
)

// netSender sends a VU's steps with net/http ([EngineNetHTTP]).
type netSender struct {
	client *http.Client
	iter   pool // with PoolPerIteration, the VU's pool, closed after each iteration
}

func (n *netSender) endIteration() {
	if n.iter != nil {
		n.iter.CloseIdleConnections()
	}
}

// send sends the step's request and judges the response; what the
// response was stays in vu.http for [httpStep.record].
func (n *netSender) send(ctx context.Context, s *httpStep, vu *VU, start time.Time) error {
	st := &vu.http
	timeout, limit, err := s.prepare(vu, &vu.client.cfg)
	if err != nil {
		return err
	}
	if ctx != st.base { // a VU's context is the same from one iteration to the next
		st.base, st.traced = ctx, httptrace.WithClientTrace(ctx, st.trace)
	}
	ctx, cancel := context.WithDeadline(st.traced, start.Add(timeout))
	defer cancel()
	req, err := s.request(ctx, vu)
	if err != nil {
		return err
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return classify(err)
	}
	var data []byte
	over := false
	if s.needBody {
		data, st.recv, over, err = readCapped(resp.Body, limit, resp.ContentLength)
	} else {
		st.recv, err = io.Copy(io.Discard, resp.Body) // io.Discard reads into pooled buffers
	}
	resp.Body.Close()
	st.bodyDone = time.Now()
	st.responded, st.status, st.sent = true, resp.StatusCode, int64(len(st.body))
	if err != nil {
		return classify(err)
	}
	return s.judge(vu, resp.StatusCode, func() http.Header { return resp.Header }, data, over, limit)
}

// pool is the set of connections that requests may share: an
// http.Transport, or several when requests need different settings.
type pool interface {
	http.RoundTripper
	CloseIdleConnections()
}

// newPool returns a new pool made from the transport fields, keeping up
// to idlePerHost idle connections per host.
func (r *clientRun) newPool(idlePerHost int) pool {
	c := &r.cfg
	mk := func(insecure bool) *http.Transport {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 0 // no limit overall
		t.MaxIdleConnsPerHost = idlePerHost
		t.MaxConnsPerHost = 0
		t.IdleConnTimeout = 90 * time.Second
		t.ForceAttemptHTTP2 = false
		t.Proxy = c.Proxy
		t.DisableCompression = c.DisableCompression
		t.TLSClientConfig = &tls.Config{
			RootCAs:            c.RootCAs,
			Certificates:       c.Certificates,
			ServerName:         c.ServerName,
			InsecureSkipVerify: insecure,
		}
		if c.ConnectTimeout > 0 {
			t.TLSHandshakeTimeout = c.ConnectTimeout
		}
		if r.dial != nil {
			t.DialContext = r.dial
		}
		if c.HTTP2 {
			t.Protocols = new(http.Protocols)
			t.Protocols.SetHTTP1(true)
			t.Protocols.SetHTTP2(true)
		}
		return t
	}
	p := &routed{main: mk(false), skip: r.skip}
	if r.skip != nil {
		p.insecure = mk(true)
	}
	if c.H2C {
		p.h2c = mk(false)
		p.h2c.Protocols = new(http.Protocols)
		p.h2c.Protocols.SetUnencryptedHTTP2(true) // and not HTTP1: prior knowledge
	}
	if p.insecure == nil && p.h2c == nil {
		return p.main
	}
	return p
}

// routed is a pool of several transports: a request goes to the one for
// its scheme and host.
type routed struct {
	main     *http.Transport
	insecure *http.Transport // https to a host of skip; nil if none
	h2c      *http.Transport // http with H2C; nil without
	skip     map[string]bool
}

func (p *routed) RoundTrip(req *http.Request) (*http.Response, error) {
	switch {
	case p.h2c != nil && req.URL.Scheme == "http":
		return p.h2c.RoundTrip(req)
	case p.insecure != nil && req.URL.Scheme == "https" && p.skip[strings.ToLower(req.URL.Hostname())]:
		return p.insecure.RoundTrip(req)
	}
	return p.main.RoundTrip(req)
}

func (p *routed) CloseIdleConnections() {
	for _, t := range []*http.Transport{p.main, p.insecure, p.h2c} {
		if t != nil {
			t.CloseIdleConnections()
		}
	}
}

// netForVU returns the http.Client of one VU and, with PoolPerIteration,
// the pool to close at the end of each of its iterations.
func (r *clientRun) netForVU(vu *VU) (*http.Client, pool) {
	var c http.Client
	if r.cfg.HTTPClient != nil {
		c = *r.cfg.HTTPClient
	}
	if c.Jar == nil {
		c.Jar = vu.jar
	}
	if c.CheckRedirect == nil {
		c.CheckRedirect = r.redirect
	}
	c.Transport = r.shared
	if r.shared != nil {
		return &c, nil
	}
	p := r.newPool(2) // a VU sends one request at a time
	r.mu.Lock()
	r.own = append(r.own, p)
	r.mu.Unlock()
	c.Transport = p
	if r.cfg.Connections == PoolPerIteration {
		return &c, p
	}
	return &c, nil
}

// request makes the net/http request of the step, prepared in vu.http.
func (s *httpStep) request(ctx context.Context, vu *VU) (*http.Request, error) {
	st := &vu.http
	var body io.Reader
	if s.body != nil {
		body = bytes.NewReader(st.body)
	}
	req, err := http.NewRequestWithContext(ctx, s.method, string(st.url), body)
	if err != nil {
		return nil, metrics.WithOutcome(err, metrics.Other)
	}
	if err := s.headers(vu, func(k string, v []byte) {
		if k == "Host" {
			req.Host = string(v) // net/http sends req.Host, not a Host header
			return
		}
		if k == "Connection" && wire.HasToken(v, "close") {
			// net/http's transport keeps the connection for the next
			// request unless Request.Close says otherwise, whatever the
			// header says; the server may close it at any moment.
			req.Close = true
		}
		req.Header.Add(k, string(v))
	}); err != nil {
		return nil, err
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = userAgentValue
	}
	return req, nil
}
