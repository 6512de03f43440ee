package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"go.uber.org/goleak"

	goldenfile "github.com/stampede-go/stampede/internal/golden"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(goldenfile.NoOrphans(m)) }

func golden(t *testing.T, name string, got []byte) { t.Helper(); goldenfile.Check(t, name, got) }

// mustCompare compares on the default metrics.
func mustCompare(t *testing.T, base, cand []*loadgen.Result) *Comparison {
	t.Helper()
	c, err := Compare(base, cand)
	require.NoError(t, err)
	return c
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// synthRun makes a one-minute run of one step whose n latencies follow an
// AR(1) process on the log scale (autocorrelated, as real request
// latencies are) around level, with the given errors.
func synthRun(rng *rand.Rand, level time.Duration, n int, errs int64) *loadgen.Result {
	var st metrics.Stats
	const rho = 0.9
	x := rng.NormFloat64()
	for range n {
		x = rho*x + math.Sqrt(1-rho*rho)*rng.NormFloat64()
		d := time.Duration(float64(level) * math.Exp(0.25*x))
		st.Latency.Record(d)
	}
	st.Latency.Hist = st.Latency.Hist.Frozen() // as in a recorded run
	st.Outcomes[metrics.OK] = int64(n) - errs
	st.Outcomes[metrics.HTTP5xx] = errs
	return wrapRun(st, "apply")
}

func wrapRun(st metrics.Stats, steps ...string) *loadgen.Result {
	snap := &metrics.Snapshot{Version: metrics.Version, Start: t0, Interval: time.Second}
	st.Latency.Hist = st.Latency.Hist.Frozen()
	for _, s := range steps {
		snap.Series = append(snap.Series, metrics.Series{Key: metrics.Key{Scenario: "signup", Step: s, Kind: metrics.KindStep}, Total: st.Clone()})
	}
	snap.Series = append(snap.Series, metrics.Series{Key: metrics.Key{Scenario: "signup", Kind: metrics.KindIteration}, Total: st.Clone()})
	return &loadgen.Result{
		Plan:    loadgen.PlanInfo{Scenarios: []loadgen.ScenarioInfo{{Name: "signup", Description: "constant-vus: 300 VUs for 7m0s"}}},
		Start:   t0,
		End:     t0.Add(time.Minute),
		Metrics: snap,
	}
}

// runs draws n runs whose level varies by spread (a fraction) run to run.
func runs(rng *rand.Rand, n int, level time.Duration, spread float64) []*loadgen.Result {
	var out []*loadgen.Result
	for range n {
		l := time.Duration(float64(level) * (1 + spread*rng.NormFloat64()))
		out = append(out, synthRun(rng, l, 2000, 0))
	}
	return out
}

func delta(t *testing.T, c *Comparison, row report.Row, metric string) Delta {
	t.Helper()
	for _, r := range c.Rows {
		if r.Row == row {
			for _, d := range r.Deltas {
				if d.Metric.String() == metric {
					return d
				}
			}
		}
	}
	t.Fatalf("no %s for %v", metric, row)
	return Delta{}
}

var apply = report.Row{Scenario: "signup", Step: "apply"}

// TestAATest: two sets of 7 runs from the same process, in 100 seeded
// trials, are judged "no significant change" in at least 85.
//
// How often it could fail: the exact Mann-Whitney test of 7+7 runs at
// α = 0.05 calls a change with probability at most 0.038 when there is
// none (0.035 in 1000 trials of these runs); the false calls among 100
// trials are then at most Binomial(100, 0.038), which exceeds 15 with
// probability 1.2e-6. The seeds are fixed, so the test is also repeatable;
// the bound is what keeps it safe when the runs or the code change.
func TestAATest(t *testing.T) {
	same := 0
	for trial := range 100 {
		rng := rand.New(rand.NewPCG(uint64(trial), 1))
		c := mustCompare(t, runs(rng, 7, 100*time.Millisecond, 0.03), runs(rng, 7, 100*time.Millisecond, 0.03))
		if delta(t, c, apply, "p95").Conclusion == Same {
			same++
		}
	}
	t.Logf("A/A: %d of 100 trials judged no significant change", same)
	assert.GreaterOrEqual(t, same, 85)
}

// TestPower: a 20 % shift in p95, 7 runs per side, ~3 % run-to-run spread:
// significant in at least 95 of 100 seeded trials, and the interval covers
// the true shift in at least 85.
//
// How often it could fail: these runs are 4.7 standard deviations apart,
// and 1000 of 1000 trials found the change, so the power is above 0.997
// (95 % confidence); fewer than 95 of 100 would then have probability
// below 1e-6. The interval has 95 % nominal coverage (96.3 % in 1000
// trials): 16 or more misses in 100 have probability 8.6e-7 at a miss
// rate of 0.037.
func TestPower(t *testing.T) {
	significant, covered := 0, 0
	for trial := range 100 {
		rng := rand.New(rand.NewPCG(uint64(trial), 2))
		c := mustCompare(t, runs(rng, 7, 100*time.Millisecond, 0.03), runs(rng, 7, 120*time.Millisecond, 0.03))
		d := delta(t, c, apply, "p95")
		if d.Conclusion == Worse {
			significant++
		}
		if d.HasInterval && d.Low <= 0.2 && 0.2 <= d.High {
			covered++
		}
	}
	t.Logf("power: %d of 100 significant, interval covers +20%% in %d", significant, covered)
	assert.GreaterOrEqual(t, significant, 95)
	assert.GreaterOrEqual(t, covered, 85)
}

func TestRegressionBudget(t *testing.T) {
	budget := Budget{Metric: report.Quantile(0.95), Max: 0.10}
	rng := rand.New(rand.NewPCG(9, 9))
	// Spread 1 % run to run: a 3 % change is well inside the budget, a
	// 25 % one far outside it.
	small := mustCompare(t, runs(rng, 7, 100*time.Millisecond, 0.01), runs(rng, 7, 103*time.Millisecond, 0.01))
	vs, err := small.Violations(budget)
	require.NoError(t, err)
	assert.Empty(t, vs, "a 3%% change passes a 10%% budget")
	big := mustCompare(t, runs(rng, 7, 100*time.Millisecond, 0.01), runs(rng, 7, 125*time.Millisecond, 0.01))
	vs, err = big.Violations(budget)
	require.NoError(t, err)
	require.NotEmpty(t, vs)
	assert.Equal(t, apply, vs[0].Row.Row)
	assert.Contains(t, vs[0].Reason, "p95 worse: estimate +")
	assert.Contains(t, vs[0].Reason, "beyond the budget of +10.0%")
	// The selector limits the budget to some rows; one that matches
	// nothing is an error.
	vs, err = big.Violations(Budget{Selector: "signup/apply", Metric: report.Quantile(0.95), Max: 0.10})
	require.NoError(t, err)
	assert.Len(t, vs, 1)
	_, err = big.Violations(Budget{Selector: "other", Metric: report.Quantile(0.95), Max: 0.10})
	assert.ErrorContains(t, err, `selector "other" matches nothing`)
	_, err = big.Violations(Budget{Metric: report.Quantile(0.75), Max: 0.10})
	assert.ErrorContains(t, err, "the comparison does not cover p75 (it covers p50, p90, p95, p99, mean, max, rate, error_rate)")
	// One run per side: no interval, the headline change is held against
	// the budget, and the reason says so.
	one := mustCompare(t, runs(rng, 1, 100*time.Millisecond, 0), runs(rng, 1, 150*time.Millisecond, 0))
	vs, err = one.Violations(budget)
	require.NoError(t, err)
	require.NotEmpty(t, vs)
	assert.Contains(t, vs[0].Reason, "change of the merged values +")
	assert.Contains(t, vs[0].Reason, "no significance")
}

// TestBudgetsNeverPassForWantOfData: a gate fails, or is an error, when
// it cannot look at what it selects — never passes silently.
func TestBudgetsNeverPassForWantOfData(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	p95 := Budget{Metric: report.Quantile(0.95), Max: 0.10}
	// Every candidate request failed: no latency of successes at all.
	var failed []*loadgen.Result
	for range 7 {
		var st metrics.Stats
		st.Failed.Record(time.Millisecond)
		st.Outcomes[metrics.HTTP5xx] = 1
		failed = append(failed, wrapRun(st, "apply"))
	}
	c := mustCompare(t, runs(rng, 7, 100*time.Millisecond, 0.01), failed)
	vs, err := c.Violations(p95)
	require.NoError(t, err)
	require.NotEmpty(t, vs)
	assert.Regexp(t, `^p95: the candidate has no data \(the baseline had 1\d\dms\)$`, vs[0].Reason)

	// A step the candidate lost breaks the budgets that select it.
	var st metrics.Stats
	st.Latency.Record(time.Millisecond)
	st.Outcomes[metrics.OK] = 1
	c = mustCompare(t, []*loadgen.Result{wrapRun(st, "list", "old")}, []*loadgen.Result{wrapRun(st, "list", "new")})
	vs, err = c.Violations(Budget{Selector: "signup/old", Metric: report.Quantile(0.95), Max: 0.10})
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, "the candidate has no such row (removed)", vs[0].Reason)
	// A budget that selects only a row the candidate added checks nothing:
	// an error, not a pass.
	_, err = c.Violations(Budget{Selector: "signup/new", Metric: report.Quantile(0.95), Max: 0.10})
	assert.ErrorContains(t, err, "selects no row that both sides have and p95 applies to")

	// A one-step journey's iterations, selected alone, are checked: they
	// repeat the step, but the step is not selected.
	c = mustCompare(t, runs(rng, 7, 100*time.Millisecond, 0.01), runs(rng, 7, 125*time.Millisecond, 0.01))
	vs, err = c.Violations(Budget{Selector: "signup", Metric: report.Quantile(0.95), Max: 0.10})
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, report.Row{Scenario: "signup"}, vs[0].Row.Row)
	vs, err = c.Violations(p95)
	require.NoError(t, err)
	assert.Len(t, vs, 1, "with its step selected too, the repeated row is checked once, on the step")
}

