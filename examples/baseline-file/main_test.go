package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSaveThenCompare(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	short := []string{"-reps", "4", "-duration", "1s"}
	bench := filepath.Join(dir, "old.txt")
	require.NoError(t, run(t.Context(), append([]string{"-save", dir, "-benchfmt", bench}, short...), &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "saved 4 baseline runs")
	b, err := os.ReadFile(bench)
	require.NoError(t, err)
	assert.Equal(t, 4*3, strings.Count(string(b), "BenchmarkBrowse/"), "4 runs × (2 steps + iterations)")

	out.Reset()
	err = run(t.Context(), append([]string{"-compare", dir, "-slow"}, short...), &out, &errOut)
	require.Error(t, err, out.String())
	assert.Contains(t, err.Error(), "regression(s) beyond the 10% p95 budget")
	assert.Contains(t, out.String(), "REGRESSION browse/list")

	assert.Error(t, run(t.Context(), []string{"-save", dir, "-compare", dir}, &out, &errOut))
	assert.ErrorContains(t, run(t.Context(), append([]string{"-compare", t.TempDir()}, short...), &out, &errOut), "no baseline runs")
}
