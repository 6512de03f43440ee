package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sleepIter(d time.Duration) IterationFunc {
	return func(ctx context.Context, it *Iteration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func noop(context.Context, *Iteration) error { return nil }

func run(t *testing.T, p *Plan) *Result {
	t.Helper()
	res, err := Run(t.Context(), p)
	require.NoError(t, err)
	checkAccounting(t, res)
	return res
}

// checkAccounting asserts what must hold for every result: the series of
// every metric add up to its totals (when there is no warm-up), and
// started = completed + failed + interrupted by construction of Counts.
func checkAccounting(t *testing.T, res *Result) {
	t.Helper()
	for _, m := range res.Metrics.Series {
		var sum metrics.Stats
		for _, p := range m.Points {
			sum.Merge(&p.Stats)
		}
		if res.Plan.Warmup == 0 {
			assert.Equal(t, m.Total.Outcomes, sum.Outcomes, "%v: series outcomes sum to the totals", m.Key)
			assert.Equal(t, m.Total.Latency.Count(), sum.Latency.Count(), "%v: series latencies sum to the totals", m.Key)
		}
		assert.Equal(t, m.Total.Count(), m.Total.Outcomes[metrics.OK]+m.Total.Errors()+m.Total.Outcomes[metrics.Interrupted])
	}
}

func TestConstantVUsRunsExactIterations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "c", Executor: ConstantVUs{VUs: 3, Duration: time.Second, Stagger: -1}, Iteration: sleepIter(300 * time.Millisecond),
		}}})
		it := res.Iterations("c")
		// Each VU (not staggered) starts at 0, .3, .6 and .9 s; the last ends at 1.2 s, in the graceful stop.
		assert.Equal(t, int64(12), it.Outcomes[metrics.OK])
		assert.Equal(t, int64(12), it.Count())
		assert.Equal(t, 300*time.Millisecond, it.Latency.Min)
		assert.Equal(t, 300*time.Millisecond, it.Latency.Max)
		assert.Equal(t, 1200*time.Millisecond, res.Duration())
		assert.Len(t, res.Metrics.Series[0].Points, 2)
	})
}

func TestGracefulStopInterrupts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "c", Executor: ConstantVUs{VUs: 2, Duration: time.Second}, GracefulStop: 2 * time.Second,
			Iteration: sleepIter(5 * time.Second),
		}}})
		it := res.Iterations("c")
		assert.Equal(t, int64(2), it.Outcomes[metrics.Interrupted])
		assert.Equal(t, int64(0), it.Outcomes[metrics.OK])
		assert.Equal(t, int64(0), it.Latency.Count(), "interrupted iterations have no latency")
		assert.Equal(t, 3*time.Second, res.Duration(), "stop at 1s + 2s graceful stop")
		require.NotEmpty(t, res.Errors)
		assert.Equal(t, "interrupted", res.Errors[0].Outcome)
	})
}

func TestRampAtTable(t *testing.T) {
	stages := []Stage{{10 * time.Second, 10}, {5 * time.Second, 10}, {4 * time.Second, 2}}
	cases := []struct {
		t    time.Duration
		v    int
		next time.Duration
	}{
		{0, 0, time.Second},
		{999 * time.Millisecond, 0, time.Second},
		{time.Second, 1, 2 * time.Second},
		{9500 * time.Millisecond, 9, 10 * time.Second},
		{10 * time.Second, 10, 15 * time.Second},
		{15 * time.Second, 10, 15500 * time.Millisecond},
		{15500 * time.Millisecond, 9, 16 * time.Second},
		{18999 * time.Millisecond, 3, 19 * time.Second},
		{19 * time.Second, 2, -1},
		{time.Hour, 2, -1},
	}
	for _, tc := range cases {
		t.Run(tc.t.String(), func(t *testing.T) {
			v, next := rampAt(0, stages, tc.t)
			assert.Equal(t, tc.v, v)
			assert.Equal(t, tc.next, next)
		})
	}
}

func TestRampingVUsFollowStages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stages := []Stage{{2 * time.Second, 10}, {time.Second, 10}, {2 * time.Second, 0}}
		var busy atomic.Int64
		done := make(chan struct{})
		var wg sync.WaitGroup
		var mismatches []string
		wg.Go(func() {
			// Sample mid-iteration instants: 5.5 ms past every 10 ms boundary.
			time.Sleep(5500 * time.Microsecond)
			for at := 5500 * time.Microsecond; at < 5*time.Second; at += 10 * time.Millisecond {
				want, _ := rampAt(0, stages, at)
				if got := busy.Load(); got != int64(want) {
					mismatches = append(mismatches, fmt.Sprintf("at %v: %d VUs, want %d", at, got, want))
				}
				select {
				case <-done:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		})
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "r", Executor: RampingVUs{Stages: stages, GracefulRampDown: time.Millisecond},
			Iteration: func(ctx context.Context, it *Iteration) error {
				busy.Add(1)
				defer busy.Add(-1)
				return sleepIter(time.Millisecond)(ctx, it)
			},
		}}})
		close(done)
		wg.Wait()
		assert.Empty(t, mismatches)
		assert.Zero(t, res.Iterations("r").Errors())
	})
}

// TestRampDownInterruptsLeavingVUs: when the ramp goes from 3 VUs to 1,
// the two leaving VUs get GracefulRampDown to finish their iteration and
// are then interrupted; the staying VU is not.
func TestRampDownInterruptsLeavingVUs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "r", GracefulStop: 10 * time.Second,
			Executor: RampingVUs{StartVUs: 3, Stages: []Stage{{time.Second, 3}, {time.Nanosecond, 1}, {2 * time.Second, 1}},
				GracefulRampDown: 500 * time.Millisecond},
			Iteration: sleepIter(4 * time.Second),
		}}})
		it := res.Iterations("r")
		// At 1 s two VUs leave; at 1.5 s their iterations are interrupted.
		// The ramp ends at 3 s; the third VU's iteration, in flight then,
		// ends at 4 s within the graceful stop.
		assert.Equal(t, int64(2), it.Outcomes[metrics.Interrupted])
		assert.Equal(t, int64(1), it.Outcomes[metrics.OK])
		assert.Equal(t, 4*time.Second, res.Duration())
	})
}

func TestPerVUIterationsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var perVU [4]atomic.Int64
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "p", Executor: PerVUIterations{VUs: 4, Iterations: 25},
			Iteration: func(ctx context.Context, it *Iteration) error {
				perVU[it.VU.ID].Add(1)
				time.Sleep(time.Duration(it.VU.ID+1) * time.Millisecond)
				return nil
			},
		}}})
		assert.Equal(t, int64(100), res.Iterations("p").Count())
		for i := range perVU {
			assert.Equal(t, int64(25), perVU[i].Load(), "VU %d", i)
		}
		assert.Equal(t, 100*time.Millisecond, res.Duration(), "ends when the slowest VU is done")
	})
}

func TestSharedIterationsExactAndMaxDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "s", Executor: SharedIterations{VUs: 3, Iterations: 100}, Iteration: sleepIter(time.Millisecond),
		}}})
		assert.Equal(t, int64(100), res.Iterations("s").Count())

		res = run(t, &Plan{Scenarios: []Scenario{{
			Name: "s", Executor: SharedIterations{VUs: 2, Iterations: 100, MaxDuration: 2500 * time.Millisecond},
			GracefulStop: 100 * time.Millisecond, Iteration: sleepIter(time.Second),
		}}})
		it := res.Iterations("s")
		assert.Equal(t, int64(4), it.Outcomes[metrics.OK])
		assert.Equal(t, int64(2), it.Outcomes[metrics.Interrupted])
	})
}

func TestConstantRateIntendedTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var intended []time.Time
		start := time.Now()
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "o", Executor: ConstantRate{Rate: 100, Duration: 10 * time.Second, PreAllocatedVUs: 2, MaxVUs: 10},
			Iteration: func(ctx context.Context, it *Iteration) error {
				mu.Lock()
				intended = append(intended, it.Intended)
				mu.Unlock()
				time.Sleep(15 * time.Millisecond)
				return nil
			},
		}}})
		it := res.Iterations("o")
		assert.Equal(t, int64(1000), it.Count())
		assert.Zero(t, it.Outcomes[metrics.Dropped])
		require.Len(t, intended, 1000)
		for i, at := range intended {
			require.Equal(t, time.Duration(i)*10*time.Millisecond, at.Sub(start), "arrival %d", i)
		}
		lag := res.Metrics.SeriesOf(metrics.Key{Scenario: "o", Kind: metrics.KindScheduleLag}).Total
		assert.Equal(t, int64(1000), lag.Count())
		assert.Zero(t, lag.Latency.Max, "a fake clock never wakes late")
		assert.Equal(t, 15*time.Millisecond, it.Quantile(0.99))
	})
}

func TestOpenModelCountsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "o", Executor: ConstantRate{Rate: 10, Duration: 2 * time.Second, MaxVUs: 2},
			Iteration: sleepIter(950 * time.Millisecond),
		}}})
		it := res.Iterations("o")
		// Arrivals every 100 ms; each VU is busy 950 ms: arrivals at 0, .1, 1.0, 1.1 run.
		assert.Equal(t, int64(4), it.Count())
		assert.Equal(t, int64(16), it.Outcomes[metrics.Dropped])
		assert.Equal(t, int64(20), it.Count()+it.Outcomes[metrics.Dropped], "scheduled = started + dropped")
	})
}

// TestCoordinatedOmission stalls the "target" for one second in a 10 s run
// at 1000/s. The ~1000 arrivals due during the stall wait 0–1 s; latency
// from the intended start must show them: p95 ≈ 0.5 s, p99 ≈ 0.9 s.
func TestCoordinatedOmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		stallFrom, stallTo := start.Add(5*time.Second), start.Add(6*time.Second)
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "o", Executor: ConstantRate{Rate: 1000, Duration: 10 * time.Second, PreAllocatedVUs: 10, MaxVUs: 2000},
			Iteration: func(ctx context.Context, it *Iteration) error {
				if now := time.Now(); !now.Before(stallFrom) && now.Before(stallTo) {
					time.Sleep(stallTo.Sub(now))
				}
				return nil
			},
		}}})
		it := res.Iterations("o")
		assert.Equal(t, int64(10000), it.Count())
		assert.Zero(t, it.Outcomes[metrics.Dropped])
		// 9000 iterations take 0; 1000 wait 1 ms … 1000 ms.
		assert.InDelta(t, float64(500*time.Millisecond), float64(it.Quantile(0.95)), float64(time.Millisecond))
		assert.InDelta(t, float64(900*time.Millisecond), float64(it.Quantile(0.99)), float64(time.Millisecond))
		assert.Equal(t, time.Second, it.Latency.Max)
	})
}

// TestGeneratorStallDropsInsteadOfHiding: with one VU, arrivals due while it
// is stuck are counted as dropped, never silently skipped.
func TestGeneratorStallDropsInsteadOfHiding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int64
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "o", Executor: ConstantRate{Rate: 1000, Duration: 3 * time.Second, MaxVUs: 1},
			Iteration: func(ctx context.Context, it *Iteration) error {
				if n.Add(1) == 1000 { // due at 0.999 s; busy until 1.9995 s
					time.Sleep(time.Second + 500*time.Microsecond)
				}
				return nil
			},
		}}})
		it := res.Iterations("o")
		assert.Equal(t, int64(3000), it.Count()+it.Outcomes[metrics.Dropped])
		assert.Equal(t, int64(1000), it.Outcomes[metrics.Dropped], "arrivals due at 1.000 … 1.999 s")
	})
}

func TestRampingRateArrivals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "r", Executor: RampingRate{StartRate: 0, Stages: []Stage{{10 * time.Second, 100}, {5 * time.Second, 100}}, MaxVUs: 5},
			Iteration: noop,
		}}})
		// ∫ rate: 0→100/s over 10 s is 500, then 100/s for 5 s is 500.
		it := res.Iterations("r")
		assert.Equal(t, int64(1000), it.Count())
		series := res.Metrics.SeriesOf(metrics.Key{Scenario: "r", Kind: metrics.KindIteration}).Points
		// In the ramp, second k holds ∫_k^{k+1} 10t dt = 10k + 5 arrivals.
		for k := range 10 {
			assert.InDelta(t, 10*k+5, series[k].Count(), 1, "second %d", k)
		}
	})
}

func TestPoissonArrivals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "p", Executor: ConstantRate{Rate: 200, Duration: 20 * time.Second, MaxVUs: 5, Arrivals: Poisson},
			Iteration: noop,
		}}})
		// Poisson with mean 4000: σ ≈ 63; 4σ bounds a fixed-seed draw safely.
		n := res.Iterations("p").Count()
		assert.InDelta(t, 4000, n, 250)
		// Per-second counts of a Poisson process vary about as much as their
		// mean (200); evenly spaced arrivals would give 200 every second.
		var sum, sq float64
		for _, p := range res.Metrics.Series[0].Points[:20] {
			c := float64(p.Count())
			sum, sq = sum+c, sq+c*c
		}
		mean := sum / 20
		variance := sq/20 - mean*mean
		assert.Greater(t, variance, 50.0)
		assert.Less(t, variance, 800.0)
	})
}

