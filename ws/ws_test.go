package stampedews_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
	stampedews "github.com/stampede-go/stampede/ws"
	"github.com/stampede-go/stampede/ws/internal/steptest"
)

// TestRoundTripShowsTheServiceDelay: a service that answers each message
// 25 ms after it reads it has round trips of exactly 25 ms; the connection
// is held across the iterations' steps and closed with a handshake.
func TestRoundTripShowsTheServiceDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &testServer{delay: 25 * time.Millisecond}
		c := &stampedews.Client{
			URL:    "ws://chat.test/{{room}}",
			Header: map[string]string{"X-User": "u{{vu.id}}"},
			ID:     stampedews.JSONField("id"),
		}
		var mu sync.Mutex
		var said []string
		j := scenario.Must("chat", scenario.Parts{
			scenario.Step("pick", func(_ context.Context, vu *scenario.VU) error { vu.Set("room", "echo"); return nil }),
			scenario.Provides("room"),
			stampedews.Connect("join", c),
			stampedews.RoundTrip("say", c, `{"id":"{{vu.id}}-{{vu.iteration}}","text":"hi"}`,
				stampedews.Extract("said", func(m []byte) (string, error) { return string(m), nil })),
			stampedews.RoundTrip("again", c, `{"id":"again-{{vu.id}}","text":"{{said}}"}`),
			scenario.Step("check", func(_ context.Context, vu *scenario.VU) error {
				v, _ := vu.Get("said")
				mu.Lock()
				said = append(said, v)
				mu.Unlock()
				return nil
			}),
			stampedews.Close("leave", c),
		}, serve(t, s))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 2}))

		say := stats(t, res, "chat", "say", metrics.KindStep)
		assert.Equal(t, int64(4), say.Outcomes[metrics.OK], "2 VUs × 2 iterations")
		assert.Equal(t, 25*time.Millisecond, say.Latency.Min)
		assert.Equal(t, 25*time.Millisecond, say.Latency.Max)
		assert.Equal(t, int64(4), stats(t, res, "chat", "say", stampedews.KindSent).Outcomes[metrics.OK])
		assert.Equal(t, int64(4), stats(t, res, "chat", "say", stampedews.KindReceived).Outcomes[metrics.OK])
		again := stats(t, res, "chat", "again", metrics.KindStep)
		assert.Equal(t, int64(4), again.Outcomes[metrics.OK])
		assert.Equal(t, 25*time.Millisecond, again.Latency.Max)
		assert.Contains(t, said, `{"id":"0-0","text":"hi"}`)
		assert.Positive(t, say.BytesSent)
		assert.Equal(t, say.BytesSent, say.BytesReceived, "an echo")
		join := stats(t, res, "chat", "join", metrics.KindStep)
		assert.Equal(t, int64(4), join.Outcomes[metrics.OK])
		leave := stats(t, res, "chat", "leave", metrics.KindStep)
		assert.Equal(t, int64(4), leave.Outcomes[metrics.OK])
		assert.Equal(t, int64(4), stats(t, res, "chat", "leave", stampedews.KindClose).Status.Get(1000))
		assert.ElementsMatch(t, []string{"/echo", "/echo", "/echo", "/echo"}, s.paths)
		assert.ElementsMatch(t, []string{"u0", "u0", "u1", "u1"}, s.users)
	})
}

