package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/metrics"
)

// TestHookPanicsAreKept: a panic in OnInterval is kept (once, counted)
// and the run goes on; a panic in AbortWhen aborts the run, since the
// guard it was meant to be is gone. Neither takes the process down.
func TestHookPanicsAreKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Iterations of 400 ms from 0 s to 2.8 s: the run ends at 3.2 s, off
		// any interval boundary.
		res := run(t, &Plan{
			Scenarios:  []Scenario{{Name: "c", Executor: ConstantVUs{VUs: 1, Duration: 3 * time.Second}, Iteration: sleepIter(400 * time.Millisecond)}},
			OnInterval: func(*Progress) { panic("progress broke") },
		})
		assert.Equal(t, int64(8), res.Iterations("c").Count(), "the run went on")
		require.Len(t, res.Panics, 1)
		assert.Equal(t, "OnInterval", res.Panics[0].Where)
		assert.Equal(t, int64(4), res.Panics[0].Count, "after 1, 2 and 3 s, and the final report")

		res, err := Run(t.Context(), &Plan{
			Scenarios: []Scenario{{Name: "c", Executor: ConstantVUs{VUs: 1, Duration: 10 * time.Second}, Iteration: sleepIter(500 * time.Millisecond)}},
			AbortWhen: func(*Progress) string { panic("guard broke") },
		})
		require.ErrorIs(t, err, ErrAborted)
		assert.Equal(t, "AbortWhen panicked: guard broke", res.AbortReason)
		assert.Equal(t, "AbortWhen", res.Panics[0].Where)
		assert.Less(t, res.End.Sub(res.Start), 2*time.Second, "stopped after the first interval")
	})
}

// TestGaugeNonFinite: NaN and infinite samples are left out and counted,
// and the result still saves.
func TestGaugeNonFinite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := 0
		res := run(t, &Plan{
			// The run ends at 3.2 s: sampled at 1, 2 and 3 s, off its end.
			Scenarios: []Scenario{{Name: "c", Executor: ConstantVUs{VUs: 1, Duration: 3 * time.Second}, Iteration: sleepIter(400 * time.Millisecond)}},
			Gauges: []Gauge{{Name: "odd", Sample: func() float64 {
				n++
				return []float64{math.NaN(), 7, math.Inf(1)}[(n-1)%3]
			}}},
		})
		assert.Equal(t, map[string]int64{"odd": 2}, res.GaugeNonFinite)
		g := res.Metrics.Gauge("odd")
		require.NotNil(t, g)
		var samples int64
		for _, p := range g.Points {
			samples += p.N
		}
		assert.Equal(t, int64(1), samples, "only the 7")
		var b bytes.Buffer
		require.NoError(t, res.WriteJSON(&b))
		back, err := ReadResult(&b)
		require.NoError(t, err)
		assert.Equal(t, res.GaugeNonFinite, back.GaugeNonFinite)
	})
}

// TestGoexitInIteration: runtime.Goexit in an iteration (what t.FailNow
// does there) ends that iteration as failed; the VU goes on, and every
// iteration is counted. Before, the VU was lost: 9 calls gave 6 counts,
// and an open model dropped most of its arrivals.
func TestGoexitInIteration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "closed", Executor: PerVUIterations{VUs: 3, Iterations: 3},
			Iteration: func(ctx context.Context, it *Iteration) error {
				time.Sleep(10 * time.Millisecond)
				if it.Number == 1 {
					runtime.Goexit()
				}
				return nil
			},
		}}})
		it := res.Iterations("closed")
		assert.Equal(t, int64(9), it.Count())
		assert.Equal(t, int64(3), it.Outcomes[metrics.Other])
		require.NotEmpty(t, res.Errors)
		assert.Contains(t, res.Errors[0].Message, "runtime.Goexit")

		res = run(t, &Plan{Scenarios: []Scenario{{
			Name: "open", Executor: ConstantRate{Rate: 200, Duration: time.Second, MaxVUs: 5},
			Iteration: func(ctx context.Context, it *Iteration) error {
				time.Sleep(time.Millisecond)
				runtime.Goexit()
				return nil
			},
		}}})
		it = res.Iterations("open")
		assert.Equal(t, int64(200), it.Count())
		assert.Equal(t, int64(200), it.Outcomes[metrics.Other])
		assert.Zero(t, it.Outcomes[metrics.Dropped], "no VU was lost")
	})
}