func TestWarmupLeftOutOfTotals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Warmup: 2 * time.Second, Scenarios: []Scenario{{
			// 50 ms iterations end between interval boundaries.
			Name: "o", Executor: ConstantRate{Rate: 10, Duration: 5 * time.Second, MaxVUs: 2}, Iteration: sleepIter(50 * time.Millisecond),
		}}})
		m := res.Metrics.SeriesOf(metrics.Key{Scenario: "o", Kind: metrics.KindIteration})
		assert.Equal(t, int64(30), m.Total.Count())
		var all int64
		for _, p := range m.Points {
			all += p.Count()
		}
		assert.Equal(t, int64(50), all)
		assert.Equal(t, res.Start.Add(2*time.Second), res.Metrics.WarmupEnd())
	})
}

func TestCancellationReturnsPartialResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(2*time.Second, func() { cancel(errors.New("operator pressed ctrl-c")) })
		res, err := Run(ctx, &Plan{Scenarios: []Scenario{{
			Name: "c", Executor: ConstantVUs{VUs: 4, Duration: time.Minute}, GracefulStop: time.Second,
			Iteration: sleepIter(5 * time.Second),
		}}})
		require.EqualError(t, err, "operator pressed ctrl-c")
		require.NotNil(t, res)
		assert.True(t, res.Interrupted)
		assert.Equal(t, "operator pressed ctrl-c", res.Cause)
		assert.Equal(t, int64(4), res.Iterations("c").Outcomes[metrics.Interrupted])
		assert.Equal(t, 3*time.Second, res.Duration())
		checkAccounting(t, res)
	})
}

// TestHardStopEndsTheGracefulStop: a second signal (the hard context of
// WithHardStop) interrupts iterations still in the graceful stop at once;
// a hard stop alone stops the run too.
func TestHardStopEndsTheGracefulStop(t *testing.T) {
	plan := &Plan{Scenarios: []Scenario{{
		Name: "c", Executor: ConstantVUs{VUs: 3, Duration: time.Minute}, GracefulStop: 30 * time.Second,
		Iteration: sleepIter(time.Hour),
	}}}
	synctest.Test(t, func(t *testing.T) {
		graceful, stop := context.WithCancelCause(t.Context())
		hard, stopNow := context.WithCancelCause(t.Context())
		time.AfterFunc(2*time.Second, func() { stop(errors.New("first ctrl-c")) })
		time.AfterFunc(5*time.Second, func() { stopNow(errors.New("second ctrl-c")) })
		res, err := Run(WithHardStop(graceful, hard), plan)
		require.EqualError(t, err, "first ctrl-c")
		assert.Equal(t, 5*time.Second, res.Duration(), "the hard stop, not 2s + 30s")
		assert.Equal(t, int64(3), res.Iterations("c").Outcomes[metrics.Interrupted])
		checkAccounting(t, res)
	})
	synctest.Test(t, func(t *testing.T) {
		hard, stopNow := context.WithCancelCause(t.Context())
		time.AfterFunc(time.Second, func() { stopNow(errors.New("kill")) })
		res, err := Run(WithHardStop(t.Context(), hard), plan)
		require.EqualError(t, err, "kill")
		assert.True(t, res.Interrupted)
		assert.Equal(t, "kill", res.Cause)
		assert.Equal(t, time.Second, res.Duration())
	})
}

func TestAbortWhen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen []int
		var final *Progress
		res, err := Run(t.Context(), &Plan{
			Scenarios: []Scenario{{Name: "c", Executor: ConstantVUs{VUs: 2, Duration: time.Minute, Stagger: -1}, Iteration: func(ctx context.Context, it *Iteration) error {
				time.Sleep(90 * time.Millisecond) // off the interval boundaries
				return metrics.WithOutcome(errors.New("503"), metrics.HTTP5xx)
			}}},
			OnInterval: func(p *Progress) {
				seen = append(seen, p.Interval)
				if p.Final {
					final = p
				}
			},
			AbortWhen: func(p *Progress) string {
				if it := p.Scenarios[0].Iterations.Total; it.Count() >= 40 && it.ErrorRate() > 0.5 {
					return fmt.Sprintf("error rate %.0f%%", 100*it.ErrorRate())
				}
				return ""
			},
		})
		require.ErrorIs(t, err, ErrAborted)
		assert.EqualError(t, err, "loadgen: run aborted: error rate 100%")
		assert.True(t, res.Aborted)
		// 22 failures per VU by 2 s: abort then; the iterations begun at
		// 1.98 s end at 2.07 s, within the graceful stop.
		assert.Equal(t, 2070*time.Millisecond, res.Duration())
		assert.Equal(t, []int{0, 1, 2}, seen, "each interval once, then the final (partial) one")
		assert.Equal(t, int64(46), res.Iterations("c").Outcomes[metrics.HTTP5xx])
		require.NotNil(t, final, "a final progress after the run")
		assert.Equal(t, res.Iterations("c").Outcomes, final.Scenarios[0].Iterations.All.Outcomes, "the final progress holds every count")
		checkAccounting(t, res)
	})
}

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

func TestPanicIsCountedAndRunGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Scenarios: []Scenario{{
			Name: "p", Executor: PerVUIterations{VUs: 2, Iterations: 50},
			Iteration: func(ctx context.Context, it *Iteration) error {
				if it.Number%10 == 9 {
					panic("boom")
				}
				return nil
			},
		}}})
		it := res.Iterations("p")
		assert.Equal(t, int64(100), it.Count())
		assert.Equal(t, int64(10), it.Outcomes[metrics.Panic])
		require.Len(t, res.Panics, 1, "one panic, kept once with its count")
		assert.Equal(t, PanicSample{Scenario: "p", Where: "iteration", Value: "boom", Stack: res.Panics[0].Stack, Count: 10}, res.Panics[0])
		assert.Contains(t, res.Panics[0].Stack, "loadgen_test.go")
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

func TestEventsAndGauges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var firedAt time.Duration
		res := run(t, &Plan{
			Scenarios: []Scenario{{Name: "c", Executor: ConstantVUs{VUs: 1, Duration: 3 * time.Second}, Iteration: sleepIter(900 * time.Millisecond)}},
			Events: []Event{
				At(1500*time.Millisecond, "kill primary", func(ctx context.Context) error {
					firedAt = time.Since(start)
					return errors.New("node already gone")
				}),
				At(2*time.Second, "explode", func(ctx context.Context) error { panic("event exploded") }),
			},
			Gauges: []Gauge{
				{Name: "elapsed", Sample: func() float64 { return time.Since(start).Seconds() }},
				{Name: "broken", Sample: func() float64 { panic("no") }},
			},
		})
		assert.Equal(t, 1500*time.Millisecond, firedAt)
		require.Len(t, res.Events, 2)
		assert.Equal(t, "kill primary", res.Events[0].Name)
		assert.Equal(t, start.Add(1500*time.Millisecond), res.Events[0].At)
		assert.Equal(t, "node already gone", res.Events[0].Error)
		assert.Equal(t, "panic: event exploded", res.Events[1].Error)
		// Panics of gauges and events are kept with their stacks and counted:
		// the broken gauge was sampled at 1, 2 and 3 s.
		require.Len(t, res.Panics, 2)
		assert.Equal(t, "gauge broken", res.Panics[0].Where)
		assert.Equal(t, int64(3), res.Panics[0].Count)
		assert.Equal(t, "event explode", res.Panics[1].Where)
		assert.Contains(t, res.Panics[1].Stack, "loadgen_test.go")
		g := res.Metrics.Gauge("elapsed")
		require.NotNil(t, g)
		// Sampled at 1, 2 and 3 s; the last iteration ends at 3.6 s, in a
		// fourth, partial interval with no sample.
		require.Len(t, g.Points, 4)
		assert.Equal(t, []float64{1, 2, 3}, []float64{g.Points[0].Mean(), g.Points[1].Mean(), g.Points[2].Mean()})
		assert.Zero(t, g.Points[3].N)
		assert.Nil(t, res.Metrics.Gauge("broken"), "a panicking gauge records nothing")
		vus := res.Metrics.SeriesOf(metrics.Key{Scenario: "c", Kind: metrics.KindIteration}).Points
		assert.Equal(t, int64(1), vus[0].VUs)
	})
}

