package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/internal/htmltest"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/compare"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pool is a service of known capacity: workers serving one request each
// for service; 10 workers of 10 ms hold 1000 requests per second. Queued
// requests wait for a worker; with shed, a request finding every worker
// busy fails at once (a 503).
func pool(workers int, service time.Duration, shed bool) func(loadgen.Executor) loadgen.Scenario {
	return func(ex loadgen.Executor) loadgen.Scenario {
		slots := make(chan struct{}, workers)
		return loadgen.Scenario{Name: "pool", Executor: ex, Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
			if shed {
				select {
				case slots <- struct{}{}:
				default:
					return metrics.WithOutcome(errors.New("status 503"), metrics.HTTP5xx)
				}
			} else {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			time.Sleep(service)
			<-slots
			return nil
		}}
	}
}

var slo = report.MustParseThresholds("p95<50ms", "error_rate<1%")

// TestSearchFindsAKnownCapacity: a pool of 10 workers of 10 ms holds
// 1000/s. Queueing past it, latency grows with the backlog, which is served
// at 1000/s: at 1200/s, 200 more arrive each second, and a request waits
// 0.2 s more for every second of the level, far past 50 ms; bisecting, so
// do 1100/s and 1050/s (a backlog of 150 by the end: 150 ms). The ceiling
// is 1000/s exactly, limited by latency.
func TestSearchFindsAKnownCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen []int
		rep, err := Search(t.Context(), Options{
			Plan:  OpenLoad(pool(10, 10*time.Millisecond, false), 3*time.Second, time.Second, 200),
			SLO:   slo,
			Start: 200, Step: 200, Resolution: 50,
			OnLevel: func(l Level) { seen = append(seen, l.Load) },
		})
		require.NoError(t, err)
		assert.Equal(t, []int{200, 400, 600, 800, 1000, 1200, 1100, 1050}, seen)
		assert.Equal(t, 1000, rep.Ceiling)
		assert.Equal(t, LimitLatency, rep.Limit)
		assert.Contains(t, rep.Why, "p95<50ms")
		for _, l := range rep.Levels[:5] {
			assert.True(t, l.Pass, "%d/s", l.Load)
			assert.Equal(t, 10*time.Millisecond, l.Figures.Latency.P95, "%d/s: under capacity nothing waits", l.Load)
			assert.InDelta(t, float64(l.Load), l.Rate, 1, "achieved = offered")
		}
	})
}

// TestSearchFailingByErrors: the same pool shedding load fails by errors
// above 1000/s: 300, 600 and 900/s never find ten requests in service
// (arrivals over 1.1 ms apart), 1200/s sheds about a sixth; bisecting
// 900..1200 to 100 tries 1050/s (errors) and 975/s (none), so the ceiling
// is 975/s.
func TestSearchFailingByErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep, err := Search(t.Context(), Options{
			Plan:  OpenLoad(pool(10, 10*time.Millisecond, true), 3*time.Second, time.Second, 200),
			SLO:   slo,
			Start: 300, Step: 300, Resolution: 100,
		})
		require.NoError(t, err)
		assert.Equal(t, 975, rep.Ceiling)
		assert.Equal(t, LimitErrors, rep.Limit)
		assert.Contains(t, rep.Why, "error_rate<1%")
	})
}

// TestSearchFindsTheGeneratorTooSmall: with 5 VUs for 10 ms requests the
// generator holds 500/s whatever the service does: at 600/s a sixth of the
// arrivals are dropped while p95 stays at 10 ms, so the limit is the
// generator, not the service.
func TestSearchFindsTheGeneratorTooSmall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep, err := Search(t.Context(), Options{
			Plan:  OpenLoad(pool(10, 10*time.Millisecond, false), 3*time.Second, time.Second, 5),
			SLO:   slo,
			Start: 300, Step: 300,
		})
		require.NoError(t, err)
		assert.Equal(t, 300, rep.Ceiling)
		assert.Equal(t, LimitGenerator, rep.Limit)
		assert.Contains(t, rep.Why, "arrivals dropped")
		assert.Contains(t, rep.Why, "the generator, not the service")
		assert.Equal(t, 10*time.Millisecond, rep.Levels[1].Figures.Latency.P95)
	})
}

