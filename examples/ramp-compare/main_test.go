package main

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRampCompare(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-scale", "0.1", "-hold", "2s"}, &out, &errOut), errOut.String())
	t.Log(out.String())
	rows := regexp.MustCompile(`(?m)^\s+(\d+)\s+(\S+)\s+(\S+)\s+([+-]\d+\.\d)%`).FindAllStringSubmatch(out.String(), -1)
	require.Len(t, rows, 3, "one row per level")
	assert.Equal(t, []string{"10", "20", "30"}, []string{rows[0][1], rows[1][1], rows[2][1]})
	dur := func(s string) time.Duration {
		d, err := time.ParseDuration(s)
		require.NoError(t, err, s)
		return d
	}
	// The old endpoint serialises requests on a lock: its p95 grows with
	// the VUs, and at the top level the refactored one is far faster. (At
	// the lowest level the lock is barely contended; the two are close.)
	assert.Greater(t, dur(rows[2][2]), 2*dur(rows[0][2]), "v1's p95 grows with the VUs")
	top, err := strconv.ParseFloat(rows[2][4], 64)
	require.NoError(t, err)
	assert.Less(t, top, -50.0, "the refactored endpoint is faster at the top level")
	assert.Error(t, run(t.Context(), []string{"-hold", "1500ms"}, &out, &errOut))
}