// TestDroppedShareBudget: an open scenario's iterations are compared on
// dropped_share though it is not among the metrics asked for, and a budget
// on it is checked, not refused as uncovered.
func TestDroppedShareBudget(t *testing.T) {
	mk := func(dropped int64) []*loadgen.Result {
		var out []*loadgen.Result
		for range 7 {
			var st metrics.Stats
			st.Latency.Record(time.Millisecond)
			st.Outcomes[metrics.OK] = 100
			st.Outcomes[metrics.Dropped] = dropped
			r := wrapRun(st, "apply")
			r.Plan.Scenarios[0].Open = true
			out = append(out, r)
		}
		return out
	}
	c := mustCompare(t, mk(0), mk(25))
	vs, err := c.Violations(MustParseBudget("signup: dropped_share +1pp"))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Contains(t, vs[0].Reason, "dropped_share worse: estimate +20.00 pp")
}

// TestCountsFromZero: errors that go from none to some are +∞, never a
// difference shown as a percentage, and break a budget on errors.
func TestCountsFromZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	var base, cand []*loadgen.Result
	for i := range 7 {
		base = append(base, synthRun(rng, 100*time.Millisecond, 1000, 0))
		cand = append(cand, synthRun(rng, 100*time.Millisecond, 1000, int64(3+i%2)))
	}
	c, err := Compare(base, cand, report.Errors())
	require.NoError(t, err)
	d := delta(t, c, apply, "errors")
	assert.True(t, math.IsInf(d.Change(), 1), "0 → 3 errors")
	assert.Equal(t, "+∞", d.ChangeString())
	assert.Equal(t, Worse, d.Conclusion)
	assert.False(t, d.HasInterval, "no relative interval from a baseline of 0")
	vs, err := c.Violations(Budget{Selector: "signup/apply", Metric: report.Errors(), Max: 0.5})
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Contains(t, vs[0].Reason, "errors worse: change of the merged values +∞")
	assert.Contains(t, vs[0].Reason, "the baseline's runs were all 0")

	// With a 0 among runs but a positive baseline median, the estimate is
	// relative to that median: 2 → 4 errors is about +100 %, not "+200%".
	base, cand = nil, nil
	for i := range 7 {
		base = append(base, synthRun(rng, 100*time.Millisecond, 1000, int64([]int{0, 2, 2, 2, 2, 2, 3}[i])))
		cand = append(cand, synthRun(rng, 100*time.Millisecond, 1000, 4))
	}
	c, err = Compare(base, cand, report.Errors())
	require.NoError(t, err)
	d = delta(t, c, apply, "errors")
	assert.True(t, d.HasInterval)
	assert.InDelta(t, 1.0, d.Estimate, 1e-9, "(4 − 2) / 2")
}