// TestStepsAndCompare: the 100, 200 and 300 users story on a closed model,
// an old service (20 ms) against a new one (10 ms), level by level.
func TestStepsAndCompare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := func(service time.Duration) *Report {
			rep, err := Steps(t.Context(), Options{
				Plan: ClosedLoad(pool(1000, service, false), 2*time.Second, time.Second),
				SLO:  report.MustParseThresholds("p95<15ms"),
			}, 100, 200, 300)
			require.NoError(t, err)
			return rep
		}
		old, cand := run(20*time.Millisecond), run(10*time.Millisecond)
		require.Len(t, old.Levels, 3, "every level runs, failing or not")
		assert.Equal(t, 0, old.Ceiling)
		assert.Equal(t, 300, cand.Ceiling)
		assert.Equal(t, LimitNone, cand.Limit)
		// 200 VUs of 20 ms, VU k beginning at k ms (staggered over a tenth
		// of the 2 s): each ends 50 iterations in the load window, from
		// 1.00 s to 2.00 s; those ending up to 2.019 s are counted, not timed.
		assert.Equal(t, 10000.0, old.Levels[1].Rate, "200 VUs of 20 ms")
		var b bytes.Buffer
		c, err := CompareSteps(old, cand)
		require.NoError(t, err)
		require.NoError(t, c.WriteText(&b))
		assert.Contains(t, b.String(), "  200  p50           20.0ms     10.0ms           −50.0%                                      1+1  inconclusive  FAIL: latency  pass\n")
		assert.Contains(t, b.String(), "       rate         10000/s    20000/s          +100.0%                                      1+1  inconclusive\n")
		assert.Contains(t, b.String(), "candidate: every level held, up to 300 VUs")
	})
}

// TestReportRenders: the level table and the HTML page with its charts
// against load.
func TestReportRenders(t *testing.T) {
	var rep *Report
	synctest.Test(t, func(t *testing.T) {
		var err error
		rep, err = Search(t.Context(), Options{
			Plan:  OpenLoad(pool(10, 10*time.Millisecond, true), 2*time.Second, time.Second, 200),
			SLO:   slo,
			Start: 400, Step: 400,
		})
		require.NoError(t, err)
	})
	var txt bytes.Buffer
	require.NoError(t, rep.WriteText(&txt))
	assert.Contains(t, txt.String(), "offered/s")
	assert.Contains(t, txt.String(), "ceiling: 800 arrivals/s, limited by errors")
	var page bytes.Buffer
	vs := report.Verdicts{{Threshold: report.MustParseThresholds("p95<10ms")[0], Actual: float64(12 * time.Millisecond)}}
	require.NoError(t, rep.WriteHTML(&page, report.HTMLOptions{Title: "pool", Verdicts: vs}))
	assert.Contains(t, page.String(), "<title>pool</title>")
	p := htmltest.Parse(t, page.Bytes())
	assert.True(t, p.IDs["levels"])
	assert.True(t, p.IDs["thresholds"], "the options' verdicts are shown")
	assert.Equal(t, []string{"p95<10ms", "12.0ms", "FAIL"}, p.Row("p95<10ms"))
	for _, id := range []string{"latency", "errors", "rate"} {
		require.NotNil(t, p.Charts[id], id)
	}
	assert.Equal(t, []string{"p50", "p95", "p99"}, p.Charts["latency"].Series)
	assert.Equal(t, "pass", p.Row("400")[len(p.Row("400"))-1])
}