// TestHoldTimesMessagesFromWhenTheyWereDue: a Hold sends a message every
// 10 ms to a service that takes one at a time and answers each 25 ms after
// reading it. The generator's writes wait for the service's reads, so the
// messages go out late, but each round trip is timed from when the
// message was due: 25 ms for the first, then 15 ms more for each, as
// messages queue up (coordinated omission would have shown 25 ms for all).
func TestHoldTimesMessagesFromWhenTheyWereDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &testServer{delay: 25 * time.Millisecond}
		c := &stampedews.Client{URL: "ws://chat.test/echo", ID: stampedews.JSONField("id")}
		j := scenario.Must("feed", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.Hold("watch", c, 50*time.Millisecond, stampedews.Every(10*time.Millisecond, func(vu *scenario.VU, seq int) []byte {
				return fmt.Appendf(nil, `{"id":"%d-%d"}`, vu.ID, seq)
			})),
			stampedews.Close("leave", c),
		}, serve(t, s))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))

		rtt := res.Metrics.SeriesOf(metrics.Key{Scenario: "feed", Step: "watch", Kind: stampedews.KindRoundTrip})
		require.NotNil(t, rtt)
		assert.Equal(t, int64(5), rtt.Total.Outcomes[metrics.OK], "messages due at 0, 10, 20, 30 and 40 ms")
		assert.Equal(t, 25*time.Millisecond, rtt.Total.Latency.Min)
		assert.Equal(t, 85*time.Millisecond, rtt.Total.Latency.Max, "the fifth, due at 40 ms, answered at 125 ms")
		assert.Equal(t, (25+40+55+70+85)*time.Millisecond, rtt.Total.Latency.Sum)
		assert.Equal(t, int64(5), stats(t, res, "feed", "watch", stampedews.KindSent).Outcomes[metrics.OK])
		hold := stats(t, res, "feed", "watch", metrics.KindStep)
		assert.Equal(t, 125*time.Millisecond, hold.Latency.Max, "the hold waits for the replies due")
	})
}

// TestPushedMessagesDelay: messages the service stamps with the time it
// sent them record their delivery delay, here the 30 ms the service says
// they waited, and their rate.
func TestPushedMessagesDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &testServer{interval: 100 * time.Millisecond, n: 5, lag: 30 * time.Millisecond}
		c := &stampedews.Client{URL: "ws://scores.test/push", Timestamp: stampedews.JSONTime("ts")}
		j := scenario.Must("scores", scenario.Parts{
			stampedews.Connect("open", c),
			stampedews.Hold("watch", c, time.Second),
			stampedews.Close("close", c),
		}, serve(t, s))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 1}))

		delay := stats(t, res, "scores", "watch", stampedews.KindDelay)
		assert.Equal(t, int64(10), delay.Outcomes[metrics.OK])
		assert.Equal(t, 30*time.Millisecond, delay.Latency.Min)
		assert.Equal(t, 30*time.Millisecond, delay.Latency.Max)
		recv := res.Metrics.SeriesOf(metrics.Key{Scenario: "scores", Step: "watch", Kind: stampedews.KindReceived})
		require.NotNil(t, recv)
		assert.Equal(t, int64(10), recv.Total.Outcomes[metrics.OK])
		assert.Equal(t, int64(10), recv.Points[0].Stats.Outcomes[metrics.OK], "all within the first second")
		assert.Nil(t, res.Metrics.SeriesOf(metrics.Key{Scenario: "scores", Step: "watch", Kind: stampedews.KindRoundTrip}),
			"a Hold without Every declares no round trips")
	})
}

// TestFailures: a refused handshake fails Connect by its HTTP status; a
// wait past the step's timeout fails as a timeout; a service that closes the connection fails the step with its
// close code's class, and the steps after it fail as not connected until
// the next Connect.
func TestFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &testServer{delay: 50 * time.Millisecond}
		srv := serve(t, s)
		forbidden := &stampedews.Client{URL: "ws://chat.test/forbidden"}
		busy := &stampedews.Client{URL: "ws://chat.test/busy"}
		c := &stampedews.Client{URL: "ws://chat.test/echo", ID: stampedews.JSONField("id")}
		j := scenario.Must("fail", scenario.Parts{
			stampedews.Connect("forbidden", forbidden),
			stampedews.Close("never", forbidden),
		}, srv)
		k := scenario.Must("busy", scenario.Parts{stampedews.Connect("busy", busy)}, srv)
		l := scenario.Must("drop", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.RoundTrip("again", c, `{"id":"b"}`, stampedews.Timeout(time.Second)),
			stampedews.Send("bye", c, `{"id":"c","cmd":"close","code":1013}`),
			stampedews.Receive("wait", c, nil),
		}, srv)
		slow := scenario.Must("slow", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.RoundTrip("slow", c, `{"id":"a"}`, stampedews.Timeout(20*time.Millisecond)),
		}, srv)
		m := scenario.Must("after", scenario.Parts{
			stampedews.Send("lost", c, `{"id":"x"}`),
		}, srv)
		res := run(t,
			j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}),
			k.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}),
			l.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}),
			slow.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}),
			m.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))

		assert.Equal(t, int64(1), stats(t, res, "fail", "forbidden", metrics.KindStep).Outcomes[metrics.HTTP4xx])
		assert.Zero(t, stats(t, res, "fail", "never", metrics.KindStep).Count(), "the iteration stops at its failed step")
		assert.Equal(t, int64(1), stats(t, res, "busy", "busy", metrics.KindStep).Outcomes[metrics.HTTP5xx])
		timedOut := stats(t, res, "slow", "slow", metrics.KindStep)
		assert.Equal(t, int64(1), timedOut.Outcomes[metrics.Timeout])
		assert.Equal(t, 20*time.Millisecond, timedOut.Failed.Max)
		again := stats(t, res, "drop", "again", metrics.KindStep)
		assert.Equal(t, int64(1), again.Outcomes[metrics.OK])
		assert.Equal(t, 50*time.Millisecond, again.Latency.Max)
		wait := stats(t, res, "drop", "wait", metrics.KindStep)
		assert.Equal(t, int64(1), wait.Outcomes[metrics.Refused], "TRY_AGAIN_LATER")
		assert.Equal(t, int64(1), stats(t, res, "drop", "wait", stampedews.KindClose).Status.Get(1013))
		assert.Equal(t, int64(1), stats(t, res, "after", "lost", metrics.KindStep).Outcomes[metrics.Other], "not connected")
	})
}

