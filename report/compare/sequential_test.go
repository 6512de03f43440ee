package compare

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
)

// synthetic returns a comparison of the p95 of len(shift) steps, their
// first n runs of the per-run values given, judged at level alpha.
func synthetic(base, cand [][]float64, n int, alpha float64) *Comparison {
	c := &Comparison{Metrics: []report.Metric{report.Quantile(0.95)}, alpha: alpha, noPower: true}
	for i := range base {
		d := Delta{Metric: report.Quantile(0.95), BaselineRuns: base[i][:n], CandidateRuns: cand[i][:n]}
		d.Baseline, d.Candidate = d.BaselineRuns[0], d.CandidateRuns[0]
		assess(&d)
		c.Rows = append(c.Rows, RowComparison{Row: report.Row{Scenario: "s", Step: string(rune('a' + i))}, Deltas: []Delta{d}})
	}
	c.decide()
	return c
}

// sequence runs the sequential rule on simulated runs: steps whose p95
// the candidate multiplies by shift[i], a spread of 5 % a run, looks from
// lo to hi pairs, each at level alpha. It returns whether some look found
// a violation, and whether the sequence ended decided without one.
func sequence(rng *rand.Rand, shift []float64, budget Budget, lo, hi int, alpha float64) (alarm, passed bool) {
	base, cand := make([][]float64, len(shift)), make([][]float64, len(shift))
	for i, f := range shift {
		for range hi {
			base[i] = append(base[i], 5e6*math.Exp(0.05*rng.NormFloat64()))
			cand[i] = append(cand[i], f*5e6*math.Exp(0.05*rng.NormFloat64()))
		}
	}
	for n := lo; n <= hi; n++ {
		c := synthetic(base, cand, n, alpha)
		vs, err := c.Violations(budget)
		if err != nil {
			panic(err)
		}
		if len(vs) > 0 {
			return true, false
		}
		if c.decided([]Budget{budget}, vs) {
			return false, true
		}
	}
	return false, false
}

// TestSequentialKeepsItsAlpha: 1 000 simulated A/A sequences of a gate of
// three tests with no tolerance (p95 +0 %), looking after every pair from
// 7 to 20. Spending the level over the 14 looks keeps the share of
// sequences with any false violation at most 5 % (plus three standard
// errors); looking at 5 % each time, as naive peeking does, does not.
// A change of +15 % against a budget of +10 % is called within the budget
// in at most 2.5 % of sequences (plus three standard errors), and found
// in most.
func TestSequentialKeepsItsAlpha(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	seq := Sequential{Budgets: []Budget{MustParseBudget("p95 +0%")}}
	lo, hi, err := seq.looks()
	require.NoError(t, err)
	assert.Equal(t, 7, lo)
	assert.Equal(t, 20, hi)
	spent := Alpha / float64(hi-lo+1)
	const trials = 1000
	margin := 3 * math.Sqrt(0.05*0.95/trials)

	aa := func(alpha float64) float64 {
		rng := rand.New(rand.NewPCG(11, 12))
		alarms := 0
		for range trials {
			if alarm, _ := sequence(rng, []float64{1, 1, 1}, seq.Budgets[0], lo, hi, alpha); alarm {
				alarms++
			}
		}
		return float64(alarms) / trials
	}
	spentRate, naiveRate := aa(spent), aa(Alpha)
	t.Logf("A/A sequences with a false violation: %.1f%% at the spent level %.4f, %.1f%% peeking at %.2f", 100*spentRate, spent, 100*naiveRate, Alpha)
	assert.LessOrEqual(t, spentRate, Alpha+margin)
	assert.Greater(t, naiveRate, Alpha+margin, "peeking without spending cries wolf")

	rng := rand.New(rand.NewPCG(13, 14))
	falsePass, found := 0, 0
	budget := MustParseBudget("p95 +10%")
	for range trials {
		alarm, passed := sequence(rng, []float64{1.15}, budget, lo, hi, spent)
		if passed {
			falsePass++
		}
		if alarm {
			found++
		}
	}
	t.Logf("+15%% against a +10%% budget: called within it in %d of %d sequences, found in %d", falsePass, trials, found)
	assert.LessOrEqual(t, float64(falsePass)/trials, Alpha/2+3*math.Sqrt(0.025*0.975/trials))
}

func TestSequentialOptionsAreChecked(t *testing.T) {
	_, _, err := RepeatUntilDecided(t.Context(), nil, nil, Sequential{}, RepeatOptions{})
	assert.EqualError(t, err, "compare: Sequential.Budgets must name the gate to decide")
	_, _, err = (Sequential{Min: 30, Max: 20}).looks()
	assert.EqualError(t, err, "compare: Sequential.Min (30) must be at most Max (20)")
	_, _, err = (Sequential{Max: 3}).looks()
	assert.EqualError(t, err, "compare: Sequential.Max must be at least 4, got 3")
	_, _, err = (Sequential{Min: -1}).looks()
	assert.EqualError(t, err, "compare: Sequential.Min and Max must be >= 0 (0 for the defaults), got -1 and 0")
	_, _, err = RepeatUntilDecided(t.Context(), nil, nil, Sequential{Budgets: []Budget{MustParseBudget("p95 +10%")}, Correction: 5}, RepeatOptions{})
	assert.EqualError(t, err, "compare: Sequential.Correction must be Holm, BenjaminiHochberg or PerMetric, got 5")
}