func TestSearchOptionsAreChecked(t *testing.T) {
	_, err := Search(t.Context(), Options{Start: 0, Factor: 0.5, Max: -1, MaxDropped: 2, MaxErrorRate: 2, Rows: "api[", Runs: -1})
	require.Error(t, err)
	for _, want := range []string{`Options.Rows: report: selector "api["`, "Options.Runs must be >= 0 (0 means 1), got -1", "Options.Plan must be set", "Options.MaxDropped must be in [0, 1)", "Options.Start must be > 0, got 0",
		"Options.Factor must be 0 (use Step) or a finite number > 1, got 0.5", "Options.Max must be 0 (no limit) or >= Start", "Options.MaxErrorRate must be in [0, 1] (0 means 1%, 1 means no limit), got 2"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = Steps(t.Context(), Options{Plan: ClosedLoad(pool(1, time.Millisecond, false), time.Second, 0)})
	assert.EqualError(t, err, "capacity: Steps needs at least one level")
	synctest.Test(t, func(t *testing.T) {
		_, err = Steps(t.Context(), Options{Plan: ClosedLoad(pool(1, time.Millisecond, false), time.Second, 0), Rows: "apply"}, 1)
		assert.ErrorContains(t, err, `capacity: level 1: Options.Rows does not fit the plan: report: selector "apply" matches nothing in this run (scenarios: pool`)
	})
}

// TestSearchHonoursBudgetAndCancellation: a budget that fits two 3 s
// levels stops the search there; a cancelled context stops it at once.
func TestSearchHonoursBudgetAndCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep, err := Search(t.Context(), Options{
			Plan:  OpenLoad(pool(10, 10*time.Millisecond, false), 3*time.Second, time.Second, 200),
			SLO:   slo,
			Start: 100, Step: 100, Budget: 7 * time.Second,
		})
		require.NoError(t, err)
		assert.Len(t, rep.Levels, 2)
		assert.Equal(t, "budget", rep.Stopped)
		assert.Equal(t, 200, rep.Ceiling)
		assert.Contains(t, rep.Summary(), "stopped early: budget")

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		rep, err = Search(ctx, Options{Plan: OpenLoad(pool(10, 10*time.Millisecond, false), 3*time.Second, time.Second, 200), Start: 100, Step: 100})
		require.NoError(t, err)
		assert.Empty(t, rep.Levels)
		assert.Equal(t, "cancelled", rep.Stopped)
	})
}

// TestErrorsBreakALevelWhateverTheSLO: an SLO of latency alone does not
// pass a level where requests fail fast; with MaxErrorRate 1 it does.
func TestErrorsBreakALevelWhateverTheSLO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := Options{
			Plan:  OpenLoad(pool(10, 10*time.Millisecond, true), 2*time.Second, time.Second, 200),
			SLO:   report.MustParseThresholds("p95<50ms"),
			Start: 600, Step: 600, Max: 1200,
		}
		rep, err := Search(t.Context(), o)
		require.NoError(t, err)
		assert.Equal(t, 600, rep.Ceiling)
		assert.Equal(t, LimitErrors, rep.Limit)
		assert.Contains(t, rep.Why, "of iterations failed (more than 1.0%, MaxErrorRate)")
		o.MaxErrorRate = 1
		rep, err = Search(t.Context(), o)
		require.NoError(t, err)
		assert.Equal(t, 1200, rep.Ceiling, "the shed requests are fast: p95 holds")
		assert.Equal(t, "reached Max", rep.Stopped)
	})
}

// TestSearchLevelsStayInRange: an infinite Factor once ran levels 2, 3,
// 4 … (int(+Inf) wraps), and a Step of math.MaxInt wrapped to the level
// -9223372036854775808. The Factor is refused; a next level beyond the
// largest int is an error, or the end of a search with a Max.
func TestSearchLevelsStayInRange(t *testing.T) {
	var ran []int
	plan := func(level int) (*loadgen.Plan, error) {
		ran = append(ran, level)
		if len(ran) > 3 {
			return nil, fmt.Errorf("ran past the third level, to %d", level)
		}
		return ClosedLoad(pool(10, time.Millisecond, false), time.Second, 0)(level)
	}
	_, err := Search(t.Context(), Options{Plan: plan, Start: 1, Factor: math.Inf(1)})
	assert.EqualError(t, err, "capacity: Options.Factor must be 0 (use Step) or a finite number > 1, got +Inf")
	assert.Empty(t, ran)

	synctest.Test(t, func(t *testing.T) {
		ran = nil
		rep, err := Search(t.Context(), Options{Plan: plan, Start: 1, Step: math.MaxInt})
		assert.EqualError(t, err, "capacity: the level after 1, 1 + Options.Step 9223372036854775807, is beyond the largest level, 9223372036854775807; set Options.Max")
		assert.Equal(t, []int{1}, ran)
		require.NotNil(t, rep)
		assert.Equal(t, 1, rep.Ceiling, "the levels that ran are reported")

		ran = nil
		_, err = Search(t.Context(), Options{Plan: plan, Start: 3, Factor: 1e300})
		assert.EqualError(t, err, "capacity: the level after 3, 3 × Options.Factor 1e+300, is beyond the largest level, 9223372036854775807; set Options.Max")
		assert.Equal(t, []int{3}, ran)

		ran = nil
		rep, err = Search(t.Context(), Options{Plan: plan, Start: 2, Step: math.MaxInt - 1, Max: 1000})
		require.NoError(t, err)
		assert.Equal(t, []int{2}, ran)
		assert.Equal(t, "reached Max", rep.Stopped, "any next level would pass Max")
		assert.Equal(t, 2, rep.Ceiling)
	})
}