// TestConnectionsGauge: the run samples the connections its VUs hold.
func TestConnectionsGauge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &stampedews.Client{URL: "ws://chat.test/echo"}
		j := scenario.Must("room", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.Hold("stay", c, 2500*time.Millisecond),
			stampedews.Close("leave", c),
		}, serve(t, &testServer{}))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 3, Iterations: 1}))
		g := res.Metrics.Gauge("room." + stampedews.GaugeHeld)
		require.NotNil(t, g)
		require.GreaterOrEqual(t, len(g.Points), 3)
		assert.Equal(t, []float64{3, 3, 0}, []float64{g.Points[0].Mean(), g.Points[1].Mean(), g.Points[2].Mean()})
	})
}

// TestBuildErrors: mistakes are reported when the journey is built, with
// the step's name.
func TestBuildErrors(t *testing.T) {
	ok := &stampedews.Client{URL: "ws://x.test/"}
	for _, tc := range []struct {
		part scenario.Part
		want string
	}{
		{stampedews.Connect("a", nil), "client: nil"},
		{stampedews.Connect("a", &stampedews.Client{}), "client: URL is empty"},
		{stampedews.Connect("a", &stampedews.Client{URL: "http://x.test/"}), `the scheme must be ws or wss, got "http"`},
		{stampedews.Connect("a", &stampedews.Client{URL: "ws://x.test/", ReadLimit: -1}), "ReadLimit is -1"},
		{stampedews.Connect("a", &stampedews.Client{URL: "ws://x.test/{{room}}"}), "room"},
		{stampedews.RoundTrip("a", ok, `{"id":1}`), "RoundTrip matches the reply by Client.ID, which is nil"},
		{stampedews.Hold("a", ok, 0), "Hold: the duration is 0s"},
		{stampedews.Hold("a", ok, time.Second, stampedews.Every(0, nil)), "Every: the interval is 0s"},
		{stampedews.Receive("a", ok, nil, stampedews.Timeout(-time.Second)), "Timeout is -1s"},
		{stampedews.Receive("a", ok, nil, stampedews.Extract("", nil)), `Extract: the key ""`},
		{stampedews.Send("a", ok, `{"id": {{x}}}`), "x"},
		{stampedews.Send("a", ok, "hi", nil), "an option is nil"},
		{stampedews.Send("a", ok, "hi", stampedews.Extract("k", func([]byte) (string, error) { return "", nil })), "Send: Extract reads the message a step waits for; only Receive and RoundTrip wait for one"},
		{stampedews.Hold("a", ok, time.Second, stampedews.Extract("k", func([]byte) (string, error) { return "", nil })), "Hold: Extract reads"},
		{stampedews.Receive("a", ok, nil, stampedews.Every(time.Second, func(*scenario.VU, int) []byte { return nil })), "Receive: Every is an option of Hold only"},
		{stampedews.Close("a", ok, stampedews.Binary()), "Close: Binary applies to the messages a step sends"},
		{stampedews.Hold("a", ok, time.Second, stampedews.Binary()), "Hold: Binary applies"},
	} {
		_, err := scenario.New("j", scenario.Parts{tc.part})
		if assert.Error(t, err, tc.want) {
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), `"a"`)
		}
	}
}