func TestRunRefusesWhatCannotRun(t *testing.T) {
	_, err := Run(t.Context(), nil)
	assert.EqualError(t, err, "loadgen: Run needs a plan, got nil")

	p := &Plan{
		Scenarios: []Scenario{{Name: "c", Executor: ConstantVUs{VUs: 1, Duration: time.Second}, Iteration: sleepIter(time.Millisecond)}},
		StartAt:   time.Now().Add(-24 * time.Hour),
	}
	res, err := Run(t.Context(), p)
	assert.Nil(t, res)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in the past: the plan (1s long) would already have ended")
}

// TestErrorSamplesDifferBeyondPorts: messages that differ only in the
// ephemeral port of their connection are one example, not three.
func TestErrorSamplesDifferBeyondPorts(t *testing.T) {
	var c collector
	for _, m := range []string{
		"dial tcp 127.0.0.1:41234->127.0.0.1:8080: connection refused",
		"dial tcp 127.0.0.1:41235->127.0.0.1:8080: connection refused",
		"read tcp [::1]:50001->[::1]:8080: connection reset by peer",
		"read tcp [::1]:50002->[::1]:8080: connection reset by peer",
		"status 503",
	} {
		c.note("s", metrics.Other, errors.New(m))
	}
	var got []string
	for _, e := range c.errors {
		got = append(got, e.Message)
	}
	assert.Equal(t, []string{
		"dial tcp 127.0.0.1:41234->127.0.0.1:8080: connection refused",
		"read tcp [::1]:50001->[::1]:8080: connection reset by peer",
		"status 503",
	}, got)
}

// FuzzMerge merges pairs of whatever ReadResult accepts, seeded with the
// stored results and with segments 1/2 and 2/2 of one: it must never
// panic (a segment {"index":7,"count":2} once did) nor exhaust memory (two
// 2.8 kB files once asked for 208 GB), and a merge must encode and read
// back.
func FuzzMerge(f *testing.F) {
	for _, name := range []string{"v2-fixed.json", "v2-http.json", "v1-fixed.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "results", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, b)
		seg := func(i int) []byte {
			return bytes.Replace(b, []byte("\"segment\": {\n  \"index\": 0,\n  \"count\": 0\n }"), fmt.Appendf(nil, `"segment":{"index":%d,"count":2}`, i), 1)
		}
		if bytes.Equal(seg(0), b) {
			f.Fatalf("%s: no segment to replace", name)
		}
		f.Add(seg(0), seg(1))
		f.Add(seg(7), seg(1))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ra, err := ReadResult(bytes.NewReader(a))
		if err != nil {
			return
		}
		rb, err := ReadResult(bytes.NewReader(b))
		if err != nil {
			return
		}
		m, err := Merge(ra, rb)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := m.WriteJSON(&out); err != nil {
			t.Fatalf("a merge does not encode: %v", err)
		}
		if _, err := ReadResult(&out); err != nil {
			t.Fatalf("a merge does not read back: %v", err)
		}
	})
}

