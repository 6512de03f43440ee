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

// TestExample runs the example on a fake clock with the chat in memory:
// the service then takes no time, so every message reaches its readers
// the instant the service took it in, and the posters' round trips are 0.
func TestExample(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errOut bytes.Buffer
		require.Equal(t, 0, run(t.Context(), []string{"-duration", "3s", "-vus", "40"}, &out, &errOut, true), errOut.String())
		s := out.String()
		for _, re := range []string{
			// 2 rooms of 19 readers and a poster, who posts every 100 ms
			// from 0.1 s to 2.9 s: 28 messages a room, each to its 20
			// members.
			`\n  join\s+38\s+`,
			`\n  listen\[ws_recv\]\s+1064\s+355/s`,
			`\n  listen\[ws_delay\]\s+1064\s+355/s\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s+0\n`,
			`\n  post\[ws_sent\]\s+56\s+18\.\d/s`,
			`\n  post\[ws_rtt\]\s+56\s+18\.\d/s\s+0\s+0\s+0`,
			`\n  leave\[ws\]\s+NORMAL_CLOSURE\s+38\n`,
			`\n  readers\.ws_connections\s+\d+\s+\S+\s+38\s+3\n`, // all held at 1 s and 2 s
			`listen\[ws_delay\]: p99<50ms\s+0\s+pass`,
			`post\[ws_rtt\]: p99<50ms\s+0\s+pass`,
		} {
			assert.Regexp(t, re, s)
		}
	})
}