// TestInstanceGauges: a scenario's own gauges are sampled as the plan's
// are, and their names are checked against the plan's and each other's.
func TestInstanceGauges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var open, torn atomic.Int64
		setup := func(name string) func(context.Context, *Env) (Instance, error) {
			return func(context.Context, *Env) (Instance, error) {
				return Instance{
					Iteration: func(ctx context.Context, it *Iteration) error {
						open.Add(1)
						time.Sleep(1400 * time.Millisecond)
						return nil
					},
					Gauges:   []Gauge{{Name: name, Sample: func() float64 { return float64(open.Load()) }}},
					Teardown: func() { torn.Add(1) },
				}, nil
			}
		}
		var live []string
		res := run(t, &Plan{
			Scenarios:  []Scenario{{Name: "c", Executor: PerVUIterations{VUs: 1, Iterations: 2}, Setup: setup("c.open")}},
			OnInterval: func(p *Progress) { live = append(live, p.Gauges[0].Name) },
		})
		assert.Equal(t, []string{"c.open", "c.open", "c.open"}, live, "the live exports see them too: at 1 s, 2 s and the end (2.8 s)")
		g := res.Metrics.Gauge("c.open")
		require.NotNil(t, g)
		// Iterations start at 0 and 1.4 s: sampled at 1 and 2 s.
		assert.Equal(t, []float64{1, 2}, []float64{g.Points[0].Mean(), g.Points[1].Mean()})

		_, err := Run(t.Context(), &Plan{
			Gauges: []Gauge{{Name: "open", Sample: func() float64 { return 0 }}},
			Scenarios: []Scenario{
				{Name: "a", Executor: PerVUIterations{VUs: 1, Iterations: 1}, Setup: setup("open")},
				{Name: "b", Executor: PerVUIterations{VUs: 1, Iterations: 1}, Setup: setup("generator.x")},
			}})
		assert.ErrorContains(t, err, `scenario "a": Setup: Instance.Gauges[0].Name must be unique in the plan, "open" is used twice`)
		assert.Equal(t, int64(2), torn.Load(), "the instance refused is torn down too")
		_, err = Run(t.Context(), &Plan{Scenarios: []Scenario{
			{Name: "b", Executor: PerVUIterations{VUs: 1, Iterations: 1}, Setup: setup("generator.x")}}})
		assert.ErrorContains(t, err, `Instance.Gauges[0].Name must not start with "generator."`)
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

func TestStartAfterAndStartAt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Now().Add(5 * time.Second)
		var first time.Time
		res := run(t, &Plan{StartAt: at, Scenarios: []Scenario{{
			Name: "c", StartAfter: time.Second, Executor: PerVUIterations{VUs: 1, Iterations: 1},
			Iteration: func(ctx context.Context, it *Iteration) error { first = time.Now(); return nil },
		}}})
		assert.Equal(t, at, res.Start)
		assert.Equal(t, at.Add(time.Second), first)
		assert.Zero(t, res.StartLate)

		late := run(t, &Plan{StartAt: time.Now().Add(-300 * time.Millisecond), Scenarios: []Scenario{{
			Name: "c", Executor: PerVUIterations{VUs: 1, Iterations: 1}, Iteration: noop,
		}}})
		assert.Equal(t, 300*time.Millisecond, late.StartLate)
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

func TestSegmentShares(t *testing.T) {
	for _, tc := range []struct{ n, count int }{{7, 3}, {1000, 6}, {1, 4}, {0, 5}, {13, 13}, {5, 8}} {
		sum := 0
		for i := range tc.count {
			sum += Segment{Index: i, Count: tc.count}.Share(tc.n)
		}
		assert.Equal(t, tc.n, sum, "%d over %d", tc.n, tc.count)
	}
	// Ramp stages over 4 segments: the shares sum to the whole at every ms.
	stages := []Stage{{3 * time.Second, 17}, {2 * time.Second, 5}, {time.Second, 0}}
	for at := time.Duration(0); at < 6*time.Second; at += time.Millisecond {
		whole, _ := rampAt(3, stages, at)
		sum := 0
		for i := range 4 {
			sum += Segment{Index: i, Count: 4}.Share(whole)
		}
		require.Equal(t, whole, sum, "at %v", at)
	}
}

// TestSegmentsMergeToTheWhole runs a plan whole and as three segments and
// checks that the merged segments hold exactly the whole run's counts.
func TestSegmentsMergeToTheWhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plan := func(seg Segment) *Plan {
			return &Plan{Segment: seg, StartAt: time.Now().Add(time.Second), Scenarios: []Scenario{
				{Name: "shared", Executor: SharedIterations{VUs: 7, Iterations: 100}, Iteration: sleepIter(time.Millisecond)},
				{Name: "rate", Executor: ConstantRate{Rate: 1000, Duration: 2 * time.Second, MaxVUs: 7}, Iteration: sleepIter(time.Millisecond)},
				{Name: "per-vu", Executor: PerVUIterations{VUs: 7, Iterations: 3}, Iteration: noop},
			}}
		}
		whole := run(t, plan(Segment{}))
		var parts []*Result
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				r := run(t, plan(Segment{Index: i, Count: 3}))
				mu.Lock()
				parts = append(parts, r)
				mu.Unlock()
			})
		}
		wg.Wait()
		merged, err := Merge(parts...)
		require.NoError(t, err)
		for _, sc := range []string{"shared", "rate", "per-vu"} {
			assert.Equal(t, whole.Iterations(sc).Outcomes, merged.Iterations(sc).Outcomes, sc)
		}
		assert.Equal(t, int64(100), merged.Iterations("shared").Count())
		assert.Equal(t, int64(2000), merged.Iterations("rate").Count())
		assert.Equal(t, int64(21), merged.Iterations("per-vu").Count())

		_, err = Merge(parts[0], parts[1])
		assert.EqualError(t, err, "loadgen: results are segments of 3, got 2 results")
		_, err = Merge(parts[0], parts[0], parts[1])
		assert.ErrorContains(t, err, "appears twice")
		other := run(t, plan(Segment{Index: 2, Count: 3}))
		other.Plan.Name = "another plan"
		_, err = Merge(parts[0], parts[1], other)
		assert.ErrorContains(t, err, "ran a different plan")
	})
}

func TestResultJSONRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{Name: "rt", Scenarios: []Scenario{{
			Name: "o", Executor: ConstantRate{Rate: 50, Duration: 2 * time.Second, MaxVUs: 1},
			Iteration: func(ctx context.Context, it *Iteration) error {
				if it.Number%7 == 0 {
					return errors.New("odd failure")
				}
				return nil
			},
		}}, Events: []Event{At(time.Second, "mark", nil)}})
		var buf bytes.Buffer
		require.NoError(t, res.WriteJSON(&buf))
		back, err := ReadResult(bytes.NewReader(buf.Bytes()))
		require.NoError(t, err)
		var buf2 bytes.Buffer
		require.NoError(t, back.WriteJSON(&buf2))
		assert.Equal(t, buf.String(), buf2.String())
		assert.Equal(t, res.Iterations("o").Outcomes, back.Iterations("o").Outcomes)
		assert.Equal(t, "constant-rate", back.Plan.Scenarios[0].Executor)

		_, err = ReadResult(strings.NewReader(`{"version":6}`))
		assert.ErrorIs(t, err, ErrResultVersion)
		_, err = ReadResult(strings.NewReader(`{"version":5}`))
		assert.ErrorContains(t, err, "no metrics")
	})
}

// TestStoredResults reads the result files kept in testdata, one or more
// per format version: every one loads and keeps the accounting; a file of
// the current version re-encodes to the same bytes; one of versions 2 to 4
// is written as the current version, which reads back to the same
// figures, point by point (a version-2 file has no generator health, and
// says none); a version-1 file is written back as the current version,
// saying that its latencies include failures.
func TestStoredResults(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "results", "*.json"))
	require.NoError(t, err)
	versions := map[int]int{}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			var head struct{ Version int }
			require.NoError(t, json.Unmarshal(raw, &head))
			versions[head.Version]++
			res, err := ReadResult(bytes.NewReader(raw))
			require.NoError(t, err)
			assert.Equal(t, ResultVersion, res.Version)
			checkAccounting(t, res)
			name := res.Plan.Scenarios[0].Name
			assert.Positive(t, res.Iterations(name).Count())
			var buf bytes.Buffer
			require.NoError(t, res.WriteJSON(&buf))
			switch head.Version {
			case ResultVersion:
				assert.Equal(t, string(raw), buf.String(), "decode → encode gives the stored bytes")
				assert.False(t, res.Metrics.LatencyIncludesFailures)
			case 2, 3, 4:
				back, err := ReadResult(bytes.NewReader(buf.Bytes()))
				require.NoError(t, err)
				require.Len(t, back.Metrics.Series, len(res.Metrics.Series))
				for i, m := range res.Metrics.Series {
					b := back.Metrics.Series[i]
					assert.Equal(t, m.Key, b.Key)
					assert.Equal(t, m.Total.Outcomes, b.Total.Outcomes)
					require.Len(t, b.Points, len(m.Points))
					for j, p := range m.Points {
						q := b.Points[j]
						assert.True(t, p.Start.Equal(q.Start))
						assert.Equal(t, p.Outcomes, q.Outcomes)
						assert.Equal(t, p.Status, q.Status)
						assert.True(t, p.Latency.Hist.Equal(&q.Latency.Hist) && p.Failed.Hist.Equal(&q.Failed.Hist), "%v point %d", m.Key, j)
						assert.Equal(t, []any{p.Latency.Min, p.Latency.Max, p.Latency.Sum, p.Failed.Sum, p.BytesReceived, p.VUs},
							[]any{q.Latency.Min, q.Latency.Max, q.Latency.Sum, q.Failed.Sum, q.BytesReceived, q.VUs})
					}
				}
				if head.Version == 2 {
					assert.Empty(t, res.Generators, "a version-2 file did not record the generator")
				}
			case 1:
				assert.True(t, res.Metrics.LatencyIncludesFailures)
				back, err := ReadResult(&buf)
				require.NoError(t, err)
				assert.Equal(t, res.Iterations(name).Outcomes, back.Iterations(name).Outcomes)
				assert.True(t, back.Metrics.LatencyIncludesFailures, "a re-saved version-1 result still says so")
			default:
				t.Fatalf("no expectations for format version %d", head.Version)
			}
		})
	}
	assert.Positive(t, versions[1], "a version-1 file is kept")
	assert.Positive(t, versions[2], "a version-2 file is kept")
	assert.Positive(t, versions[3], "a version-3 file is kept")
	assert.Positive(t, versions[4], "a version-4 file is kept")
	assert.Positive(t, versions[ResultVersion], "a file of the current version is kept")
}