// TestReadAndMergeRefuseBadFiles: a segment out of range (it once made
// Merge panic: index out of range), negative durations and negative counts
// are refused when a result is read, naming the field.
func TestReadAndMergeRefuseBadFiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "results", "v2-fixed.json"))
	require.NoError(t, err)
	for _, tc := range []struct{ from, to, want string }{
		{"\"segment\": {\n  \"index\": 0,\n  \"count\": 0\n }", `"segment":{"index":7,"count":2}`, "Segment.Index must be in [0, 2), got 7"},
		{`"duration_ns": 600000000000`, `"duration_ns": -1`, "plan duration_ns must be >= 0, got -1"},
		{`"start": "2000-01-01T00:00:00Z",`, `"start": "2000-01-01T00:00:00Z", "more_panics": -1,`, "more_panics must be >= 0, got -1"},
	} {
		bad := bytes.Replace(b, []byte(tc.from), []byte(tc.to), 1)
		require.NotEqual(t, b, bad, tc.from)
		_, err := ReadResult(bytes.NewReader(bad))
		assert.ErrorContains(t, err, tc.want)
	}
	res, err := ReadResult(bytes.NewReader(b))
	require.NoError(t, err)
	odd := *res
	odd.Segment = Segment{Index: 7, Count: 2}
	_, err = Merge(res, &odd)
	assert.Error(t, err, "no panic")
}

// steps is a closed load shape of the user's: 2 VUs, 6 from 1.5 s to 2.5 s,
// then 2 until 3 s.
type steps struct{}

func (steps) Validate() error              { return nil }
func (steps) String() string               { return "steps" }
func (steps) Kind() string                 { return "steps" }
func (steps) TotalDuration() time.Duration { return 3 * time.Second }
func (steps) Load() Load {
	return Load{Duration: 3 * time.Second, MaxVUs: 6, VUs: func(t time.Duration) (int, time.Duration) {
		switch {
		case t < 1500*time.Millisecond:
			return 2, 1500 * time.Millisecond
		case t < 2500*time.Millisecond:
			return 6, 2500 * time.Millisecond
		}
		return 2, -1
	}}
}

// burst is an open load shape of the user's: 100 arrivals 10 ms apart.
type burst struct{}

func (burst) Validate() error              { return nil }
func (burst) String() string               { return "burst" }
func (burst) Kind() string                 { return "burst" }
func (burst) TotalDuration() time.Duration { return time.Second }
func (burst) Load() Load {
	i := 0
	return Load{Duration: time.Second, MaxVUs: 1, Arrivals: func() (time.Duration, bool) {
		if i == 100 {
			return 0, false
		}
		i++
		return time.Duration(i-1) * 10 * time.Millisecond, true
	}}
}

// TestCustomExecutors: executors of the user's run as the built-in ones —
// VU counts follow the shape, arrivals are dealt to segments, drops are
// counted, and segments merge to the whole.
func TestCustomExecutors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plan := func(seg Segment) *Plan {
			return &Plan{Segment: seg, Scenarios: []Scenario{
				{Name: "steps", Executor: steps{}, Iteration: sleepIter(100 * time.Millisecond)},
				{Name: "burst", Executor: burst{}, Iteration: sleepIter(15 * time.Millisecond)},
			}}
		}
		whole := run(t, plan(Segment{}))
		ser := whole.Metrics.Metric(metrics.Key{Scenario: "steps", Kind: metrics.KindIteration}).Series
		// Sampled at 1 and 2 s (at 3 s the run ends as VUs leave).
		assert.Equal(t, []int64{2, 6}, []int64{ser[0].VUs, ser[1].VUs}, "VUs at 1 and 2 s")
		// 2 VUs × 30 + 4 more × 10 iterations of 100 ms.
		assert.Equal(t, int64(100), whole.Iterations("steps").Count())
		b := whole.Iterations("burst")
		// One VU, 15 ms iterations every 10 ms: every other arrival finds it busy.
		assert.Equal(t, int64(100), b.Count()+b.Outcomes[metrics.Dropped])
		assert.Equal(t, int64(50), b.Outcomes[metrics.Dropped])
		assert.Equal(t, "steps", whole.Plan.Scenarios[0].Executor)

		var parts []*Result
		for i := range 3 {
			parts = append(parts, run(t, plan(Segment{Index: i, Count: 3})))
		}
		merged, err := Merge(parts...)
		require.NoError(t, err)
		assert.Equal(t, whole.Iterations("steps").Count(), merged.Iterations("steps").Count())
		mb := merged.Iterations("burst")
		assert.Equal(t, int64(100), mb.Count()+mb.Outcomes[metrics.Dropped], "every arrival dealt once")
	})
}