// shop is a scenario with one step, browse, of 1 ms.
func shop(ex loadgen.Executor) loadgen.Scenario {
	key := metrics.Key{Scenario: "shop", Step: "browse", Kind: metrics.KindStep}
	return loadgen.Scenario{Name: "shop", Executor: ex, Setup: func(_ context.Context, env *loadgen.Env) (loadgen.Instance, error) {
		h := env.Recorder.Handle(key)
		return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
			start := time.Now()
			time.Sleep(time.Millisecond)
			it.Shard.Record(h, start, time.Since(start), metrics.OK)
			return nil
		}}, nil
	}}
}

// TestSLOOnAStepThatDoesNotExist: an SLO on a step the plan does not have
// once failed every level "on latency"; it is an error naming the step
// and the steps there are.
func TestSLOOnAStepThatDoesNotExist(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := Options{
			Plan: ClosedLoad(shop, time.Second, 0),
			SLO:  report.MustParseThresholds("browse: p95<50ms", "checkout: p95<50ms"),
		}
		rep, err := Steps(t.Context(), o, 10, 20)
		require.Error(t, err)
		assert.Equal(t, `capacity: level 10: Options.SLO does not fit the plan: threshold checkout: p95<50ms: report: selector "checkout" matches nothing in this run (scenarios: shop; steps: shop/browse; kinds: step, iteration)`, err.Error())
		assert.Empty(t, rep.Levels, "no level is judged on it")

		o.Start, o.Step = 10, 10
		_, err = Search(t.Context(), o)
		assert.ErrorContains(t, err, `selector "checkout" matches nothing in this run`)

		o.SLO = o.SLO[:1]
		rep, err = Steps(t.Context(), o, 10, 20)
		require.NoError(t, err)
		assert.Equal(t, 20, rep.Ceiling, "the step that exists is checked")
	})
}

// TestPlanReturningNothing: a Plan returning (nil, nil) once panicked a
// search with a Budget (a nil plan's Duration).
func TestPlanReturningNothing(t *testing.T) {
	nothing := func(int) (*loadgen.Plan, error) { return nil, nil }
	for _, budget := range []time.Duration{0, time.Hour} {
		rep, err := Search(t.Context(), Options{Plan: nothing, Start: 5, Step: 5, Budget: budget})
		assert.EqualError(t, err, "capacity: level 5: Options.Plan returned neither a plan nor an error", "budget %v", budget)
		require.NotNil(t, rep)
		assert.Empty(t, rep.Levels)
	}
	_, err := Steps(t.Context(), Options{Plan: nothing, Budget: time.Hour}, 7)
	assert.EqualError(t, err, "capacity: level 7: Options.Plan returned neither a plan nor an error")
}

// TestGeneratorLatencyIsTheGenerators: a level whose latency broke the
// SLO while its generator waited 2 s for a processor on every wake-up (all
// of its p99 may be the generator's) is limited by the generator, not by
// latency; with 300 ms of waiting the warning stands but the p95 of
// ~1 s would still break 50 ms without it: latency; with a healthy
// generator, or none recorded, latency.
func TestGeneratorLatencyIsTheGenerators(t *testing.T) {
	var rep *Report
	synctest.Test(t, func(t *testing.T) {
		var err error
		rep, err = Steps(t.Context(), Options{Plan: OpenLoad(pool(10, 10*time.Millisecond, false), 2*time.Second, time.Second, 2000), SLO: slo}, 1500)
		require.NoError(t, err)
	})
	require.Len(t, rep.Levels, 1)
	assert.Equal(t, LimitLatency, rep.Levels[0].Limit, "on the fake clock, no generator is recorded")
	withSched := func(sched time.Duration) *loadgen.Result {
		res := *rep.Levels[0].Result
		res.Metrics = res.Metrics.Clone()
		res.Generators = []loadgen.Generator{{Procs: 2, CPUs: 2}}
		var st metrics.Stats
		for range 100 {
			st.Latency.Record(sched)
		}
		st.Outcomes[metrics.OK] = 100
		res.Metrics.Series = append(res.Metrics.Series, metrics.Series{Key: metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}, Total: st})
		return &res
	}
	s := &search{o: &Options{SLO: slo}, rep: &Report{}}
	judge := func(res *loadgen.Result) Level {
		l, err := s.judge(1500, []*loadgen.Result{res})
		require.NoError(t, err)
		return l
	}
	l := judge(withSched(2 * time.Second))
	assert.Equal(t, LimitGenerator, l.Limit)
	assert.Contains(t, l.Why, "p95<50ms")
	assert.Contains(t, l.Why, `but the generator may have made the numbers of scenario "pool"`)
	assert.Equal(t, LimitLatency, judge(withSched(20*time.Microsecond)).Limit)
	l = judge(withSched(300 * time.Millisecond))
	assert.Equal(t, LimitLatency, l.Limit, l.Why)
	require.NotEmpty(t, report.Summarize(withSched(300*time.Millisecond)).GeneratorWarnings(), "the warning stands")
}

