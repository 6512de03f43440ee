package main

import (
	"bytes"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The demo's GET /work holds 1000/s (10 workers of 10 ms); on a fake clock
// with the service in memory its figures are exact.

// TestCeilingByLatency: queueing, every level to 1000/s answers in 10 ms;
// at 1200/s the backlog grows by 200 a second and the p95 passes 50 ms, as
// it does at 1100 and 1050/s: the ceiling is 1000/s, limited by latency.
func TestCeilingByLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.NoError(t, run(t.Context(), []string{"-level", "2s"}, &out, &errOut, true), errOut.String())
		assert.Contains(t, out.String(), "\nceiling: 1000 arrivals/s, limited by latency\n")
		// The measured second counts the requests that end in it, both ends
		// included: 1001 at 1000/s.
		assert.Contains(t, out.String(), "       1000      1000/s        0 (0%)  10.0ms  10.0ms  10.0ms      0%  pass\n")
		assert.Contains(t, errOut.String(), " 1050/s: ")
	})
}

// TestCeilingByErrors: shedding, the levels above 1000/s fail by errors.
func TestCeilingByErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.NoError(t, run(t.Context(), []string{"-level", "2s", "-shed", "-start", "300", "-step", "300", "-resolution", "100"}, &out, &errOut, true), errOut.String())
		assert.Contains(t, out.String(), "\nceiling: 975 arrivals/s, limited by errors\n")
	})
}

// TestCeilingByGenerator: 5 VUs for 10 ms requests hold 500/s: at 600/s
// arrivals are dropped while the service answers in 10 ms.
func TestCeilingByGenerator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.NoError(t, run(t.Context(), []string{"-level", "2s", "-max-vus", "5", "-start", "300", "-step", "300", "-resolution", "0"}, &out, &errOut, true), errOut.String())
		assert.Contains(t, out.String(), "\nceiling: 300 arrivals/s, limited by generator\n")
		assert.Contains(t, out.String(), "the generator, not the service")
	})
}
