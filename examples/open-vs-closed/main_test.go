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

// TestOpenModelShowsTheStall runs both models on a fake clock with the
// demo service in memory, so the figures are exact. A request takes 2 ms;
// the stall begins at 2.0005 s (half of 4.001 s) and holds every request
// that starts within it until 3.0005 s.
//
// Closed: each of 10 VUs sends 1002 requests up to 2.002 s, waits out the
// stall with one request (1.0005 s), then sends 499 more before 4.001 s:
// 15 020 requests, less the 20·k that VU k does not send for beginning
// k × 40 ms late (the VUs are staggered over a tenth of the run), 14 120
// in all, of which 10 saw the stall, fewer than 1 %: p99 is 2 ms.
// Open: 2001 arrivals every 2 ms; the 500 due during the stall all finish
// at 3.0025 s, so a quarter of the requests waited up to a second.
func TestOpenModelShowsTheStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.NoError(t, run(t.Context(), []string{"-duration", "4001ms", "-stall", "1s"}, &out, &errOut, true), errOut.String())
		assert.Equal(t, `the service stalled for 1s in the middle of each 4.001s run

  model    requests       p50       p99     p99.9       max
  closed      14120    2.00ms    2.00ms    2.00ms     1.00s
  open         2001    2.00ms     961ms     997ms     1.00s

closed-model p99 2.00ms vs open-model p99 961ms: the closed model waited out the stall with 10 requests in flight and timed only those; the open model timed every request from when it was due.
`, out.String())
	})
}
