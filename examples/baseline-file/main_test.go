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
// (without the index, every 40 ms), for 1 s, VU k beginning at k × 12.5 ms
// (the VUs are staggered over a tenth of the run): 50 + 50 + 49 + 49 + 48
// + 47 + 47 + 46 = 386 requests to list, all ending within the load's 1 s
// (191 without the index: 25 + 25 + 24 + 24 + 24 + 23 + 23 + 23, a list
// request ending 20 ms after its iteration begins). The per-run values tie within
// each side, so the Mann-Whitney p-value of a change is 2/C(8,4) = 0.029
// for 4+4 runs every time, and 1 for no change: the verdicts cannot flake.
// No p-value of 4+4 runs can be significant in the gate's family of three
// (p95 on each row; Holm holds the smallest to 0.05/3), so the gate holds
// the merged change to the budget instead and says how many runs would
// give significance.
func TestSaveThenCompare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		var out, errOut bytes.Buffer
		short := []string{"-runs", "4", "-duration", "1s", "-quiet"}
		bench := filepath.Join(dir, "old.txt")
		require.Equal(t, 0, run(t.Context(), append([]string{"-save-baseline", dir, "-benchfmt", bench}, short...), &out, &errOut, true), errOut.String())
		assert.Contains(t, out.String(), "saved 4 run(s) as the baseline in "+dir+"\n")
		b, err := os.ReadFile(bench)
		require.NoError(t, err)
		assert.Equal(t, 4, strings.Count(string(b), "BenchmarkBrowse/scenario=browse/step=list 386 1e+06 p50-ns 1e+06 p90-ns 1e+06 p95-ns 1e+06 p99-ns 1e+06 mean-ns 1e+06 max-ns 386 ops/s 0 errors 0 error_rate\n"),
			"4 runs of 386 requests of 1 ms to list")

		out.Reset()
		require.Equal(t, 0, run(t.Context(), append([]string{"-baseline", dir}, short...), &out, &errOut, true), errOut.String())
		assert.Contains(t, out.String(), "  browse/list          p50           1.00ms     1.00ms            +0.0%  +0.0% [+0.0%, +0.0%]           1.000   1.000  4+4  inconclusive\n")
		assert.Contains(t, out.String(), "no regression beyond the budgets\n")

		out.Reset()
		assert.Equal(t, 1, run(t.Context(), append([]string{"-baseline", dir, "-slow"}, short...), &out, &errOut, true), "a regression exits 1")
		for _, want := range []string{
			"                       p95           1.00ms     20.0ms         +1900.0%  +1900.0% [+1900.0%, +1900.0%]  0.029   0.086  4+4  inconclusive\n",
			"                       rate           386/s      191/s           −50.5%  −50.5% [−50.5%, −50.5%]        0.029   0.600  4+4  inconclusive\n",
			"REGRESSION browse/list: p95 worse: change of the merged values +1900.0%, beyond the budget of +10.0% (no significance: 4+4 runs cannot be significant in a family of 3 gated tests under holm; 5 per side can)\n",
			"REGRESSION browse/detail: p95 worse: change of the merged values +1900.0%, beyond the budget of +10.0% (no significance: 4+4 runs cannot be significant in a family of 3 gated tests under holm; 5 per side can)\n",
			"REGRESSION browse (iterations): p95 worse: change of the merged values +100.0%, beyond the budget of +10.0% (no significance: 4+4 runs cannot be significant in a family of 3 gated tests under holm; 5 per side can)\n",
		} {
			assert.Contains(t, out.String(), want)
		}

		// Until decided: runs are added one at a time, looking from the 7th
		// to the 20th, each look at 0.05/14 (Holm over the three gated
		// tests: 0.0012). Against the 4 runs of the baseline, the smallest
		// p-value of 4+n runs, 2/C(4+n, 4), first beats it at n = 12.
		out.Reset()
		assert.Equal(t, 1, run(t.Context(), []string{"-baseline", dir, "-slow", "-until-decided", "20", "-duration", "1s", "-quiet"}, &out, &errOut, true))
		for _, want := range []string{
			"run 12/20: completed, thresholds pass\ndecided against the baseline after 12 run(s)\n",
			"REGRESSION browse/list: p95 worse: estimate +1900.0%, 99.9% interval [+1900.0%, +1900.0%], beyond the budget of +10.0% (p=0.001, holm-adjusted 0.003 over 3 gated tests)\n",
			"significant: p adj. < 0.00357, 0.05 spread over the looks of a run until decided",
		} {
			assert.Contains(t, out.String(), want)
		}
		assert.NotContains(t, out.String(), "run 13/20")
	})
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(t.Context(), []string{"-save-baseline", dir, "-baseline", dir}, &out, &errOut, true))
	assert.Contains(t, errOut.String(), "give -save-baseline or -baseline, not both")
	empty := t.TempDir()
	errOut.Reset()
	synctest.Test(t, func(t *testing.T) {
		assert.Equal(t, 2, run(t.Context(), []string{"-baseline", empty, "-runs", "1", "-duration", "10ms", "-quiet"}, &out, &errOut, true))
	})
	assert.Contains(t, errOut.String(), "no baseline runs (run-*.json) in "+empty)
}
