package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRampCompare runs both endpoints at 10, 20 and 30 VUs, five runs a
// level, on a fake clock with the demo service in memory, so every run of
// a level is the same (the think times come from each VU's seeded source)
// and the five tied runs a side give p = 2/C(10,5) = 0.008, 0.040 once
// Holm-adjusted over a level's five metrics (four runs, p = 0.029, could
// not be significant in a family of five). The old
// endpoint serialises requests on its lock, 3 ms each, so its tail grows
// with the users; the new one takes its 2 ms whatever the load. The
// figures are the request's own: the 0.25–0.75 s of thinking would have
// hidden the change (the rate, set by the thinking, does not change).
func TestRampCompare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		js := filepath.Join(t.TempDir(), "steps.json")
		require.NoError(t, run(t.Context(), []string{"-scale", "0.1", "-runs", "5", "-level", "3s", "-markdown", "-json", js}, &out, &errOut, true), errOut.String())
		for _, want := range []string{
			"| 10 | p50 | 3.00ms | 2.00ms | −33.3% | −33.3% [−33.3%, −33.3%] | 0.008 | 0.040 | 5+5 | better | pass | pass |\n",
			"|  | p95 | 4.69ms | 2.00ms | −57.3% | −57.3% [−57.3%, −57.3%] | 0.008 | 0.040 | 5+5 | better |  |  |\n",
			"|  | p95 | 5.48ms | 2.00ms | −63.5% | −63.5% [−63.5%, −63.5%] | 0.008 | 0.040 | 5+5 | better |  |  |\n",
			"|  | rate | 60.5/s | 60.5/s | +0.0% | +0.0% [+0.0%, +0.0%] | 1.000 | 1.000 | 5+5 | ~ |  |  |\n",
			"figures of every step, merged",
		} {
			assert.Contains(t, out.String(), want)
		}
		b, err := os.ReadFile(js)
		require.NoError(t, err)
		var doc struct {
			Rows   string
			Levels []struct{ Load int }
		}
		require.NoError(t, json.Unmarshal(b, &doc))
		assert.Equal(t, "[step]", doc.Rows)
		assert.Len(t, doc.Levels, 3)

		out.Reset()
		require.NoError(t, run(t.Context(), []string{"-scale", "0.1", "-runs", "1", "-level", "2s"}, &out, &errOut, true), errOut.String())
		assert.Contains(t, out.String(), "/v1/report:\n")
		assert.Contains(t, out.String(), "inconclusive", "one run a side: no test")
	})
}

func TestRampCompareRefusesBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.EqualError(t, run(t.Context(), []string{"-runs", "0"}, &out, &errOut, true),
		"-scale must be > 0 and -runs >= 1, got 1 and 0")
}
