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

// TestBotchedFailoverShowsErrorsAndSpike runs on a fake clock with the demo
// service in memory, so every figure is exact: 6.01 s at 50/s is 301
// arrivals (0, 20 ms … 6.00 s). The failover runs at 3.005 s, half-way,
// between two arrivals; the replica stays cold until 5.005 s, so the 100
// arrivals from 3.02 s to 5.00 s miss the cache: every fourth fails (25),
// the others take 150 ms more than the 1 ms query (151 ms). The intervals
// from 3 s to 6 s hold those slow requests, and the timeline shows where
// the failures fell: a request counts in the interval it ended in, so the
// slow ones that began from 3.85 s on end in the next second (45 requests
// from 3 s, 56 from 5 s), and the 25 failures are every fourth arrival
// from 3.02 s to 5.00 s.
func TestBotchedFailoverShowsErrorsAndSpike(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.NoError(t, run(t.Context(), []string{"-duration", "6010ms", "-rate", "50", "-spike", "2s", "-botched", "-timeline"}, &out, &errOut, true), errOut.String())
		assert.Equal(t, `event "fail over cache primary" at 3.00s
requests: 301, failed: 25 (8.31%)
  http_5xx: 25
p99 before the event: 1.00ms (median of the per-second p99s)
spike: p99 peaked at 151ms in the second from 3.00s; above 3× normal from 3.00s to 6.00s (3.00s)

scenario read — constant-rate: 50 per 1s for 6.01s (even, VUs 20..2000) (requests are its steps)
     from     to  requests  errors  by class        p50     p95  VUs  dropped
       0s  1.00s        50       0               1.00ms  1.00ms   20        0
    1.00s  2.00s        50       0               1.00ms  1.00ms   20        0
    2.00s  3.00s        50       0               1.00ms  1.00ms   20        0
    3.00s  4.00s        45      12  http_5xx 12   151ms   151ms   20        0
    4.00s  5.00s        49      12  http_5xx 12   151ms   151ms   20        0
    5.00s  6.00s        56       1  http_5xx 1   1.00ms   151ms   20        0
    6.00s  6.01s         1       0               1.00ms  1.00ms    0        0
`, out.String())
	})
}

// TestCleanFailoverHasNoErrors: the same with a failover that goes well
// (4.01 s: 201 arrivals; event at 2.005 s, cold for 1 s: the slow
// arrivals run from 2.02 s to 3.00 s, in the intervals from 2 s to 4 s).
func TestCleanFailoverHasNoErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.NoError(t, run(t.Context(), []string{"-duration", "4010ms", "-rate", "50", "-spike", "1s"}, &out, &errOut, true), errOut.String())
		assert.Equal(t, `event "fail over cache primary" at 2.00s
requests: 201, failed: 0 (0%)
p99 before the event: 1.00ms (median of the per-second p99s)
spike: p99 peaked at 151ms in the second from 2.00s; above 3× normal from 2.00s to 4.00s (2.00s)
`, out.String())
	})
}