func TestValidateErrors(t *testing.T) {
	it := noop
	sc := func(x Executor) []Scenario { return []Scenario{{Name: "s", Executor: x, Iteration: it}} }
	cases := []struct {
		name string
		plan Plan
		want string
	}{
		{"no scenarios", Plan{}, "Plan.Scenarios must have at least one scenario, got none"},
		{"negative VUs", Plan{Scenarios: sc(ConstantVUs{VUs: -1, Duration: time.Second})}, `scenario "s": ConstantVUs.VUs must be between 1 and 100000 (VULimit), got -1`},
		{"zero duration", Plan{Scenarios: sc(ConstantVUs{VUs: 1})}, `scenario "s": ConstantVUs.Duration must be > 0 and <= 720h0m0s (DurationLimit), got 0s`},
		{"rate without duration", Plan{Scenarios: sc(ConstantRate{Rate: 10, MaxVUs: 1})}, "ConstantRate.Duration must be > 0 and <= 720h0m0s (DurationLimit), got 0s"},
		{"zero rate", Plan{Scenarios: sc(ConstantRate{Duration: time.Second, MaxVUs: 1})}, "ConstantRate.Rate must be between 1 and 1000000 per second (RateLimit), got 0 per 1s"},
		{"negative per", Plan{Scenarios: sc(ConstantRate{Rate: 1, Per: -time.Second, Duration: time.Second, MaxVUs: 1})}, "ConstantRate.Per must be 0 (one second) or between 1ms and 720h0m0s, got -1s"},
		{"max below pre", Plan{Scenarios: sc(ConstantRate{Rate: 1, Duration: time.Second, PreAllocatedVUs: 5, MaxVUs: 2})}, "ConstantRate.MaxVUs must be 0 (same as PreAllocatedVUs) or >= PreAllocatedVUs (5), got 2"},
		{"no VUs at all", Plan{Scenarios: sc(ConstantRate{Rate: 1, Duration: time.Second})}, "ConstantRate.MaxVUs must be > 0 (or PreAllocatedVUs > 0), got 0"},
		{"negative pre", Plan{Scenarios: sc(ConstantRate{Rate: 1, Duration: time.Second, PreAllocatedVUs: -1, MaxVUs: 1})}, "ConstantRate.PreAllocatedVUs must be between 0 and 100000 (VULimit), got -1"},
		{"bad arrivals", Plan{Scenarios: sc(ConstantRate{Rate: 1, Duration: time.Second, MaxVUs: 1, Arrivals: 7})}, "ConstantRate.Arrivals must be Even or Poisson, got arrivals(7)"},
		{"empty stages", Plan{Scenarios: sc(RampingVUs{})}, "RampingVUs.Stages must be non-empty, got none"},
		{"negative stage target", Plan{Scenarios: sc(RampingVUs{Stages: []Stage{{time.Second, -3}}})}, "RampingVUs.Stages[0].Target must be between 0 and 100000 (VULimit), got -3"},
		{"zero stage duration", Plan{Scenarios: sc(RampingRate{MaxVUs: 1, Stages: []Stage{{time.Second, 3}, {0, 1}}})}, "RampingRate.Stages[1].Duration must be > 0 and <= 720h0m0s, got 0s"},
		{"negative ramp-down", Plan{Scenarios: sc(RampingVUs{Stages: []Stage{{time.Second, 1}}, GracefulRampDown: -1})}, "RampingVUs.GracefulRampDown must be >= 0, got -1ns"},
		{"negative start VUs", Plan{Scenarios: sc(RampingVUs{StartVUs: -2, Stages: []Stage{{time.Second, 1}}})}, "RampingVUs.StartVUs must be between 0 and 100000 (VULimit), got -2"},
		{"negative start rate", Plan{Scenarios: sc(RampingRate{StartRate: -2, MaxVUs: 1, Stages: []Stage{{time.Second, 1}}})}, "RampingRate.StartRate must be between 0 and 1000000 per second (RateLimit), got -2 per 1s"},
		{"zero per-VU iterations", Plan{Scenarios: sc(PerVUIterations{VUs: 1})}, "PerVUIterations.Iterations must be > 0, got 0"},
		{"negative max duration", Plan{Scenarios: sc(PerVUIterations{VUs: 1, Iterations: 1, MaxDuration: -time.Second})}, "PerVUIterations.MaxDuration must be between 0 (10m) and 720h0m0s, got -1s"},
		{"shared below VUs", Plan{Scenarios: sc(SharedIterations{VUs: 5, Iterations: 3})}, "SharedIterations.Iterations must be >= VUs (5), got 3"},
		{"duplicate names", Plan{Scenarios: append(sc(ConstantVUs{VUs: 1, Duration: time.Second}), sc(ConstantVUs{VUs: 1, Duration: time.Second})...)}, `scenario "s": Name must be unique, "s" is used twice`},
		{"empty name", Plan{Scenarios: []Scenario{{Executor: ConstantVUs{VUs: 1, Duration: time.Second}, Iteration: it}}}, "Plan.Scenarios[0].Name must be non-empty"},
		{"nil executor", Plan{Scenarios: []Scenario{{Name: "s", Iteration: it}}}, `scenario "s": Executor must be set`},
		{"nil iteration", Plan{Scenarios: []Scenario{{Name: "s", Executor: ConstantVUs{VUs: 1, Duration: time.Second}}}}, `scenario "s": exactly one of Iteration and Setup must be set`},
		{"negative start after", Plan{Scenarios: []Scenario{{Name: "s", StartAfter: -1, Executor: ConstantVUs{VUs: 1, Duration: time.Second}, Iteration: it}}}, `scenario "s": StartAfter must be between 0 and 720h0m0s, got -1ns`},
		{"negative graceful stop", Plan{Scenarios: []Scenario{{Name: "s", GracefulStop: -time.Second, Executor: ConstantVUs{VUs: 1, Duration: time.Second}, Iteration: it}}}, `scenario "s": GracefulStop must be between 0 (30s) and 720h0m0s, got -1s`},
		{"warmup not whole intervals", Plan{Warmup: 1500 * time.Millisecond, Scenarios: sc(ConstantVUs{VUs: 1, Duration: time.Minute})}, "Plan.Warmup must be >= 0 and a whole number of intervals (1s), got 1.5s"},
		{"warmup longer than run", Plan{Warmup: time.Minute, Scenarios: sc(ConstantVUs{VUs: 1, Duration: time.Second})}, `Plan.Warmup (1m0s) must end before scenario "s" does (1s)`},
		{"tiny interval", Plan{Interval: time.Microsecond, Scenarios: sc(ConstantVUs{VUs: 1, Duration: time.Second})}, "Plan.Interval must be 0 (one second) or >= 1ms, got 1µs"},
		{"bad segment", Plan{Segment: Segment{Index: 3, Count: 3}, Scenarios: sc(ConstantVUs{VUs: 1, Duration: time.Second})}, "Segment.Index must be in [0, 3), got 3"},
		{"gauge without sample", Plan{Gauges: []Gauge{{Name: "heap"}}, Scenarios: sc(ConstantVUs{VUs: 1, Duration: time.Second})}, `Plan.Gauges[0] ("heap"): Sample must be set`},
		// Limits: values no real test needs are refused before they exhaust the machine.
		{"a million VUs", Plan{Scenarios: sc(ConstantVUs{VUs: 1_000_000, Duration: time.Second})}, "ConstantVUs.VUs must be between 1 and 100000 (VULimit), got 1000000"},
		{"a rate per nanosecond", Plan{Scenarios: sc(ConstantRate{Rate: 1, Per: time.Nanosecond, Duration: time.Second, MaxVUs: 1})}, "ConstantRate.Per must be 0 (one second) or between 1ms and 720h0m0s, got 1ns"},
		{"a rate above the limit", Plan{Scenarios: sc(ConstantRate{Rate: 2000, Per: time.Millisecond, Duration: time.Second, MaxVUs: 1})}, "ConstantRate.Rate must be between 1 and 1000000 per second (RateLimit), got 2000 per 1ms"},
		{"a ramp to a million VUs", Plan{Scenarios: sc(RampingVUs{Stages: []Stage{{time.Second, 1_000_000}}})}, "RampingVUs.Stages[0].Target must be between 0 and 100000 (VULimit), got 1000000"},
		{"stages that overflow", Plan{Scenarios: sc(RampingVUs{Stages: []Stage{{math.MaxInt64 / 2, 1}, {math.MaxInt64 / 2, 1}, {math.MaxInt64 / 2, 1}}})}, "RampingVUs.Stages[0].Duration must be > 0 and <= 720h0m0s"},
		{"start after plus duration", Plan{Scenarios: []Scenario{{Name: "s", StartAfter: 700 * time.Hour, Executor: ConstantVUs{VUs: 1, Duration: 30 * time.Hour}, Iteration: it}}}, `scenario "s": StartAfter + the executor's duration must be <= 720h0m0s (DurationLimit), got 730h0m0s`},
		{"too many intervals", Plan{Interval: time.Millisecond, Scenarios: sc(ConstantVUs{VUs: 1, Duration: time.Hour})}, `Plan.Interval (1ms) gives scenario "s" 3630000 intervals with its graceful stop; at most 604800 are kept: choose a longer Interval`},
		{"typed nil executor", Plan{Scenarios: []Scenario{{Name: "s", Executor: (*ConstantVUs)(nil), Iteration: it}}}, `scenario "s": Executor must be set, got a nil *loadgen.ConstantVUs`},
		{"event after the end", Plan{Events: []Event{{Name: "x", At: 2 * time.Second}}, Scenarios: sc(ConstantVUs{VUs: 1, Duration: time.Second})}, `Plan.Events[0] ("x"): At must be >= 0 and before the plan ends (1s), got 2s`},
		{"event before start", Plan{Events: []Event{{Name: "x", At: -time.Second}}, Scenarios: sc(ConstantVUs{VUs: 1, Duration: time.Second})}, `Plan.Events[0] ("x"): At must be >= 0 and before the plan ends (1s), got -1s`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.plan.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "loadgen: "), err.Error())
			_, runErr := Run(t.Context(), &tc.plan)
			assert.Equal(t, err.Error(), runErr.Error(), "Run validates first")
		})
	}
	// Every problem at once.
	err := (&Plan{Scenarios: sc(ConstantRate{Rate: -1, Duration: -1, MaxVUs: -1})}).Validate()
	assert.Len(t, unjoin(err), 3)
}