func TestCustomExecutorLoadIsChecked(t *testing.T) {
	err := (&Plan{Scenarios: []Scenario{{Name: "s", Executor: badLoad{}, Iteration: sleepIter(time.Millisecond)}}}).Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `scenario "s": executor bad: Load must be either a closed model (VUs) or an open one (Arrivals), got neither`)
	assert.Contains(t, err.Error(), `scenario "s": executor bad: Load.MaxVUs must be between 1 and 100000 (VULimit), got 0`)
}

type badLoad struct{}

func (badLoad) Validate() error              { return nil }
func (badLoad) String() string               { return "bad" }
func (badLoad) Kind() string                 { return "bad" }
func (badLoad) TotalDuration() time.Duration { return time.Second }
func (badLoad) Load() Load                   { return Load{Duration: time.Second} }

// TestGoexitInAHook: t.FailNow in OnInterval (runtime.Goexit) does not end
// the engine's clock: every interval is still reported, and it is kept.
func TestGoexitInAHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		res := run(t, &Plan{
			Scenarios:  []Scenario{{Name: "c", Executor: ConstantVUs{VUs: 1, Duration: 3 * time.Second}, Iteration: sleepIter(400 * time.Millisecond)}},
			OnInterval: func(*Progress) { calls++; runtime.Goexit() },
		})
		assert.Equal(t, 4, calls, "after 1, 2 and 3 s, and the final report")
		require.Len(t, res.Panics, 1)
		assert.Equal(t, PanicSample{Where: "OnInterval", Value: "runtime.Goexit", Stack: res.Panics[0].Stack, Count: 4}, res.Panics[0])
	})
}

// panicky is an executor of the user's whose code panics where told.
type panicky struct{ in string }

func (panicky) Validate() error              { return nil }
func (panicky) String() string               { return "panicky" }
func (panicky) Kind() string                 { return "panicky" }
func (panicky) TotalDuration() time.Duration { return time.Second }
func (p panicky) Load() Load {
	if p.in == "Load" {
		panic("no load")
	}
	l := Load{Duration: time.Second, MaxVUs: 2}
	if p.in == "Arrivals" {
		n := 0
		l.Arrivals = func() (time.Duration, bool) {
			if n++; n > 3 {
				panic("no arrivals")
			}
			return time.Duration(n) * 10 * time.Millisecond, true
		}
		return l
	}
	l.VUs = func(t time.Duration) (int, time.Duration) {
		if t >= 500*time.Millisecond {
			panic("no VUs")
		}
		return 2, -1
	}
	return l
}

// TestExecutorPanicsAreKept: a panic in a user's executor is a Validate
// error (in Load) or stops its scenario, kept with the run's panics (in
// VUs or Arrivals): never the process.
func TestExecutorPanicsAreKept(t *testing.T) {
	err := (&Plan{Scenarios: []Scenario{{Name: "s", Executor: panicky{"Load"}, Iteration: sleepIter(time.Millisecond)}}}).Validate()
	assert.ErrorContains(t, err, `scenario "s": executor panicky: Load panicked: no load`)
	synctest.Test(t, func(t *testing.T) {
		for _, in := range []string{"VUs", "Arrivals"} {
			res := run(t, &Plan{Scenarios: []Scenario{{Name: "s", Executor: panicky{in}, Iteration: sleepIter(100 * time.Millisecond)}}})
			require.Len(t, res.Panics, 1, in)
			assert.Equal(t, "executor", res.Panics[0].Where, in)
			assert.Less(t, res.End.Sub(res.Start), time.Second, "%s: the scenario stopped", in)
		}
	})
}
