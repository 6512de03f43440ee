package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstart runs the quickstart on a fake clock with the demo service
// in memory. The service's costs are then its sleeps, exactly: every
// request takes 1 ms (4 VUs never queue for its 8 database connections),
// and think times come from each VU's seeded source, so the counts and
// every latency below are exact.
func TestQuickstart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		html, js := filepath.Join(t.TempDir(), "report.html"), filepath.Join(t.TempDir(), "summary.json")
		var out, errOut bytes.Buffer
		require.Equal(t, 0, run(t.Context(), []string{"-duration", "4s", "-vus", "4", "-html", html, "-json", js}, &out, &errOut, true), errOut.String())
		s := out.String()
		for _, want := range []string{
			"duration: 4.49s", // 4 s and the last iteration's ramp-down grace
			// Rates are over the planned load after the warm-up, 1 s to 4 s
			// (18, 18, 18 and 19 of the counts ended in it); the counts
			// include the requests of the graceful ramp-down.
			"measured: 3.49s; rates over 3.00s, the planned load",
			"iterations: 21 started = 21 completed + 0 failed + 0 interrupted",
			"  list             18  6.0/s       0  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms\n",
			"  detail           19  6.0/s       0  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms\n",
			"  apply            20  6.0/s       0  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms\n",
			"  detail-again     21  6.3/s       0  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms  1.00ms\n",
			"  list          ttfb     1.00ms  1.00ms  1.00ms  1.00ms\n",
			"  list          connect       0       0       0       0\n", // reused connections
			"  apply: p95<500ms  1.00ms  pass\n",
			"  error_rate<1%         0%  pass\n",
			"HTML report: " + html,
			"JSON summary: " + js,
		} {
			assert.Contains(t, s, want)
		}
		assert.True(t, strings.HasSuffix(strings.TrimSpace(errOut.String()), "| done"), "the progress line ends: %q", errOut.String())
		page, err := os.ReadFile(html)
		require.NoError(t, err)
		assert.Contains(t, string(page), `data-chart="latency-0"`)
		b, err := os.ReadFile(js)
		require.NoError(t, err)
		var doc struct {
			Passed    bool
			Scenarios []struct {
				Rows []struct {
					Name    string
					Count   int64
					Latency struct {
						P95 float64 `json:"p95_ms"`
					}
				}
			}
		}
		require.NoError(t, json.Unmarshal(b, &doc))
		assert.True(t, doc.Passed)
		apply := doc.Scenarios[0].Rows[2]
		assert.Equal(t, "apply", apply.Name)
		assert.Equal(t, int64(20), apply.Count)
		assert.Equal(t, 1.0, apply.Latency.P95)
	})
}

// TestQuickstartFlags: bad values exit 2 with the reason, -h exits 0.
func TestQuickstartFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(t.Context(), []string{"-vus", "0"}, &out, &errOut, true))
	assert.Contains(t, errOut.String(), "-vus must be >= 1, got 0")
	errOut.Reset()
	assert.Equal(t, 2, run(t.Context(), []string{"-duration", "500ms"}, &out, &errOut, true))
	assert.Contains(t, errOut.String(), "-duration must be >= 1s, got 500ms")
	out.Reset()
	assert.Equal(t, 0, run(t.Context(), []string{"-h"}, &out, &errOut, true))
	assert.Contains(t, out.String(), "usage: quickstart [flags]")
}