func TestParseBudget(t *testing.T) {
	for in, want := range map[string]Budget{
		"p95 +10%":                     {Metric: report.Quantile(0.95), Max: 0.10},
		"checkout: error_rate +1pp":    {Selector: "checkout", Metric: report.ErrorRate(), Max: 0.01},
		"signup/apply: p99(all) +5%":   {Selector: "signup/apply", Metric: report.Quantile(0.99).Of(report.All), Max: 0.05},
		"rate +20%":                    {Metric: report.Rate(), Max: 0.20},
		"[schedule_lag]: p99 +100%":    {Selector: "[schedule_lag]", Metric: report.Quantile(0.99), Max: 1},
		"checkout: dropped_share +0pp": {Selector: "checkout", Metric: report.DroppedShare(), Max: 0},
	} {
		got, err := ParseBudget(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		again, err := ParseBudget(got.String())
		require.NoError(t, err)
		assert.Equal(t, got, again, "String parses back: %q", got.String())
	}
	for in, msg := range map[string]string{
		"p95 10%":           "want [selector:] metric +max, such as p95 +10% or error_rate +1pp",
		"p95th +10%":        `unknown metric "p95th"`,
		"p95 +10":           "the limit of p95 must be a number followed by %",
		"error_rate +1%":    "the limit of error_rate must be a number followed by pp",
		"p95 +abc%":         "the limit of p95 must be a number",
		"p95 +NaN%":         "the limit of p95 must be a number",
		": p95 +10%":        "empty selector",
		"a/: p95 +10%":      "want scenario/step with both parts",
		"median +10%":       `unknown metric "median"`,
		"status(9999) +10%": "status code must be 100..999",
	} {
		_, err := ParseBudget(in)
		assert.ErrorContains(t, err, msg, in)
	}
}

// TestSignupRushStory reproduces the design's first story: medians 3853 ms
// and 469 ms show −87.8 % and "better".
func TestSignupRushStory(t *testing.T) {
	mk := func(level time.Duration) []*loadgen.Result {
		var out []*loadgen.Result
		for i := range 7 {
			var st metrics.Stats
			for j := range 101 {
				d := level + time.Duration(i-3)*time.Millisecond + time.Duration(j-50)*100*time.Microsecond
				st.Latency.Record(d)
			}
			st.Outcomes[metrics.OK] = 101
			out = append(out, wrapRun(st, "detail"))
		}
		return out
	}
	c := mustCompare(t, mk(3853*time.Millisecond), mk(469*time.Millisecond))
	d := delta(t, c, report.Row{Scenario: "signup", Step: "detail"}, "p50")
	assert.Equal(t, Better, d.Conclusion)
	assert.Equal(t, "−87.8%", d.ChangeString())
	assert.Contains(t, d.Line(), "p50 3.85s → 469ms: change −87.8%, estimate −87.8% [")
	assert.Less(t, d.P, 0.001)
}

func TestTooFewRunsIsInconclusive(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	c := mustCompare(t, runs(rng, 3, 100*time.Millisecond, 0.03), runs(rng, 3, 200*time.Millisecond, 0.03))
	d := delta(t, c, apply, "p95")
	assert.Equal(t, Inconclusive, d.Conclusion)
	assert.InDelta(t, 1.0, d.Change(), 0.2, "the change is still shown")
	require.NotEmpty(t, c.Warnings)
	assert.Equal(t, "inconclusive: need ≥ 4 runs per side (7 recommended); have 3 and 3", c.Warnings[0])
}

func TestAddedAndRemovedSteps(t *testing.T) {
	var st metrics.Stats
	st.Latency.Record(time.Millisecond)
	st.Outcomes[metrics.OK] = 1
	c := mustCompare(t, []*loadgen.Result{wrapRun(st, "list", "old")}, []*loadgen.Result{wrapRun(st, "list", "new")})
	var rows []string
	for _, r := range c.Rows {
		rows = append(rows, r.Row.String()+"="+r.Presence.String())
	}
	assert.Equal(t, []string{"signup/list=", "signup/old=removed", "signup (iterations)=", "signup/new=added"}, rows)
}

// TestOneStepJourneyRowsShownOnce: a scenario with one step shows its
// iterations once, in the step's row.
func TestOneStepJourneyRowsShownOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	c := mustCompare(t, runs(rng, 4, 100*time.Millisecond, 0.03), runs(rng, 4, 100*time.Millisecond, 0.03))
	require.Len(t, c.Rows, 2)
	assert.True(t, c.Rows[1].Repeats, "the iterations repeat the only step")
	var b bytes.Buffer
	require.NoError(t, c.WriteText(&b))
	assert.Contains(t, b.String(), "signup/apply")
	assert.NotContains(t, b.String(), "signup (iterations)")
}

func TestErrorRateIsComparedInPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var base, cand []*loadgen.Result
	for i := range 7 {
		base = append(base, synthRun(rng, 100*time.Millisecond, 1000, int64(10+i%3)))
		cand = append(cand, synthRun(rng, 100*time.Millisecond, 1000, int64(50+i%3)))
	}
	d := delta(t, mustCompare(t, base, cand), apply, "error_rate")
	assert.False(t, d.Relative())
	assert.Equal(t, Worse, d.Conclusion)
	assert.InDelta(t, 0.04, d.Estimate, 0.005, "+4 percentage points")
	assert.Contains(t, d.Line(), "change +4.00 pp")
}

func TestComparisonGolden(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	base, cand := runs(rng, 7, 3853*time.Millisecond, 0.03), runs(rng, 7, 469*time.Millisecond, 0.03)
	for _, r := range append(base, cand...) { // two steps, so that the iterations have their own row
		m := r.Metrics.Series[0]
		m.Key.Step = "detail"
		r.Metrics.Series = append([]metrics.Series{m}, r.Metrics.Series...)
	}
	c := mustCompare(t, base, cand)
	var txt, md, js bytes.Buffer
	require.NoError(t, c.WriteText(&txt))
	require.NoError(t, c.WriteMarkdown(&md))
	require.NoError(t, c.WriteJSON(&js))
	golden(t, "TestComparisonGolden.golden.txt", txt.Bytes())
	golden(t, "TestComparisonGolden.golden.md", md.Bytes())
	golden(t, "TestComparisonGolden.golden.json", js.Bytes())
	var back map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, 7.0, back["baseline_runs"])
	assert.True(t, strings.Contains(js.String(), `"verdict": "better"`))
}

