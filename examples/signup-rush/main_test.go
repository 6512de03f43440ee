package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSignupRushCandidateIsBetter runs seven baseline and seven candidate
// runs on a fake clock with the demo service in memory. Nothing is noisy
// there: with 8 VUs and 8 database connections no query waits, so a
// baseline step takes exactly 50 ms (a scan of 50 000 rows at 1 µs) and a
// candidate step 1 ms, in every run. The per-run values tie within each
// side and differ between them, so the Mann-Whitney p-value is its
// smallest for 7+7 runs, 2/C(14,7) = 0.00058, every time, and Holm over
// the table's 40 tests makes it 0.023: the verdict cannot flake. (With
// 4+4 runs, 0.029 alone, no test of 40 could be significant.)
func TestSignupRushCandidateIsBetter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		html := filepath.Join(t.TempDir(), "c.html")
		require.NoError(t, run(t.Context(), []string{"-duration", "1s", "-vus", "8", "-reps", "7", "-rows", "50000", "-html", html}, &out, &errOut, true), errOut.String())
		assert.Contains(t, out.String(), `headlines:
  signup/list            p50 50.0ms → 1.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
  signup/list            p95 50.0ms → 1.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
  signup/detail          p50 50.0ms → 1.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
  signup/detail          p95 50.0ms → 1.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
  signup/apply           p50 50.0ms → 1.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
  signup/apply           p95 50.0ms → 1.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
  signup/detail-again    p50 50.0ms → 1.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
  signup/detail-again    p95 50.0ms → 1.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
  signup (iterations)    p50 200ms → 4.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
  signup (iterations)    p95 200ms → 4.00ms: change −98.0%, estimate −98.0% [−98.0%, −98.0%] (p=0.001 adjusted 0.023 n=7+7) better
`)
		page, err := os.ReadFile(html)
		require.NoError(t, err)
		assert.Contains(t, string(page), "<svg")
	})
}
