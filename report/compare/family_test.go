package compare

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aclements/go-moremath/stats"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/report"
)

func TestAdjust(t *testing.T) {
	ps := []float64{0.01, 0.04, math.NaN(), 0.03, 0.005}
	// Holm over 4: sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1,
	// made monotone: 0.02, 0.03, 0.06, 0.06.
	holm := Holm.Adjust(ps)
	for i, want := range []float64{0.03, 0.06, math.NaN(), 0.06, 0.02} {
		if math.IsNaN(want) {
			assert.True(t, math.IsNaN(holm[i]))
			continue
		}
		assert.InDelta(t, want, holm[i], 1e-12, "holm %d", i)
	}
	// Benjamini-Hochberg over 4: p(k)·4/k from the largest down:
	// 0.04, min(0.04, 0.03·4/3 = 0.04), min(0.04, 0.01·2) = 0.02,
	// min(0.02, 0.005·4) = 0.02.
	bh := BenjaminiHochberg.Adjust(ps)
	for i, want := range []float64{0.02, 0.04, math.NaN(), 0.04, 0.02} {
		if math.IsNaN(want) {
			assert.True(t, math.IsNaN(bh[i]))
			continue
		}
		assert.InDelta(t, want, bh[i], 1e-12, "bh %d", i)
	}
	assert.Equal(t, ps[:2], PerMetric.Adjust(ps)[:2])
	assert.Equal(t, []float64{1, 1}, Holm.Adjust([]float64{0.6, 0.5}), "capped at 1 and monotone")

	var k Correction
	require.NoError(t, k.UnmarshalText([]byte("bh")))
	assert.Equal(t, BenjaminiHochberg, k)
	assert.EqualError(t, k.UnmarshalText([]byte("bonferroni")), `want holm, benjamini-hochberg (bh) or per-metric, got "bonferroni"`)
	assert.Error(t, Correction(7).Validate())
}

func TestRunsFor(t *testing.T) {
	// The smallest p of n+n runs is 2/C(2n, n): 0.029 (4), 0.0079 (5),
	// 0.0022 (6), 0.00058 (7).
	assert.Equal(t, 4, Holm.RunsFor(1))
	assert.Equal(t, 5, Holm.RunsFor(2))
	assert.Equal(t, 5, Holm.RunsFor(6))
	assert.Equal(t, 6, Holm.RunsFor(7))
	assert.Equal(t, 6, Holm.RunsFor(23))
	assert.Equal(t, 7, Holm.RunsFor(24))
	assert.Equal(t, 7, Holm.RunsFor(85))
	assert.Equal(t, 4, BenjaminiHochberg.RunsFor(40))
	assert.Equal(t, 4, PerMetric.RunsFor(40))
}

// family simulates one comparison of m metrics with n runs a side: each
// metric's per-run values are log-normal around its median, with a
// run-to-run spread of 5 % (what a quiet machine shows), the candidate's
// medians those of the baseline times shift[i] (1 for no change).
func family(rng *rand.Rand, n int, shift []float64) []*Delta {
	out := make([]*Delta, len(shift))
	for i, f := range shift {
		d := &Delta{Metric: report.Quantile(0.95)}
		for range n {
			d.BaselineRuns = append(d.BaselineRuns, 5e6*math.Exp(0.05*rng.NormFloat64()))
			d.CandidateRuns = append(d.CandidateRuns, f*5e6*math.Exp(0.05*rng.NormFloat64()))
		}
		out[i] = d
	}
	return out
}

// falseAlarms returns the share of simulated A/A families of m metrics
// with n runs a side in which some metric is called better or worse.
func falseAlarms(k Correction, families, m, n int) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	shift := make([]float64, m)
	for i := range shift {
		shift[i] = 1
	}
	alarms := 0
	for range families {
		ds := family(rng, n, shift)
		for _, d := range ds {
			assess(d)
		}
		decide(ds, k, Alpha)
		for _, d := range ds {
			if d.Conclusion == Better || d.Conclusion == Worse {
				alarms++
				break
			}
		}
	}
	return float64(alarms) / float64(families)
}

