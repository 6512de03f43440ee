package main

import (
	"bytes"
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

// TestSaveThenCompare saves a baseline, then compares the same service and
// a regressed one with it, on a fake clock with the demo service in memory.
// Every run is then identical: 8 VUs, one request to list and one to the
// detail page (1 ms each, or 20 ms each without the index) every 20 ms
// (without the index, every 40 ms), for 1 s. The per-run values tie within
// each side, so the Mann-Whitney p-value of a change is 2/C(8,4) = 0.029
// for 4+4 runs every time, and 1 for no change: the verdicts cannot flake.
func TestSaveThenCompare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		var out, errOut bytes.Buffer
		short := []string{"-reps", "4", "-duration", "1s"}
		bench := filepath.Join(dir, "old.txt")
		require.NoError(t, run(t.Context(), append([]string{"-save", dir, "-benchfmt", bench}, short...), &out, &errOut, true), errOut.String())
		assert.Equal(t, "saved 4 baseline runs in "+dir+"\n", out.String())
		b, err := os.ReadFile(bench)
		require.NoError(t, err)
		assert.Equal(t, 4, strings.Count(string(b), "BenchmarkBrowse/scenario=browse/step=list 400 1000000 p50-ns 1000000 p90-ns 1000000 p95-ns 1000000 p99-ns 1000000 mean-ns 1000000 max-ns 400 ops/s 0 errors 0 error_rate\n"),
			"4 runs of 400 requests of 1 ms to list")

		out.Reset()
		require.NoError(t, run(t.Context(), append([]string{"-compare", dir}, short...), &out, &errOut, true))
		assert.Contains(t, out.String(), "  browse/list          p50           1.00ms     1.00ms            +0.0%  +0.0% [+0.0%, +0.0%]           1.000  4+4  ~\n")
		assert.Contains(t, out.String(), "no p95 regression beyond 10%\n")

		out.Reset()
		err = run(t.Context(), append([]string{"-compare", dir, "-slow"}, short...), &out, &errOut, true)
		assert.EqualError(t, err, "3 regression(s) beyond the 10% p95 budget")
		for _, want := range []string{
			"  browse/list          p50           1.00ms     20.0ms         +1900.0%  +1900.0% [+1900.0%, +1900.0%]  0.029  4+4  worse\n",
			"                       rate           400/s      200/s           −50.0%  −50.0% [−50.0%, −50.0%]        0.029  4+4  worse\n",
			"REGRESSION browse/list: p95 worse: estimate +1900.0%, 95% interval [+1900.0%, +1900.0%], beyond the budget of +10.0% (p=0.029)\n",
			"REGRESSION browse/detail: p95 worse: estimate +1900.0%, 95% interval [+1900.0%, +1900.0%], beyond the budget of +10.0% (p=0.029)\n",
			"REGRESSION browse (iterations): p95 worse: estimate +100.0%, 95% interval [+100.0%, +100.0%], beyond the budget of +10.0% (p=0.029)\n",
		} {
			assert.Contains(t, out.String(), want)
		}
	})
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	assert.EqualError(t, run(t.Context(), []string{"-save", dir, "-compare", dir}, &out, &errOut, true), "give exactly one of -save DIR or -compare DIR")
	empty := t.TempDir()
	assert.EqualError(t, run(t.Context(), []string{"-compare", empty, "-reps", "1", "-duration", "10ms"}, &out, &errOut, true), "no baseline runs (run-*.json) in "+empty)
}