// TestHoldUnansweredMessages: in a Hold, a message without a reply within
// the step's timeout is recorded as a timed-out round trip, and the hold
// goes on, its later messages answered.
func TestHoldUnansweredMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &testServer{delay: 10 * time.Millisecond}
		c := &stampedews.Client{URL: "ws://chat.test/echo", ID: stampedews.JSONField("id")}
		j := scenario.Must("feed", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.Hold("watch", c, time.Second, stampedews.Timeout(300*time.Millisecond),
				stampedews.Every(100*time.Millisecond, func(vu *scenario.VU, seq int) []byte {
					if seq%2 == 1 {
						return fmt.Appendf(nil, `{"id":"%d","cmd":"ignore"}`, seq)
					}
					return fmt.Appendf(nil, `{"id":"%d"}`, seq)
				})),
		}, serve(t, s))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))

		rtt := stats(t, res, "feed", "watch", stampedews.KindRoundTrip)
		assert.Equal(t, int64(5), rtt.Outcomes[metrics.OK])
		assert.Equal(t, 10*time.Millisecond, rtt.Latency.Max)
		assert.Equal(t, int64(5), rtt.Outcomes[metrics.Timeout], "the odd ones")
		assert.Equal(t, 300*time.Millisecond, rtt.Failed.Min)
		hold := stats(t, res, "feed", "watch", metrics.KindStep)
		assert.Equal(t, int64(1), hold.Outcomes[metrics.OK])
		assert.Equal(t, 1200*time.Millisecond, hold.Latency.Max, "the last message, due at 900 ms, waited for to 1.2 s")
	})
}

// TestHoldInterrupted: the run's hard stop cuts a Hold off, counted as
// interrupted, and the connections close with the run.
func TestHoldInterrupted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &stampedews.Client{URL: "ws://chat.test/echo"}
		j := scenario.Must("long", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.Hold("stay", c, time.Hour),
		}, serve(t, &testServer{}))
		sc := j.Scenario(loadgen.ConstantVUs{VUs: 2, Duration: time.Second})
		sc.GracefulStop = 100 * time.Millisecond
		res := run(t, sc)
		stay := stats(t, res, "long", "stay", metrics.KindStep)
		assert.Equal(t, int64(2), stay.Outcomes[metrics.Interrupted])
		assert.Zero(t, stay.Errors())
	})
}

// TestHoldEndedWithMessagesWaiting: the connection's end records the
// messages still waiting for their replies with its outcome, so that
// every timed message is recorded once; a message over the ReadLimit ends
// it with MESSAGE_TOO_BIG, a rejection, as the Client's doc says.
func TestHoldEndedWithMessagesWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &testServer{delay: 10 * time.Millisecond}
		c := &stampedews.Client{URL: "ws://chat.test/echo", ID: stampedews.JSONField("id")}
		j := scenario.Must("feed", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.Hold("watch", c, time.Second,
				stampedews.Every(100*time.Millisecond, func(vu *scenario.VU, seq int) []byte {
					if seq == 3 { // the service sheds the connection on this one, unanswered
						return []byte(`{"id":"3","cmd":"close","code":1013}`)
					}
					return fmt.Appendf(nil, `{"id":"%d"}`, seq)
				})),
		}, serve(t, s))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
		rtt := stats(t, res, "feed", "watch", stampedews.KindRoundTrip)
		assert.Equal(t, int64(3), rtt.Outcomes[metrics.OK])
		assert.Equal(t, int64(1), rtt.Outcomes[metrics.Refused], "the message the service closed on")
		assert.Equal(t, stats(t, res, "feed", "watch", stampedews.KindSent).Count(), rtt.Count(), "each message sent, recorded once")
		assert.Equal(t, int64(1), stats(t, res, "feed", "watch", metrics.KindStep).Outcomes[metrics.Refused])

		small := &stampedews.Client{URL: "ws://chat.test/echo", ID: stampedews.JSONField("id"), ReadLimit: 8}
		j = scenario.Must("big", scenario.Parts{
			stampedews.Connect("join", small),
			stampedews.RoundTrip("ask", small, `{"id":"a long message"}`),
		}, serve(t, s))
		res = run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
		assert.Equal(t, int64(1), stats(t, res, "big", "ask", metrics.KindStep).Outcomes[metrics.Rejected], "%v", res.Errors)
		assert.Equal(t, int64(1), stats(t, res, "big", "ask", stampedews.KindClose).Status.Get(1009))
	})
}

