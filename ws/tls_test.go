package stampedews_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
	stampedews "github.com/stampede-go/stampede/ws"
)

// TestTLSFromTheJourneysClient: a wss handshake is checked against the
// journey's scenario.Client RootCAs, as an https step is; without them
// the service's certificate is refused.
func TestTLSFromTheJourneysClient(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(context.Background())
			if err != nil || c.Write(context.Background(), typ, msg) != nil {
				return
			}
		}
	}))
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c := &stampedews.Client{URL: "wss://" + strings.TrimPrefix(srv.URL, "https://") + "/", ID: stampedews.JSONField("id")}
	parts := scenario.Parts{
		stampedews.Connect("join", c),
		stampedews.RoundTrip("ping", c, `{"id":"{{vu.iteration}}"}`),
		stampedews.Close("leave", c),
	}
	trusted := scenario.Must("trusted", parts, scenario.WithClient(scenario.Client{RootCAs: roots}))
	untrusted := scenario.Must("untrusted", parts)
	res := run(t, trusted.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 3}),
		untrusted.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
	assert.Equal(t, int64(6), stats(t, res, "trusted", "ping", metrics.KindStep).Outcomes[metrics.OK])
	assert.Equal(t, int64(6), stats(t, res, "trusted", "leave", metrics.KindStep).Outcomes[metrics.OK])
	assert.Equal(t, int64(1), stats(t, res, "untrusted", "join", metrics.KindStep).Errors())
	found := false
	for _, e := range res.Errors {
		found = found || strings.Contains(e.Message, "certificate")
	}
	assert.True(t, found, "%v", res.Errors)
}