// TestRepeatUntilDecided: on the fake clock every run of a side is the
// same, so the first look (7 pairs, the fewest whose test can be
// significant at the spent level 0.05/14) decides: a candidate twice as
// slow breaks its budget; an identical one is known to be within it, its
// interval [0, 0]. A candidate 5 % slower against a budget of +10 % is
// known to be within it too.
func TestRepeatUntilDecided(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mk := func(d time.Duration, runs *int) func(int) *loadgen.Plan {
			return func(int) *loadgen.Plan {
				*runs++
				return &loadgen.Plan{Scenarios: []loadgen.Scenario{{Name: "s", Executor: loadgen.PerVUIterations{VUs: 1, Iterations: 10},
					Iteration: func(context.Context, *loadgen.Iteration) error { time.Sleep(d); return nil }}}}
			}
		}
		seq := Sequential{Budgets: []Budget{MustParseBudget("p95 +10%")}}
		for _, tc := range []struct {
			cand       time.Duration
			violations int
		}{{20 * time.Millisecond, 1}, {10 * time.Millisecond, 0}, {10500 * time.Microsecond, 0}} {
			var nb, nc int
			c, vs, err := RepeatUntilDecided(t.Context(), mk(10*time.Millisecond, &nb), mk(tc.cand, &nc), seq, RepeatOptions{})
			require.NoError(t, err)
			assert.Equal(t, 7, nb, "decided at the first look")
			assert.Equal(t, 7, nc)
			assert.Len(t, vs, tc.violations, "candidate %v", tc.cand)
			assert.InDelta(t, 0.05/14, c.Level(), 1e-12)
			var b bytes.Buffer
			require.NoError(t, c.WriteText(&b))
			assert.Contains(t, b.String(), "what the gated tests could find:")
		}
	})
}

// TestAtTheBudgetIsNoViolation: a change exactly the size of the budget
// (+10 % against p95 +10 %) is significant against no change almost
// always; what keeps it from being called a violation is its interval,
// which must clear the budget at the gate's level over its family. In
// 1 000 simulated gates of three such tests (7+7 runs), and in 1 000
// sequences of one looking from 7 to 20 pairs, violations stay at most
// 2.5 % (plus three standard errors); with a plain 95 % interval they were
// 4.8 % and 8.4 %.
func TestAtTheBudgetIsNoViolation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const trials = 1000
	budget := MustParseBudget("p95 +10%")
	rng := rand.New(rand.NewPCG(21, 22))
	gates := 0
	for range trials {
		if alarm, _ := sequence(rng, []float64{1.1, 1.1, 1.1}, budget, 7, 7, Alpha); alarm {
			gates++
		}
	}
	seqs := 0
	for range trials {
		if alarm, _ := sequence(rng, []float64{1.1}, budget, 7, 20, Alpha/14); alarm {
			seqs++
		}
	}
	t.Logf("a change at the budget called a violation: %d of %d gates of three, %d of %d sequences", gates, trials, seqs, trials)
	half := Alpha/2 + 3*math.Sqrt(0.025*0.975/trials)
	assert.LessOrEqual(t, float64(gates)/trials, half)
	assert.LessOrEqual(t, float64(seqs)/trials, half)
}

// TestSignificantWithoutAnIntervalStillBreaks: under Benjamini-Hochberg
// two gated tests of 4+4 runs, both twice as slow, are significant (p =
// 0.029 each, adjusted 0.029), but 4+4 runs have no interval at the gate's
// level of 0.025; the gate holds the merged change to the budget rather
// than pass.
func TestSignificantWithoutAnIntervalStillBreaks(t *testing.T) {
	tied := func(v float64) []float64 { return []float64{v, v, v, v} }
	c := &Comparison{Metrics: []report.Metric{report.Quantile(0.95)}, Correction: BenjaminiHochberg, noPower: true}
	for _, step := range []string{"a", "b"} {
		d := Delta{Metric: report.Quantile(0.95), BaselineRuns: tied(5e6), CandidateRuns: tied(10e6), Baseline: 5e6, Candidate: 10e6}
		assess(&d)
		c.Rows = append(c.Rows, RowComparison{Row: report.Row{Scenario: "s", Step: step}, Deltas: []Delta{d}})
	}
	vs, err := c.Violations(MustParseBudget("p95 +10%"))
	require.NoError(t, err)
	require.Len(t, vs, 2)
	assert.Equal(t, Worse, vs[0].Delta.Conclusion)
	assert.Equal(t, "p95 worse: change of the merged values +100.0%, beyond the budget of +10.0% (p=0.029, benjamini-hochberg-adjusted 0.029 over 2 gated tests; too few runs for a 97.5% interval)", vs[0].Reason)
}

// TestAPartialMergeIsNamed: a comparison with a partial merge warns that
// its counts and rates are those of part of the load.
func TestAPartialMergeIsNamed(t *testing.T) {
	res, err := loadgen.LoadResult("../../testdata/results/v4-merged.json")
	require.NoError(t, err)
	c, err := Compare([]*loadgen.Result{res}, []*loadgen.Result{res})
	require.NoError(t, err)
	assert.Contains(t, c.Warnings, "baseline run 1 is a partial merge (2 of 3 segments): its counts and rates are those of part of the load")
	assert.Contains(t, c.Warnings, "candidate run 1 is a partial merge (2 of 3 segments): its counts and rates are those of part of the load")
}
