package main

import (
	"bytes"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestExample runs the example on a fake clock with the service in
// memory: its costs are then its sleeps, exactly, so every latency below is
// the service's: an order 2 ms, a delivery's updates 20 ms apart, a chat's
// answers 5 ms each.
func TestExample(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.Equal(t, 0, run(t.Context(), []string{"-duration", "4s", "-vus", "4"}, &out, &errOut, true), errOut.String())
		s := out.String()
		for _, re := range []string{
			`\n  place\s+\d+\s+\S+/s\s+\d+ \(\S+%\)\s+2\.00ms\s+2\.00ms\s+2\.00ms`,
			`\n  track\s+\d+\s+\S+/s\s+0\s+100ms\s+100ms`,
			`\n  track\[grpc_first_msg\]\s+\d+\s+\S+/s\s+0\s+20\.0ms\s+20\.0ms`,
			`\n  track\[grpc_msg\]\s+\d+\s+\S+/s\s+0\s+20\.0ms\s+20\.0ms\s+20\.0ms\s+20\.0ms\s+20\.0ms\s+20\.0ms\s+20\.0ms\s+20\.0ms\n`,
			`\n  chat\[grpc_msg\]\s+\d+\s+\S+/s\s+0\s+5\.00ms\s+5\.00ms`,
			`\n  chat\s+\d+\s+\S+/s\s+0\s+15\.0ms`,
			`\n  place\[grpc\]\s+OK\s+\d+\n`,
			`\n  place\[grpc\]\s+UNAVAILABLE\s+\d+\n`,
			`\n  place\s+refused\s+\d+\n`,
			`track\[grpc_msg\]: p99<25ms\s+20\.0ms\s+pass`,
			`place\[grpc\]: status\(INTERNAL\)<=0\s+0\s+pass`,
		} {
			assert.Regexp(t, re, s)
		}
	})
}