func TestRepeatInterleaved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var order []string
		mk := func(side string) func(int) *loadgen.Plan {
			return func(i int) *loadgen.Plan {
				order = append(order, side)
				return &loadgen.Plan{Scenarios: []loadgen.Scenario{{Name: "s", Executor: loadgen.PerVUIterations{VUs: 1, Iterations: 1},
					Iteration: func(context.Context, *loadgen.Iteration) error { return nil }}}}
			}
		}
		var progress bytes.Buffer
		plain := false
		base, cand, err := RepeatInterleaved(t.Context(), 3, mk("B"), mk("C"),
			RepeatOptions{Pause: time.Second, Progress: &progress, ProgressOptions: report.ProgressOptions{Terminal: &plain}})
		require.NoError(t, err)
		assert.Equal(t, []string{"B", "C", "B", "C", "B", "C"}, order)
		assert.Len(t, base, 3)
		assert.Len(t, cand, 3)
		for _, label := range []string{"baseline 1/3 | ", "candidate 1/3 | ", "baseline 3/3 | ", "candidate 3/3 | "} {
			assert.Contains(t, progress.String(), label, "progress lines say which side and which run")
		}
	})
}

func TestRepetitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mk := func(run int) *loadgen.Plan {
			return &loadgen.Plan{Scenarios: []loadgen.Scenario{{
				Name: "s", Executor: loadgen.PerVUIterations{VUs: 1, Iterations: 10},
				Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					time.Sleep(time.Duration(10*(run+1)+int(it.Number)) * time.Millisecond)
					return nil
				},
			}}}
		}
		runs, err := Repeat(t.Context(), 5, mk, RepeatOptions{Pause: time.Second})
		require.NoError(t, err)
		require.Len(t, runs, 5)
		reps := SummarizeRuns(runs, report.Quantile(0.95), report.Max(), report.Count())
		require.Len(t, reps.Rows, 1)
		r := reps.Rows[0]
		// Run k takes 10(k+1) … 10(k+1)+9 ms; the median run is run 2.
		p95 := r.Figures[0]
		require.Len(t, p95.Runs, 5)
		assert.Equal(t, p95.Runs[2], p95.Median)
		assert.Equal(t, float64(39*time.Millisecond), p95.Median)
		assert.Equal(t, float64(24*time.Millisecond), p95.Q1, "the median of the lower half")
		assert.Equal(t, float64(54*time.Millisecond), p95.Q3)
		assert.Equal(t, float64(59*time.Millisecond), r.Merged[1], "the max of all runs merged")
		assert.Equal(t, 50.0, r.Merged[2])
		assert.Greater(t, r.Merged[0], p95.Median, "merged and median-of-runs differ and are both shown")
		var b bytes.Buffer
		require.NoError(t, reps.WriteText(&b))
		assert.Contains(t, b.String(), "all runs merged")
		assert.Contains(t, b.String(), "[24.0ms, 54.0ms]")
		_, err = Repeat(t.Context(), 0, mk, RepeatOptions{})
		assert.Error(t, err)
	})
}