func TestIterationSeesRunContextValues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type key struct{}
		ctx := context.WithValue(t.Context(), key{}, "v")
		var got any
		_, err := Run(ctx, &Plan{Scenarios: []Scenario{{Name: "s", Executor: PerVUIterations{VUs: 1, Iterations: 1},
			Iteration: func(ctx context.Context, it *Iteration) error { got = ctx.Value(key{}); return nil }}}})
		require.NoError(t, err)
		assert.Equal(t, "v", got)
	})
}

// TestRealTimeOpenModel runs a short open model on the real clock, with the
// precise scheduler, and checks the accounting.
func TestRealTimeOpenModel(t *testing.T) {
	res, err := Run(t.Context(), &Plan{Scenarios: []Scenario{{
		Name: "o", Executor: ConstantRate{Rate: 2000, Duration: 300 * time.Millisecond, PreAllocatedVUs: 4, MaxVUs: 50},
		Iteration: noop,
	}}})
	require.NoError(t, err)
	it := res.Iterations("o")
	assert.Equal(t, int64(600), it.Count()+it.Outcomes[metrics.Dropped], "scheduled = started + dropped")
	lag := res.Metrics.SeriesOf(metrics.Key{Scenario: "o", Kind: metrics.KindScheduleLag}).Total
	assert.Equal(t, it.Count(), lag.Count(), "one lag per started iteration")
	checkAccounting(t, res)
}

func TestStopScenarioAndTeardown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		torn := 0
		sc := Scenario{
			Name: "s", Executor: ConstantVUs{VUs: 2, Duration: time.Hour},
			Setup: func(ctx context.Context, env *Env) (Instance, error) {
				var n atomic.Int64 // per run
				assert.Equal(t, 2, env.MaxVUs)
				return Instance{
					Iteration: func(ctx context.Context, it *Iteration) error {
						if n.Add(1) > 10 {
							return fmt.Errorf("no rows left: %w", ErrStopScenario)
						}
						time.Sleep(time.Millisecond)
						return nil
					},
					Teardown: func() { torn++ },
				}, nil
			},
		}
		plan := &Plan{Scenarios: []Scenario{sc}}
		for i := range 3 { // a plan runs again with fresh state
			res := run(t, plan)
			assert.Equal(t, int64(10), res.Iterations("s").Count(), "the stopping iterations are not counted")
			assert.Less(t, res.Duration(), time.Second)
			assert.Equal(t, i+1, torn)
		}
	})
}

// TestSetupAndTeardownPanics: a panic in Setup stops Run with an error
// before any load, and the scenarios set up before it are torn down; a
// panic in Teardown is kept in the Result.
func TestSetupAndTeardownPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		torn := false
		good := Scenario{Name: "good", Executor: ConstantVUs{VUs: 1, Duration: time.Second},
			Setup: func(context.Context, *Env) (Instance, error) {
				return Instance{Iteration: sleepIter(100 * time.Millisecond), Teardown: func() { torn = true }}, nil
			}}
		bad := Scenario{Name: "bad", Executor: ConstantVUs{VUs: 1, Duration: time.Second},
			Setup: func(context.Context, *Env) (Instance, error) { panic("setup exploded") }}
		res, err := Run(t.Context(), &Plan{Scenarios: []Scenario{good, bad}})
		assert.Nil(t, res)
		assert.ErrorContains(t, err, `scenario "bad": Setup: panic: setup exploded`)
		assert.True(t, torn, "the scenario set up before is torn down")

		none := Scenario{Name: "none", Executor: ConstantVUs{VUs: 1, Duration: time.Second},
			Setup: func(context.Context, *Env) (Instance, error) { return Instance{}, nil }}
		_, err = Run(t.Context(), &Plan{Scenarios: []Scenario{none}})
		assert.ErrorContains(t, err, "has no Iteration")

		tear := Scenario{Name: "tear", Executor: ConstantVUs{VUs: 1, Duration: time.Second},
			Setup: func(context.Context, *Env) (Instance, error) {
				return Instance{Iteration: sleepIter(100 * time.Millisecond), Teardown: func() { panic("teardown exploded") }}, nil
			}}
		res, err = Run(t.Context(), &Plan{Scenarios: []Scenario{tear}})
		require.NoError(t, err)
		require.Len(t, res.Panics, 1)
		assert.Equal(t, "teardown exploded", res.Panics[0].Value)
		assert.Equal(t, "tear", res.Panics[0].Scenario)
		assert.Equal(t, "teardown", res.Panics[0].Where)
	})
}

func TestMaxVUs(t *testing.T) {
	assert.Equal(t, 7, MaxVUs(RampingVUs{StartVUs: 2, Stages: []Stage{{time.Second, 7}, {time.Second, 3}}}))
	assert.Equal(t, 9, MaxVUs(&ConstantRate{PreAllocatedVUs: 9}))
	assert.Equal(t, 4, MaxVUs(SharedIterations{VUs: 4}))
}

