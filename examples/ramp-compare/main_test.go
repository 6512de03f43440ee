package main

import (
	"bytes"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRampCompare(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-scale", "0.1", "-hold", "2s"}, &out, &errOut), errOut.String())
	t.Log(out.String())
	rows := regexp.MustCompile(`(?m)^\s+(\d+)\s+\S+\s+\S+\s+([+-]\d+\.\d)%`).FindAllStringSubmatch(out.String(), -1)
	require.Len(t, rows, 3, "one row per level")
	assert.Equal(t, []string{"10", "20", "30"}, []string{rows[0][1], rows[1][1], rows[2][1]})
	for _, r := range rows {
		change, err := strconv.ParseFloat(r[2], 64)
		require.NoError(t, err)
		assert.Less(t, change, -30.0, "the refactored endpoint is faster at %s VUs", r[1])
	}
	assert.Error(t, run(t.Context(), []string{"-hold", "1500ms"}, &out, &errOut))
}
