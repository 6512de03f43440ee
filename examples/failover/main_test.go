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

func TestBotchedFailoverShowsErrorsAndSpike(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-duration", "6s", "-rate", "50", "-spike", "2s", "-botched"}, &out, &errOut), errOut.String())
	s := out.String()
	t.Log(s)
	// The event is due at 3 s; the printed time is when it really ran.
	at := regexp.MustCompile(`event "fail over cache primary" at (\S+)\n`).FindStringSubmatch(s)
	require.NotNil(t, at)
	ran, err := time.ParseDuration(at[1])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, ran, 3*time.Second)
	assert.Less(t, ran, 3500*time.Millisecond)
	failed := regexp.MustCompile(`failed: (\d+)`).FindStringSubmatch(s)
	require.NotNil(t, failed)
	n, _ := strconv.Atoi(failed[1])
	assert.Positive(t, n, "a botched failover fails requests")
	assert.Contains(t, s, "http_5xx")
	peak := regexp.MustCompile(`spike: p99 peaked at (\S+) `).FindStringSubmatch(s)
	require.NotNil(t, peak, "a spike is reported")
	d, err := time.ParseDuration(peak[1])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, d, 150*time.Millisecond, "the replica's 150 ms shows in the spike")
}

func TestCleanFailoverHasNoErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-duration", "4s", "-rate", "50", "-spike", "1s"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "failed: 0 (0%)")
	assert.Contains(t, out.String(), "spike:")
}
