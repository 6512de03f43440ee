package stampedesse_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
	"github.com/stampede-go/stampede/ws/internal/steptest"
	stampedesse "github.com/stampede-go/stampede/ws/sse"
)

// scores is an event stream for the tests: on /scores it sends n events,
// every interval, each stamped as sent lag before it was, then ends the
// stream (with a retry time, when set); a reconnection with Last-Event-ID
// goes on after that event. /gone answers 204, /busy 503, /html a page,
// /silent nothing, /mark an event with an id and no data. It keeps the
// Last-Event-ID of each request.
type scores struct {
	n        int
	interval time.Duration
	lag      time.Duration
	retry    time.Duration

	mu      sync.Mutex
	lastIDs []string
}

func (s *scores) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/gone":
		w.WriteHeader(http.StatusNoContent)
		return
	case "/busy":
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	case "/html":
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>no</p>")
		return
	}
	s.mu.Lock()
	s.lastIDs = append(s.lastIDs, r.Header.Get("Last-Event-ID"))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	if r.URL.Path == "/silent" {
		<-r.Context().Done()
		return
	}
	if r.URL.Path == "/mark" { // an event with an id and no data, then the stream's end
		fmt.Fprint(w, "retry: 10\n\nid: 42\n\n")
		return
	}
	from := 0
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		from, _ = strconv.Atoi(id)
	}
	if s.retry > 0 {
		fmt.Fprintf(w, "retry: %d\n\n", s.retry.Milliseconds())
	}
	for i := from + 1; i <= from+s.n; i++ {
		select {
		case <-time.After(s.interval):
		case <-r.Context().Done():
			return
		}
		ts := float64(time.Now().Add(-s.lag).UnixMicro()) / 1000
		fmt.Fprintf(w, "event: goal\nid: %d\ndata: {\"n\":%d,\"ts\":%v}\n\n", i, i, ts)
		w.(http.Flusher).Flush()
	}
}

var (
	run   = steptest.Run
	stats = steptest.Stats
)

func serve(t *testing.T, h http.Handler) scenario.Option { return steptest.Serve(t, h, nil) }

// TestSubscribe: events 100 ms apart, each sent 20 ms before the service
// stamped it: the first arrives at 100 ms, the others 100 ms apart, each
// 20 ms late; when the stream ends the step reconnects after the stream's
// retry time, from the last event id, and reads on.
func TestSubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scores{n: 3, interval: 100 * time.Millisecond, lag: 20 * time.Millisecond, retry: 200 * time.Millisecond}
		j := scenario.Must("live", scenario.Parts{
			stampedesse.Subscribe("watch", "http://scores.test/scores", time.Second,
				stampedesse.Timestamp(stampedesse.JSONTime("ts")),
				stampedesse.Header("X-Fan", "fan-{{vu.id}}")),
		}, serve(t, s))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))

		// Events at 0.1, 0.2, 0.3 s; the stream ends; reconnected at
		// 0.5 s; events at 0.6, 0.7, 0.8; the stream ends, and the
		// subscription at 1 s, before it would reconnect.
		watch := stats(t, res, "live", "watch", metrics.KindStep)
		assert.Equal(t, int64(1), watch.Outcomes[metrics.OK])
		assert.Equal(t, time.Second, watch.Latency.Max)
		first := stats(t, res, "live", "watch", stampedesse.KindFirstEvent)
		assert.Equal(t, 100*time.Millisecond, first.Latency.Max)
		ev := stats(t, res, "live", "watch", stampedesse.KindEvent)
		assert.Equal(t, int64(6), ev.Outcomes[metrics.OK])
		assert.Equal(t, 100*time.Millisecond, ev.Latency.Min)
		assert.Equal(t, 300*time.Millisecond, ev.Latency.Max, "the gap across the reconnection")
		assert.Equal(t, int64(5), ev.Latency.Count(), "a gap before each event after the first")
		delay := stats(t, res, "live", "watch", stampedesse.KindDelay)
		assert.Equal(t, int64(6), delay.Outcomes[metrics.OK])
		assert.Equal(t, 20*time.Millisecond, delay.Latency.Min)
		assert.Equal(t, 20*time.Millisecond, delay.Latency.Max)
		assert.Equal(t, int64(1), stats(t, res, "live", "watch", stampedesse.KindReconnect).Outcomes[metrics.OK])
		assert.Equal(t, int64(2), stats(t, res, "live", "watch", stampedesse.KindStatus).Status.Get(200))
		assert.Equal(t, []string{"", "3"}, s.lastIDs)
		assert.Positive(t, watch.BytesReceived)
	})
}