// thinker is a journey of one step, "api", that takes service, and a
// think time after it: the shape of the users' 100/200/300 question.
func thinker(service, think time.Duration) func(loadgen.Executor) loadgen.Scenario {
	key := metrics.Key{Scenario: "users", Step: "api", Kind: metrics.KindStep}
	return func(ex loadgen.Executor) loadgen.Scenario {
		return loadgen.Scenario{Name: "users", Executor: ex, Setup: func(ctx context.Context, env *loadgen.Env) (loadgen.Instance, error) {
			h := env.Recorder.Handle(key)
			return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
				began := time.Now()
				time.Sleep(service)
				it.Shard.Record(h, time.Now(), time.Since(began), metrics.OK)
				time.Sleep(think)
				return nil
			}}, nil
		}}
	}
}

// TestStepsCompareTheStep: old and new API at 100 and 200 users who think
// for 0.5 s between calls, five runs a level. The levels' figures are the
// step's by default: 20 ms against 10 ms, −50 %, significant at each
// level (five tied runs a side: p = 2/C(10,5) = 0.008). On the iterations,
// which hold the thinking, the same change reads as −1.9 % (520 → 510 ms).
func TestStepsCompareTheStep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := func(service time.Duration, rows report.Selector) *Report {
			rep, err := Steps(t.Context(), Options{
				Plan: ClosedLoad(thinker(service, 500*time.Millisecond), 3*time.Second, time.Second),
				SLO:  report.MustParseThresholds("api: p95<15ms"),
				Rows: rows, Runs: 5,
			}, 100, 200)
			require.NoError(t, err)
			return rep
		}
		old, cand := run(20*time.Millisecond, ""), run(10*time.Millisecond, "")
		require.Len(t, old.Levels, 2)
		for _, l := range old.Levels {
			assert.Len(t, l.Runs, 5)
			assert.Same(t, l.Runs[0], l.Result)
			assert.Equal(t, report.Selector("[step]"), l.Rows)
			assert.Equal(t, 20*time.Millisecond, l.Figures.Latency.P95, "the step's, not the iteration's")
			require.Len(t, l.RunFigures, 5)
			assert.Equal(t, 5*l.RunFigures[0].Count, l.Figures.Count, "the runs merged")
			assert.False(t, l.Pass)
			assert.Equal(t, LimitLatency, l.Limit)
			assert.True(t, strings.HasPrefix(l.Why, "run 1 of 5: api: p95<15ms (20.0ms)"), l.Why)
		}
		c, err := CompareSteps(old, cand)
		require.NoError(t, err)
		require.Len(t, c.Levels, 2)
		for _, l := range c.Levels {
			d := l.Delta(report.Quantile(0.95))
			require.NotNil(t, d)
			assert.Equal(t, float64(20*time.Millisecond), d.Baseline)
			assert.Equal(t, float64(10*time.Millisecond), d.Candidate)
			assert.Equal(t, compare.Better, d.Conclusion, "%d VUs", l.Load)
			assert.InDelta(t, 2.0/252, d.P, 1e-9)
			assert.InDelta(t, -0.5, d.Estimate, 1e-9)
			assert.Len(t, d.BaselineRuns, 5)
		}
		var b bytes.Buffer
		require.NoError(t, c.WriteMarkdown(&b))
		// Holm over the level's five metrics: the three latencies' p of
		// 0.008 become 5 × 0.008 = 0.040, still below 0.05.
		assert.Contains(t, b.String(), "| 100 | p50 | 20.0ms | 10.0ms | −50.0% | −50.0% [−50.0%, −50.0%] | 0.008 | 0.040 | 5+5 | better | FAIL: latency | pass |\n"+
			"|  | p95 | 20.0ms | 10.0ms | −50.0% | −50.0% [−50.0%, −50.0%] | 0.008 | 0.040 | 5+5 | better |  |  |\n")
		assert.Contains(t, b.String(), "figures of every step, merged")
		b.Reset()
		require.NoError(t, c.WriteJSON(&b))
		var doc struct {
			Rows   string
			Levels []struct {
				Load     int
				Baseline struct {
					Runs    int
					Figures struct {
						P95 float64 `json:"p95_ms"`
					}
				}
				Metrics []struct {
					Metric  string
					Verdict string
				}
			}
		}
		require.NoError(t, json.Unmarshal(b.Bytes(), &doc))
		assert.Equal(t, "[step]", doc.Rows)
		require.Len(t, doc.Levels, 2)
		assert.Equal(t, 5, doc.Levels[0].Baseline.Runs)
		assert.Equal(t, 20.0, doc.Levels[0].Baseline.Figures.P95)
		assert.Equal(t, "better", doc.Levels[0].Metrics[1].Verdict)

		// The iterations, thinking included, dilute the change.
		oldIt, candIt := run(20*time.Millisecond, "[iteration]"), run(10*time.Millisecond, "[iteration]")
		c, err = CompareSteps(oldIt, candIt)
		require.NoError(t, err)
		d := c.Levels[0].Delta(report.Quantile(0.95))
		assert.InDelta(t, 510.0/520-1, d.Change(), 1e-9)
		_, err = CompareSteps(old, candIt)
		assert.ErrorContains(t, err, `the baseline's levels are figures of "[step]", the candidate's of "[iteration]"`)
	})
}

