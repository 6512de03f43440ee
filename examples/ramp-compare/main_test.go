package main

import (
	"bytes"
	"regexp"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRampCompare runs both endpoints through 10, 20 and 30 VUs on a fake
// clock with the demo service in memory, so the latencies are exact. Each
// VU asks once every 100 ms, and all of them ask at the same instants: the
// old endpoint serialises them on its lock, 3 ms each, so N requests take
// 3, 6 … 3N ms, and their p95 is 3 ms × ⌈0.95 N⌉ (30, 57, 87 ms). The new
// one takes its 2 ms whatever the load. The heap columns vary from run to
// run and are not checked.
func TestRampCompare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.NoError(t, run(t.Context(), []string{"-scale", "0.1", "-hold", "2s"}, &out, &errOut, true), errOut.String())
		rows := regexp.MustCompile(`(?m)^\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s`).FindAllStringSubmatch(out.String(), -1)
		var got [][]string
		for _, r := range rows {
			got = append(got, r[1:])
		}
		assert.Equal(t, [][]string{
			{"10", "30.0ms", "2.00ms", "-93.3%"},
			{"20", "57.0ms", "2.00ms", "-96.5%"},
			{"30", "87.0ms", "2.00ms", "-97.7%"},
		}, got, out.String())
	})
}

func TestRampCompareRefusesBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.EqualError(t, run(t.Context(), []string{"-hold", "1500ms"}, &out, &errOut, true),
		"-hold must be a whole number of seconds >= 1s and -scale > 0, got 1.5s and 1")
}