// TestFamilyWiseFalseAlarms: 1 000 simulated A/A comparisons of 16
// independent metrics, 7 runs a side. Each test alone is at 5 %, so per
// metric some 1 − 0.95^16 = 56 % of the families cry wolf; under Holm the
// share of families with any false verdict stays at most 5 % (plus three
// standard errors of a 1 000-family estimate, 2.1 points). Under
// Benjamini-Hochberg, with every null true, the false discovery rate is
// the family-wise rate, also held to 5 %. The generator is seeded: the
// figures are the same on every run.
func TestFamilyWiseFalseAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const families, m, n = 1000, 16, 7
	margin := 3 * math.Sqrt(0.05*0.95/families)
	perMetric := falseAlarms(PerMetric, families, m, n)
	holm := falseAlarms(Holm, families, m, n)
	bh := falseAlarms(BenjaminiHochberg, families, m, n)
	t.Logf("A/A families with a false verdict: per metric %.1f%%, Holm %.1f%%, Benjamini-Hochberg %.1f%%", 100*perMetric, 100*holm, 100*bh)
	assert.Greater(t, perMetric, 0.35, "each test alone cries wolf across a family")
	assert.LessOrEqual(t, holm, 0.05+margin)
	assert.LessOrEqual(t, bh, 0.05+margin)
}

// TestFamilyStillFindsARealChange: one metric of 16 goes from 5 to 6 ms
// (+20 %, four times the run-to-run spread), the others stay; with 7 runs a
// side, Holm over the 16 still calls it worse in nearly every family, and
// the unchanged ones rarely.
func TestFamilyStillFindsARealChange(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shift := make([]float64, 16)
	for i := range shift {
		shift[i] = 1
	}
	shift[0] = 1.2
	const families = 200
	found, others := 0, 0
	for range families {
		ds := family(rng, 7, shift)
		for _, d := range ds {
			assess(d)
		}
		decide(ds, Holm, Alpha)
		if ds[0].Conclusion == Worse {
			found++
		}
		for _, d := range ds[1:] {
			if d.Conclusion != Same {
				others++
			}
		}
		assert.Equal(t, 16, ds[0].Family)
	}
	t.Logf("5 → 6 ms found in %d of %d families; %d false verdicts among %d unchanged metrics", found, families, others, 15*families)
	assert.GreaterOrEqual(t, found, 190)
	assert.LessOrEqual(t, others, 15)
}

// TestGateIsItsOwnFamily: twelve tests on three rows, 5 runs a side; one,
// the p95 of list, 50 % worse in every run (p = 0.0079). Over the table's
// twelve, no test of 5+5 runs can be significant under Holm (0.0079 × 12
// > 0.05); over the gate's three p95 tests it is (0.024), and the table
// then shows the gate's verdict. Per metric, each test stands alone.
func TestGateIsItsOwnFamily(t *testing.T) {
	ms := []report.Metric{report.Quantile(0.5), report.Quantile(0.95), report.Quantile(0.99), report.Mean()}
	c := &Comparison{Metrics: ms}
	for _, step := range []string{"list", "detail", "apply"} {
		r := RowComparison{Row: report.Row{Scenario: "s", Step: step}}
		for _, m := range ms {
			d := Delta{Metric: m}
			for range 5 {
				d.BaselineRuns = append(d.BaselineRuns, 5e6)
				v := 5e6
				if step == "list" && m == report.Quantile(0.95) {
					v = 7.5e6
				}
				d.CandidateRuns = append(d.CandidateRuns, v)
			}
			d.Baseline, d.Candidate = d.BaselineRuns[0], d.CandidateRuns[0]
			assess(&d)
			r.Deltas = append(r.Deltas, d)
		}
		c.Rows = append(c.Rows, r)
	}
	c.decide()
	p95 := c.Rows[0].Delta(report.Quantile(0.95))
	assert.Equal(t, Inconclusive, p95.Conclusion, "no 5+5 test is significant among 12")
	assert.Equal(t, 12, p95.Family)

	vs, err := c.Violations(MustParseBudget("p95 +10%"))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, "p95 worse: estimate +50.0%, 98.3% interval [+50.0%, +50.0%], beyond the budget of +10.0% (p=0.008, holm-adjusted 0.024 over 3 gated tests)", vs[0].Reason)
	assert.Equal(t, Worse, p95.Conclusion, "the table shows the gate's verdict")
	assert.Equal(t, 3, p95.Family)
	assert.Equal(t, 9, c.Rows[0].Delta(report.Quantile(0.5)).Family, "the others are a family of their own")
	var b strings.Builder
	require.NoError(t, c.WriteText(&b))
	assert.Contains(t, b.String(), "holm-adjusted within its family, the 3 tests the budgets gate or the 9 others")
	assert.Contains(t, b.String(), "  what the gated tests could find:\n    s/list p95: 5+5 runs did not vary within a side: any change is found; +10.0% needs 5 runs a side to be significant\n")
	assert.Nil(t, c.Rows[0].Delta(report.Quantile(0.5)).Power, "only gated tests")

	require.NoError(t, c.SetCorrection(PerMetric))
	assert.Equal(t, p95.P, p95.PAdjusted)
	assert.Equal(t, Worse, p95.Conclusion)
	vs, err = c.Violations(MustParseBudget("p95 +10%"))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Contains(t, vs[0].Reason, "(p=0.008)")
	assert.Error(t, c.SetCorrection(Correction(9)))
}

