package stampedews_test

import (
	"crypto/x509"
	"net/http/httptest"
	"strings"
	"testing"

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
	srv := httptest.NewTLSServer(echo)
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