// TestALevelHoldsOnlyWhenEveryRunDoes: the third of four runs of a level
// fails; the level fails, saying which run, and its figures still merge
// all four.
func TestALevelHoldsOnlyWhenEveryRunDoes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		rep, err := Steps(t.Context(), Options{
			Plan: func(vus int) (*loadgen.Plan, error) {
				calls++
				service := 10 * time.Millisecond
				if calls == 3 {
					service = 100 * time.Millisecond
				}
				return ClosedLoad(pool(100, service, false), 2*time.Second, time.Second)(vus)
			},
			SLO:  slo,
			Runs: 4,
		}, 10)
		require.NoError(t, err)
		require.Len(t, rep.Levels, 1)
		l := rep.Levels[0]
		assert.Equal(t, 4, calls)
		assert.False(t, l.Pass)
		assert.True(t, strings.HasPrefix(l.Why, "run 3 of 4: p95<50ms (100ms)"), l.Why)
		assert.Equal(t, report.Selector("[iteration]"), l.Rows, "no step recorded")
		require.Len(t, l.RunFigures, 4)
		var n int64
		for _, f := range l.RunFigures {
			n += f.Count
		}
		assert.Equal(t, n, l.Figures.Count)
		assert.Equal(t, 100*time.Millisecond, l.Figures.Latency.Max)
		var b bytes.Buffer
		require.NoError(t, rep.WriteText(&b))
		assert.Contains(t, b.String(), "p95 of runs")
		assert.Contains(t, b.String(), "10.0ms–100ms")
		assert.Contains(t, b.String(), "(latency and errors: of the iterations; 4 runs a level, merged)")
		b.Reset()
		require.NoError(t, rep.WriteMarkdown(&b))
		assert.Contains(t, b.String(), "| VUs | achieved/s | dropped | p50 | p95 | p99 | errors | p95 of runs | result |\n")
		assert.Contains(t, b.String(), "**no level held: the lowest failed on latency**")
		b.Reset()
		require.NoError(t, rep.WriteJSON(&b))
		var doc struct {
			Format, Rows, Limit string
			Levels              []struct {
				Runs       int
				Pass       bool
				Why        string
				Figures    struct{ Count int64 }
				RunFigures []struct {
					P95 *float64 `json:"p95_ms"`
				} `json:"run_figures"`
			}
		}
		require.NoError(t, json.Unmarshal(b.Bytes(), &doc))
		assert.Equal(t, "stampede-capacity", doc.Format)
		assert.Equal(t, "[iteration]", doc.Rows)
		assert.Equal(t, "latency", doc.Limit)
		require.Len(t, doc.Levels, 1)
		assert.Equal(t, l.Figures.Count, doc.Levels[0].Figures.Count)
		require.Len(t, doc.Levels[0].RunFigures, 4)
		assert.Equal(t, 100.0, *doc.Levels[0].RunFigures[2].P95)
	})
}