// TestCloseWithinItsTimeout: a Close whose service never answers the
// close frame ends at the step's Timeout, as a timeout, not after the
// WebSocket library's own wait of 5 s.
func TestCloseWithinItsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &stampedews.Client{URL: "ws://chat.test/echo"}
		j := scenario.Must("quit", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.Send("stall", c, `{"cmd":"stall"}`),
			stampedews.Close("leave", c, stampedews.Timeout(100*time.Millisecond)),
		}, serve(t, &testServer{}))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
		leave := stats(t, res, "quit", "leave", metrics.KindStep)
		assert.Equal(t, int64(1), leave.Outcomes[metrics.Timeout], "%v", res.Errors)
		assert.Equal(t, 100*time.Millisecond, leave.Failed.Max)
	})
}

// TestSendOnAConnectionTheServiceClosed: a Send on a connection the
// service has closed fails with the close code's outcome, the code
// counted, as a Receive on it would; not as a lost connection.
func TestSendOnAConnectionTheServiceClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &stampedews.Client{URL: "ws://chat.test/echo"}
		j := scenario.Must("shed", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.Send("last", c, `{"cmd":"close","code":1013}`),
			scenario.Think(scenario.Constant(10 * time.Millisecond)),
			stampedews.Send("again", c, `{"id":"1"}`),
		}, serve(t, &testServer{}))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
		again := stats(t, res, "shed", "again", metrics.KindStep)
		assert.Equal(t, int64(1), again.Outcomes[metrics.Refused], "%v", res.Errors)
		assert.Equal(t, int64(1), stats(t, res, "shed", "again", stampedews.KindClose).Status.Get(1013))
	})
}

// TestRoundTripRefusesAMessageWithoutAnID: a RoundTrip whose message has
// no id by Client.ID fails as other before sending it, so that no reply
// to it is left for a later step to take.
func TestRoundTripRefusesAMessageWithoutAnID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &stampedews.Client{URL: "ws://chat.test/echo", ID: stampedews.JSONField("id")}
		j := scenario.Must("ask", scenario.Parts{
			stampedews.Connect("join", c),
			stampedews.RoundTrip("q", c, `{"text":"no id"}`),
		}, serve(t, &testServer{}))
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
		assert.Equal(t, int64(1), stats(t, res, "ask", "q", metrics.KindStep).Outcomes[metrics.Other])
		assert.Zero(t, stats(t, res, "ask", "q", stampedews.KindSent).Count(), "not sent")
		require.NotEmpty(t, res.Errors)
		assert.Contains(t, res.Errors[0].Message, "the message to send has no id by Client.ID")
	})
}

// TestCloseWhileTheServiceSends: a service that sends without pause until
// the VU closes answers the close with NORMAL_CLOSURE, and that is what
// every Close counts, whether the VU's reader read the service's close
// frame or the library's wait did (the reader being between two reads
// of the stream); the connection the library then closed under the
// reader was counted ABNORMAL_CLOSURE in about two closes of three.
func TestCloseWhileTheServiceSends(t *testing.T) {
	var handlers sync.WaitGroup
	flood := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := c.CloseRead(context.Background()) // ends when the VU's close frame comes, which it answers
		for ctx.Err() == nil && c.Write(context.Background(), websocket.MessageText, []byte("tick")) == nil {
		}
	})
	c := &stampedews.Client{URL: "ws://ticker.test/"}
	j := scenario.Must("ticks", scenario.Parts{
		stampedews.Connect("join", c),
		stampedews.Close("leave", c),
	}, steptest.Serve(t, flood, &handlers))
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 50}))
	leave := stats(t, res, "ticks", "leave", metrics.KindStep)
	assert.Equal(t, int64(100), leave.Outcomes[metrics.OK], "%v", leave.Outcomes)
	assert.Equal(t, metrics.StatusCounts{{Code: int(websocket.StatusNormalClosure), Count: 100}},
		stats(t, res, "ticks", "leave", stampedews.KindClose).Status)
}
