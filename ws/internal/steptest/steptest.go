// Package steptest has what the tests of the WebSocket and Server-Sent
// Events steps share: a service on an in-memory network, a run, and the
// totals of a series.
package steptest

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/internal/memnet"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// Serve serves h on an in-memory network until the test ends, and returns
// the journey option that reaches it. handlers, if not nil, counts the
// handlers running; the test's end waits for them too, as a server does
// not for the connections its handlers took over.
func Serve(t *testing.T, h http.Handler, handlers *sync.WaitGroup) scenario.Option {
	t.Helper()
	l := memnet.Listen()
	srv := &http.Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
		if handlers != nil {
			handlers.Wait()
		}
	})
	return scenario.WithClient(scenario.Client{Dial: l.Dial})
}

// Run runs the scenarios, failing the test on an error.
func Run(t *testing.T, scs ...loadgen.Scenario) *loadgen.Result {
	t.Helper()
	res, err := loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: scs})
	require.NoError(t, err)
	return res
}

// Stats returns the totals of one series, failing the test without it.
func Stats(t *testing.T, res *loadgen.Result, sc, step string, k metrics.Kind) metrics.Stats {
	t.Helper()
	s := res.Metrics.SeriesOf(metrics.Key{Scenario: sc, Step: step, Kind: k})
	require.NotNil(t, s, "no series %s/%s[%s]", sc, step, k)
	return s.Total
}