// TestConstantRateCountIsExact: rate × duration arrivals, never one more
// from floating-point rounding, over many rate and duration pairs.
func TestConstantRateCountIsExact(t *testing.T) {
	for rate := 1; rate <= 120; rate += 7 {
		for _, d := range []time.Duration{time.Second, 7 * time.Second, time.Minute, 333 * time.Millisecond} {
			for _, per := range []time.Duration{time.Second, time.Minute} {
				a := newArrivals(rateRamp{start: float64(rate) / float64(per), per: per, stages: []Stage{{d, rate}}}, Even, Segment{})
				n := int64(0)
				for {
					_, at, ok := a.next()
					if !ok {
						break
					}
					require.Less(t, at, d)
					n++
				}
				want := int64(mulDiv(int64(rate), int64(d), int64(per)))
				if int64(rate)*int64(d)%int64(per) != 0 {
					want++ // arrival i is due at i·per/rate < d for i = 0 … ⌈rate·d/per⌉-1
				}
				require.Equal(t, want, n, "rate %d per %v for %v", rate, per, d)
			}
		}
	}
	a := newArrivals(rateRamp{start: 1 / float64(time.Second), per: time.Second, stages: []Stage{{time.Minute, 1}}}, Even, Segment{})
	n := 0
	for _, _, ok := a.next(); ok; _, _, ok = a.next() {
		n++
	}
	assert.Equal(t, 60, n, "1/s for a minute")
}

// TestLateFlushKeepsEveryRecordingInItsInterval: the interval clock is held
// up (its OnInterval callback takes 1.9 s, as a starved clock goroutine
// would), so flushes run up to 0.9 s late and close several intervals at
// once; a steady 100 iterations a second still count 100 in every
// interval.
// TestSlowGaugeDoesNotStretchTheRun: a gauge that takes 800 ms to sample,
// sampled at 1 s, does not hold back the end of a 1.5 s run.
func TestSlowGaugeDoesNotStretchTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res := run(t, &Plan{
			Scenarios: []Scenario{{Name: "s", Executor: ConstantVUs{VUs: 1, Duration: 1500 * time.Millisecond},
				Iteration: sleepIter(100 * time.Millisecond)}},
			Gauges: []Gauge{{Name: "slow", Sample: func() float64 { time.Sleep(800 * time.Millisecond); return 1 }}},
		})
		assert.Equal(t, 1500*time.Millisecond, res.End.Sub(res.Start))
		assert.Equal(t, int64(15), res.Iterations("s").Count())
	})
}

func TestLateFlushKeepsEveryRecordingInItsInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var late []time.Duration
		start := time.Now()
		res := run(t, &Plan{
			Scenarios: []Scenario{{Name: "s", Executor: ConstantRate{Rate: 100, Duration: 6 * time.Second, MaxVUs: 2},
				Iteration: sleepIter(5 * time.Millisecond)}},
			OnInterval: func(p *Progress) {
				if !p.Final {
					late = append(late, time.Since(start)-time.Duration(p.Interval+1)*time.Second)
					time.Sleep(1900 * time.Millisecond)
				}
				// The window of the running totals: the closed intervals,
				// however late the report; rates from it stay at 100/s.
				total := p.Scenarios[0].Iterations.Total
				if !p.Final {
					assert.Equal(t, time.Duration(p.Interval+1)*time.Second, p.Measured)
					assert.Equal(t, 100.0, total.Rate(p.Measured), "interval %d", p.Interval)
				} else {
					assert.Equal(t, 6*time.Second, p.Measured)
					assert.Equal(t, 100.0, total.Rate(p.Measured), "final")
				}
			},
		})
		require.NotEmpty(t, late)
		assert.Equal(t, 900*time.Millisecond, slices.Max(late), "the flushes ran late")
		m := res.Metrics.SeriesOf(metrics.Key{Scenario: "s", Kind: metrics.KindIteration})
		var counts []int64
		for _, p := range m.Points {
			counts = append(counts, p.Count())
		}
		// Arrival i is due at i×10 ms and ends 5 ms later, in the interval
		// of its start.
		assert.Equal(t, []int64{100, 100, 100, 100, 100, 100}, counts)
	})
}

// TestConstantVUsStagger: the VUs of a ConstantVUs begin evenly over the
// stagger (the smaller of 1 s and a tenth of the duration by default), so
// that a constant think time does not keep them in lockstep; a negative
// stagger starts them all at once.
func TestConstantVUsStagger(t *testing.T) {
	firsts := func(x ConstantVUs) []time.Duration {
		var mu sync.Mutex
		first := map[int]time.Duration{}
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			run(t, &Plan{Scenarios: []Scenario{{Name: "c", Executor: x, Iteration: func(ctx context.Context, it *Iteration) error {
				mu.Lock()
				if _, ok := first[it.VU.ID]; !ok {
					first[it.VU.ID] = time.Since(start)
				}
				mu.Unlock()
				time.Sleep(time.Second) // a constant think time
				return nil
			}}}})
		})
		out := make([]time.Duration, len(first))
		for id, d := range first {
			out[id] = d
		}
		return out
	}
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{0, 250 * ms, 500 * ms, 750 * ms}, firsts(ConstantVUs{VUs: 4, Duration: 20 * time.Second}), "over 1 s")
	assert.Equal(t, []time.Duration{0, 50 * ms, 100 * ms, 150 * ms}, firsts(ConstantVUs{VUs: 4, Duration: 2 * time.Second}), "over a tenth of 2 s")
	assert.Equal(t, []time.Duration{0, 500 * ms, 1000 * ms, 1500 * ms}, firsts(ConstantVUs{VUs: 4, Duration: 20 * time.Second, Stagger: 2 * time.Second}))
	assert.Equal(t, []time.Duration{0, 0, 0, 0}, firsts(ConstantVUs{VUs: 4, Duration: 20 * time.Second, Stagger: -1}), "all at once")
	assert.ErrorContains(t, ConstantVUs{VUs: 1, Duration: time.Second, Stagger: time.Second}.Validate(), "ConstantVUs.Stagger must be shorter than Duration (1s), got 1s")
}

// badStagger is an executor of the user's whose load staggers its VUs
// over a negative span.
type badStagger struct{ ConstantVUs }

func (b badStagger) Load() Load {
	l := b.ConstantVUs.Load()
	l.Stagger = -time.Second
	return l
}

func TestLoadStaggerIsChecked(t *testing.T) {
	err := (&Plan{Scenarios: []Scenario{{Name: "s", Executor: badStagger{ConstantVUs{VUs: 1, Duration: time.Second}}, Iteration: noop}}}).Validate()
	assert.ErrorContains(t, err, "Load.Stagger must be between 0 (together) and less than Duration (1s), got -1s")
}
