package loadgen

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/metrics"
)

// steps is a closed load shape of the user's: 2 VUs, 6 from 1.5 s to 2.5 s,
// then 2 until 3 s.
type steps struct{}

func (steps) Validate() error { return nil }
func (steps) String() string  { return "steps" }
func (steps) Kind() string    { return "steps" }
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

func (burst) Validate() error { return nil }
func (burst) String() string  { return "burst" }
func (burst) Kind() string    { return "burst" }
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
		plan := func(seg Segment, startAt time.Time) *Plan {
			return &Plan{Segment: seg, StartAt: startAt, Scenarios: []Scenario{
				{Name: "steps", Executor: steps{}, Iteration: sleepIter(100 * time.Millisecond)},
				{Name: "burst", Executor: burst{}, Iteration: sleepIter(15 * time.Millisecond)},
			}}
		}
		whole := run(t, plan(Segment{}, time.Time{}))
		ser := whole.Metrics.SeriesOf(metrics.Key{Scenario: "steps", Kind: metrics.KindIteration}).Points
		// Sampled at 1 and 2 s (at 3 s the run ends as VUs leave).
		assert.Equal(t, []int64{2, 6}, []int64{ser[0].VUs, ser[1].VUs}, "VUs at 1 and 2 s")
		// 2 VUs × 30 + 4 more × 10 iterations of 100 ms.
		assert.Equal(t, int64(100), whole.Iterations("steps").Count())
		b := whole.Iterations("burst")
		// One VU, 15 ms iterations every 10 ms: every other arrival finds it busy.
		assert.Equal(t, int64(100), b.Count()+b.Outcomes[metrics.Dropped])
		assert.Equal(t, int64(50), b.Outcomes[metrics.Dropped])
		assert.Equal(t, "steps", whole.Plan.Scenarios[0].Executor)

		// The segments of one run, started together.
		parts := make([]*Result, 3)
		startAt := time.Now().Add(time.Second)
		var wg sync.WaitGroup
		for i := range parts {
			wg.Go(func() { parts[i] = run(t, plan(Segment{Index: i, Count: 3}, startAt)) })
		}
		wg.Wait()
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

func (badLoad) Validate() error { return nil }
func (badLoad) String() string  { return "bad" }
func (badLoad) Kind() string    { return "bad" }
func (badLoad) Load() Load      { return Load{Duration: time.Second} }

// panicky is an executor of the user's whose code panics where told.
type panicky struct{ in string }

func (panicky) Validate() error { return nil }
func (panicky) String() string  { return "panicky" }
func (panicky) Kind() string    { return "panicky" }
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

// TestPlanDurationComesFromLoad: a plan lasts as its executors' loads say
// (the latest StartAfter + Load().Duration), and so does every Progress;
// an executor whose Load panics counts for nothing, and Validate, which
// checks events against the plan's end, says why instead of panicking.
func TestPlanDurationComesFromLoad(t *testing.T) {
	p := &Plan{Scenarios: []Scenario{
		{Name: "steps", Executor: steps{}, StartAfter: 2 * time.Second, Iteration: noop},
		{Name: "burst", Executor: burst{}, Iteration: noop},
	}}
	assert.Equal(t, 5*time.Second, p.Duration(), "steps: 2s + 3s")

	p.Scenarios = append(p.Scenarios, Scenario{Name: "broken", Executor: panicky{"Load"}, Iteration: noop})
	p.Events = []Event{At(4*time.Second, "late", nil), At(6*time.Second, "too late", nil)}
	assert.Equal(t, 5*time.Second, p.Duration(), "the broken scenario counts for nothing")
	err := p.Validate()
	assert.ErrorContains(t, err, `scenario "broken": executor panicky: Load panicked: no load`)
	assert.ErrorContains(t, err, `Plan.Events[1] ("too late"): At must be >= 0 and before the plan ends (5s), got 6s`)
	assert.NotContains(t, err.Error(), "Plan.Events[0]")

	synctest.Test(t, func(t *testing.T) {
		var planned []time.Duration
		run(t, &Plan{
			Scenarios:  []Scenario{{Name: "steps", Executor: steps{}, Iteration: sleepIter(100 * time.Millisecond)}},
			OnInterval: func(p *Progress) { planned = append(planned, p.Planned) },
		})
		require.NotEmpty(t, planned)
		for _, d := range planned {
			assert.Equal(t, 3*time.Second, d)
		}
	})
}
