package main

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestOpenModelShowsTheStall(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-duration", "4s", "-stall", "1s"}, &out, &errOut), errOut.String())
	t.Log(out.String())
	m := regexp.MustCompile(`closed-model p99 (\S+) vs open-model p99 (\S+):`).FindStringSubmatch(out.String())
	require.NotNil(t, m)
	parse := func(s string) time.Duration {
		d, err := time.ParseDuration(s)
		require.NoError(t, err, s)
		return d
	}
	closed, open := parse(m[1]), parse(m[2])
	// 1 s of 4 s stalled: a quarter of the open model's arrivals waited up
	// to a second, so its p99 is near the full second.
	assert.Greater(t, open, 500*time.Millisecond)
	assert.Less(t, closed, open/5, "the closed model hides the stall")
}
