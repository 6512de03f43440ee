package demo

import (
	"io"
	"net/http"
	"strings"
	"testing"
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

func TestService(t *testing.T) {
	s, err := Start(Options{Rows: 50_000, NoIndex: true})
	require.NoError(t, err)
	defer s.Close()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	assert.True(t, strings.HasPrefix(s.URL, "http://127.0.0.1:"))

	code, body, slow := get(t, c, s.URL+"/meetings")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `"id":"1"`)
	assert.GreaterOrEqual(t, slow, 50*time.Millisecond, "a scan of 50 000 rows at 1 µs a row")
	s.SetIndex(true)
	_, _, fast := get(t, c, s.URL+"/meetings")
	assert.Less(t, fast, slow)

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

	s.Stall(100 * time.Millisecond)
	_, _, stalled := get(t, c, s.URL+"/v2/report")
	assert.GreaterOrEqual(t, stalled, 90*time.Millisecond)

	s.FailOver(time.Second, true)
	codes := map[int]int{}
	for range 4 {
		code, _, _ := get(t, c, s.URL+"/v2/report")
		codes[code]++
	}
	assert.Equal(t, map[int]int{200: 3, 503: 1}, codes, "a botched failover fails every fourth request")

	_, err = Start(Options{Rows: -1})
	assert.ErrorContains(t, err, "must be >= 0")
}
