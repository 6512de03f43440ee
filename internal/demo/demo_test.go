package demo

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, c *http.Client, url string) (int, string, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

// TestService serves the demo in memory on a fake clock: every latency is
// exactly the simulated cost.
func TestService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := Start(Options{Rows: 50_000, NoIndex: true, InMemory: true})
		require.NoError(t, err)
		defer s.Close()
		c := &http.Client{Transport: &http.Transport{DialContext: s.Dial}}
		defer c.CloseIdleConnections()
		assert.Equal(t, "http://demo.internal", s.URL)

		code, body, slow := get(t, c, s.URL+"/meetings")
		assert.Equal(t, 200, code)
		assert.Contains(t, body, `"id":"1"`)
		assert.Equal(t, 50*time.Millisecond, slow, "a scan of 50 000 rows at 1 µs a row")
		s.SetIndex(true)
		_, _, fast := get(t, c, s.URL+"/meetings")
		assert.Equal(t, time.Millisecond, fast, "an indexed query")

		code, body, _ = get(t, c, s.URL+"/meetings/7")
		assert.Equal(t, 200, code)
		assert.Contains(t, body, "Meetup #7")
		code, _, _ = get(t, c, s.URL+"/meetings/0")
		assert.Equal(t, 404, code)

		resp, err := c.Post(s.URL+"/meetings/7/apply", "application/json", strings.NewReader(`{"name":"ann"}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 201, resp.StatusCode)
		assert.Equal(t, int64(1), s.Signups())
		resp, err = c.Post(s.URL+"/meetings/7/apply", "application/json", strings.NewReader(`{}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 400, resp.StatusCode)

		_, _, v1 := get(t, c, s.URL+"/v1/report")
		_, _, v2 := get(t, c, s.URL+"/v2/report")
		assert.Equal(t, 3*time.Millisecond, v1)
		assert.Equal(t, 2*time.Millisecond, v2)

		s.Stall(100 * time.Millisecond)
		_, _, stalled := get(t, c, s.URL+"/v2/report")
		assert.Equal(t, 102*time.Millisecond, stalled, "the stall, then the work")

		s.FailOver(time.Second, true)
		codes := map[int]int{}
		var took []time.Duration
		for range 4 {
			code, _, d := get(t, c, s.URL+"/v2/report")
			codes[code]++
			took = append(took, d)
		}
		assert.Equal(t, map[int]int{200: 3, 503: 1}, codes, "a botched failover fails every fourth request")
		assert.Equal(t, []time.Duration{152 * time.Millisecond, 152 * time.Millisecond, 152 * time.Millisecond, 0}, took,
			"cache misses take 150 ms more; the failures are immediate")
	})
}

// TestServiceOnLoopback: the same service on a real loopback port.
func TestServiceOnLoopback(t *testing.T) {
	s, err := Start(Options{})
	require.NoError(t, err)
	defer s.Close()
	assert.True(t, strings.HasPrefix(s.URL, "http://127.0.0.1:"))
	assert.Nil(t, s.Dial)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	code, body, _ := get(t, c, s.URL+"/meetings/3")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, "Meetup #3")

	_, err = Start(Options{Rows: -1})
	assert.ErrorContains(t, err, "must be >= 0")
}