// ideal returns n runs spread as a log-normal of median m and spread
// sigma: its quantiles at (i − ½)/n, scaled so that their standard
// deviation on logarithms is sigma.
func ideal(n int, m, sigma float64) []float64 {
	zs := make([]float64, n)
	for i := range zs {
		zs[i] = math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/float64(n)-1)
	}
	sd := stats.Sample{Xs: zs}.StdDev()
	out := make([]float64, n)
	for i, z := range zs {
		out[i] = m * math.Exp(sigma*z/sd)
	}
	return out
}

// TestPowerHoldsInSimulation: from 7+7 runs spread as a log-normal of 5 %
// (a p95 of 5 ms), in a gate of three tests, Power says which change the
// comparison finds with an 80 % chance and how many runs find +5 %. Fresh
// comparisons drawn from that log-normal, judged as Compare judges them
// (Holm over the three, two of them unchanged), find that change 80 % of
// the time, within 5 points, and +5 % with that many runs at least 80 %.
func TestPowerHoldsInSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const sigma, m = 0.05, 3
	d := Delta{Metric: report.Quantile(0.95), BaselineRuns: ideal(7, 5e6, sigma), CandidateRuns: ideal(7, 5e6, sigma), Family: m}
	p, ok := d.PowerFor(0.05, Holm)
	require.True(t, ok)
	t.Logf("7+7 runs at %.4f detect ≥ %+.1f%%; +5%% needs %d runs a side", p.Level, 100*p.Detectable, p.RunsNeeded)
	require.False(t, math.IsInf(p.Detectable, 0))

	found := func(n int, change float64) float64 {
		rng := rand.New(rand.NewPCG(7, uint64(n)))
		hits := 0
		const trials = 2000
		for range trials {
			shift := []float64{1 + change, 1, 1}
			var ds []*Delta
			for _, f := range shift {
				x := &Delta{Metric: report.Quantile(0.95)}
				for range n {
					x.BaselineRuns = append(x.BaselineRuns, 5e6*math.Exp(sigma*rng.NormFloat64()))
					x.CandidateRuns = append(x.CandidateRuns, f*5e6*math.Exp(sigma*rng.NormFloat64()))
				}
				assess(x)
				ds = append(ds, x)
			}
			decide(ds, Holm, Alpha)
			if ds[0].Conclusion == Worse {
				hits++
			}
		}
		return float64(hits) / trials
	}
	at := found(7, p.Detectable)
	t.Logf("a change of %+.1f%% found in %.1f%% of fresh comparisons", 100*p.Detectable, 100*at)
	assert.InDelta(t, PowerTarget, at, 0.05)
	if p.RunsNeeded <= MaxPowerRuns {
		assert.GreaterOrEqual(t, found(p.RunsNeeded, 0.05), PowerTarget-0.05)
	}

	// Too few runs for the family: nothing is detectable.
	few := Delta{Metric: report.Quantile(0.95), BaselineRuns: ideal(4, 5e6, sigma), CandidateRuns: ideal(4, 5e6, sigma), Family: m}
	p, ok = few.PowerFor(0.05, Holm)
	require.True(t, ok)
	assert.True(t, math.IsInf(p.Detectable, 1))
	assert.Equal(t, 4, p.Baseline)
	_, ok = Delta{BaselineRuns: ideal(3, 1, sigma), CandidateRuns: ideal(3, 1, sigma)}.PowerFor(0.05, Holm)
	assert.False(t, ok)
}