// TestSubscribeEnds: Until ends the subscription at its event; a 204 ends
// it; NoReconnect ends it with the stream.
func TestSubscribeEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scores{n: 5, interval: 100 * time.Millisecond}
		srv := serve(t, s)
		j := scenario.Must("ends", scenario.Parts{
			stampedesse.Subscribe("until", "http://scores.test/scores", time.Minute,
				stampedesse.Until(func(e stampedesse.Event) bool { return e.ID == "2" })),
			stampedesse.Subscribe("gone", "http://scores.test/gone", time.Minute),
			stampedesse.Subscribe("once", "http://scores.test/scores", time.Minute, stampedesse.NoReconnect()),
		}, srv)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
		assert.Equal(t, 200*time.Millisecond, stats(t, res, "ends", "until", metrics.KindStep).Latency.Max)
		gone := stats(t, res, "ends", "gone", metrics.KindStep)
		assert.Equal(t, int64(1), gone.Outcomes[metrics.OK])
		assert.Equal(t, int64(1), stats(t, res, "ends", "gone", stampedesse.KindStatus).Status.Get(204))
		once := stats(t, res, "ends", "once", metrics.KindStep)
		assert.Equal(t, 500*time.Millisecond, once.Latency.Max)
		assert.Equal(t, int64(5), stats(t, res, "ends", "once", stampedesse.KindEvent).Count())
	})
}

// TestSubscribeFailures: an error status fails the step by its class,
// another content type as other, a silent stream past the timeout as a
// timeout.
func TestSubscribeFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := serve(t, &scores{})
		one := func(name, path string, opts ...stampedesse.Option) loadgen.Scenario {
			return scenario.Must(name, scenario.Parts{stampedesse.Subscribe("s", "http://scores.test"+path, time.Minute, opts...)}, srv).
				Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1})
		}
		res := run(t, one("busy", "/busy"), one("html", "/html"), one("silent", "/silent", stampedesse.Timeout(2*time.Second)))
		assert.Equal(t, int64(1), stats(t, res, "busy", "s", metrics.KindStep).Outcomes[metrics.HTTP5xx])
		assert.Equal(t, int64(1), stats(t, res, "busy", "s", stampedesse.KindStatus).Status.Get(503))
		assert.Equal(t, int64(1), stats(t, res, "html", "s", metrics.KindStep).Outcomes[metrics.Other])
		silent := stats(t, res, "silent", "s", metrics.KindStep)
		assert.Equal(t, int64(1), silent.Outcomes[metrics.Timeout])
		assert.Equal(t, 2*time.Second, silent.Failed.Max)
	})
}

// TestSubscribeBuildErrors: mistakes are reported when the journey is
// built.
func TestSubscribeBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		part scenario.Part
		want string
	}{
		{stampedesse.Subscribe("a", "ws://x.test/", time.Second), "must start with http:// or https://"},
		{stampedesse.Subscribe("a", "http://x.test/", 0), "the duration is 0s"},
		{stampedesse.Subscribe("a", "http://x.test/{{team}}", time.Second), "team"},
		{stampedesse.Subscribe("a", "http://x.test/", time.Second, stampedesse.Timeout(0)), "Timeout is 0s"},
		{stampedesse.Subscribe("a", "http://x.test/", time.Second, stampedesse.Header("a b", "c")), `"a b" is not a header name`},
		{stampedesse.Subscribe("a", "http://x.test/", time.Second, stampedesse.Until(nil)), "Until: the function is nil"},
		{stampedesse.Subscribe("a", "http://x.test/", time.Second, nil), "an option is nil"},
	} {
		_, err := scenario.New("j", scenario.Parts{tc.part})
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
		}
	}
}

// TestSubscribeKeepsTheIDOfAnEventWithoutData: an event with an id and no
// data dispatches nothing but sets the last event id, which the
// reconnection sends, as EventSource does.
func TestSubscribeKeepsTheIDOfAnEventWithoutData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scores{}
		j := scenario.Must("live", scenario.Parts{
			stampedesse.Subscribe("watch", "http://scores.test/mark", 25*time.Millisecond),
		}, serve(t, s))
		run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
		require.GreaterOrEqual(t, len(s.lastIDs), 2)
		assert.Equal(t, []string{"", "42"}, s.lastIDs[:2])
	})
}
