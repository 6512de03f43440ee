package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/aclements/go-moremath/stats"
	"golang.org/x/perf/benchmath"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// Alpha is the significance level of comparisons: a change is reported as
// real when the two-sided Mann-Whitney U test gives p < Alpha.
const Alpha = 0.05

// MinRuns is the fewest runs per side for a verdict; RecommendedRuns is
// what to aim for.
const (
	MinRuns         = 4
	RecommendedRuns = 7
)

// Verdict of a comparison of one metric.
type Change int

// The possible verdicts.
const (
	NoChange     Change = iota // no significant change ("~")
	Better                     // significantly better
	Worse                      // significantly worse
	Inconclusive               // too few runs to tell
	Added                      // only the candidate has this row
	Removed                    // only the baseline has this row
)

// String returns "~", "better", "worse", "inconclusive", "added" or
// "removed".
func (c Change) String() string {
	return [...]string{"~", "better", "worse", "inconclusive", "added", "removed"}[c]
}

// CompareMetrics are the metrics a comparison covers, in order.
var CompareMetrics = []string{"median", "p90", "p95", "p99", "mean", "max", "rate", "error_rate"}

// MetricDelta compares one metric of one row.
type MetricDelta struct {
	Metric string
	// Base and Cand are the headline values, from the merged histograms of
	// each side's runs: nanoseconds for latencies, per second for rate, a
	// fraction for error_rate.
	Base, Cand float64
	// Abs is Cand - Base; Rel is Cand/Base - 1 (NaN when Base is 0).
	Abs, Rel float64
	// PerRunBase and PerRunCand are each run's own value, from its own
	// histogram: the samples the test runs on.
	PerRunBase, PerRunCand []float64
	// P is the two-sided Mann-Whitney U p-value over the per-run values (1
	// when not computed).
	P float64
	// Estimate is the Hodges-Lehmann estimate of the change, with its
	// distribution-free 95 % interval [Low, High]: a relative change
	// (0.1 is +10 %) for latencies and rate, a difference of fractions for
	// error_rate. HasInterval is false when the runs are too few.
	Estimate, Low, High float64
	HasInterval         bool
	Verdict             Change
}

// Relative reports whether Estimate, Low and High are relative changes.
func (d MetricDelta) Relative() bool { return d.Metric != "error_rate" }

// RowDelta compares one step (or a scenario's iterations).
type RowDelta struct {
	Row
	Verdict Change // Added, Removed, or NoChange when both sides have it
	Metrics []MetricDelta
}

// Comparison is a baseline-versus-candidate comparison, row by row.
type Comparison struct {
	BaseRuns, CandRuns int
	Rows               []RowDelta
	// Warnings are caveats: too few runs, plans that differ.
	Warnings []string
}

// Compare compares the runs of a baseline with those of a candidate (one
// run each, or repetitions; see [RepeatInterleaved]). Headline values come
// from each side's merged histograms; the verdict comes from the per-run
// values of each side (never from pooled requests, which are
// autocorrelated): a two-sided Mann-Whitney U test at [Alpha], with a
// Hodges-Lehmann estimate and its 95 % interval. With fewer than [MinRuns]
// runs on a side, verdicts are [Inconclusive] but the values and changes
// are still shown.
func Compare(baseline, candidate []*loadgen.Result) *Comparison {
	c := &Comparison{BaseRuns: len(baseline), CandRuns: len(candidate)}
	if c.BaseRuns < MinRuns || c.CandRuns < MinRuns {
		c.Warnings = append(c.Warnings, fmt.Sprintf("inconclusive: need ≥ %d runs per side (%d recommended); have %d and %d",
			MinRuns, RecommendedRuns, c.BaseRuns, c.CandRuns))
	}
	if len(baseline) == 0 || len(candidate) == 0 {
		return c
	}
	if d := planDiff(baseline[0].Plan, candidate[0].Plan); d != "" {
		c.Warnings = append(c.Warnings, "the plans differ: "+d)
	}
	baseRows, candRows := rowsOf(baseline[0]), rowsOf(candidate[0])
	for _, r := range baseRows {
		if !slices.Contains(candRows, r) {
			c.Rows = append(c.Rows, RowDelta{Row: r, Verdict: Removed})
			continue
		}
		c.Rows = append(c.Rows, compareRow(r, baseline, candidate))
	}
	for _, r := range candRows {
		if !slices.Contains(baseRows, r) {
			c.Rows = append(c.Rows, RowDelta{Row: r, Verdict: Added})
		}
	}
	return c
}

func planDiff(a, b loadgen.PlanInfo) string {
	if len(a.Scenarios) != len(b.Scenarios) {
		return fmt.Sprintf("%d scenarios vs %d", len(a.Scenarios), len(b.Scenarios))
	}
	for i := range a.Scenarios {
		if a.Scenarios[i].Description != b.Scenarios[i].Description {
			return fmt.Sprintf("scenario %q: %s vs %s", a.Scenarios[i].Name, a.Scenarios[i].Description, b.Scenarios[i].Description)
		}
	}
	return ""
}

// sideFigures returns per-run figures and the merged figures of a row.
func sideFigures(runs []*loadgen.Result, r Row) (perRun []Figures, merged Figures) {
	var all metrics.Stats
	var window time.Duration
	for _, res := range runs {
		st, w, ok := RunStats(res, r)
		if !ok {
			continue
		}
		perRun = append(perRun, FiguresOf(st, w))
		all.Merge(&st)
		window += w
	}
	return perRun, FiguresOf(all, window)
}

func metricValue(f Figures, m string) float64 {
	switch m {
	case "median":
		return float64(f.Median)
	case "p90":
		return float64(f.P90)
	case "p95":
		return float64(f.P95)
	case "p99":
		return float64(f.P99)
	case "mean":
		return float64(f.Mean)
	case "max":
		return float64(f.Max)
	case "rate":
		return f.Rate
	case "error_rate":
		return f.ErrorRate
	}
	panic("report: unknown comparison metric " + m)
}

func higherIsBetter(m string) bool { return m == "rate" }

func compareRow(r Row, baseline, candidate []*loadgen.Result) RowDelta {
	bRuns, bMerged := sideFigures(baseline, r)
	cRuns, cMerged := sideFigures(candidate, r)
	rd := RowDelta{Row: r}
	for _, m := range CompareMetrics {
		d := MetricDelta{Metric: m, Base: metricValue(bMerged, m), Cand: metricValue(cMerged, m), P: 1}
		d.Abs = d.Cand - d.Base
		d.Rel = math.NaN()
		if d.Base != 0 {
			d.Rel = d.Cand/d.Base - 1
		}
		for _, f := range bRuns {
			d.PerRunBase = append(d.PerRunBase, metricValue(f, m))
		}
		for _, f := range cRuns {
			d.PerRunCand = append(d.PerRunCand, metricValue(f, m))
		}
		assess(&d)
		rd.Metrics = append(rd.Metrics, d)
	}
	return rd
}

// assess computes the test, the estimate and the verdict of d.
func assess(d *MetricDelta) {
	nb, nc := len(d.PerRunBase), len(d.PerRunCand)
	if nb < MinRuns || nc < MinRuns {
		d.Verdict = Inconclusive
		d.Estimate = d.Rel
		if !d.Relative() {
			d.Estimate = d.Abs
		}
		return
	}
	th := benchmath.DefaultThresholds
	th.CompareAlpha = Alpha
	cmp := benchmath.AssumeNothing.Compare(
		benchmath.NewSample(slices.Clone(d.PerRunBase), &th),
		benchmath.NewSample(slices.Clone(d.PerRunCand), &th))
	d.P = cmp.P
	d.Estimate, d.Low, d.High, d.HasInterval = hodgesLehmann(d.PerRunBase, d.PerRunCand, d.Relative())
	switch {
	case d.P >= Alpha:
		d.Verdict = NoChange
	case (d.Estimate > 0) == higherIsBetter(d.Metric) && d.Estimate != 0:
		d.Verdict = Better
	case d.Estimate == 0:
		d.Verdict = NoChange
	default:
		d.Verdict = Worse
	}
}

// hodgesLehmann estimates the shift from base to cand as the median of all
// pairwise differences (of logarithms, for a relative change, when every
// value is positive), with the distribution-free interval between the k-th
// smallest and k-th largest differences, k from the exact Mann-Whitney U
// distribution at 95 %.
func hodgesLehmann(base, cand []float64, relative bool) (est, lo, hi float64, ok bool) {
	logs := relative
	for _, v := range slices.Concat(base, cand) {
		if v <= 0 {
			logs = false
		}
	}
	var diffs []float64
	for _, b := range base {
		for _, c := range cand {
			if logs {
				diffs = append(diffs, math.Log(c)-math.Log(b))
			} else {
				diffs = append(diffs, c-b)
			}
		}
	}
	sort.Float64s(diffs)
	n := len(diffs)
	med := diffs[n/2]
	if n%2 == 0 {
		med = (diffs[n/2-1] + diffs[n/2]) / 2
	}
	// k: the largest k with P(U <= k-1) <= alpha/2.
	dist := stats.UDist{N1: len(base), N2: len(cand)}
	k := 0
	for k < n/2 && dist.CDF(float64(k)) <= Alpha/2 {
		k++
	}
	// Logarithms convert back to a relative change; with a zero value among
	// the runs the estimate stays a plain difference.
	conv := func(x float64) float64 {
		if logs {
			return math.Exp(x) - 1
		}
		return x
	}
	if k == 0 {
		return conv(med), 0, 0, false
	}
	return conv(med), conv(diffs[k-1]), conv(diffs[n-k]), true
}

// RepeatInterleaved runs baseline and candidate n times each, alternating
// (B C B C …) so that drift of the machine does not look like a change, with
// pause between runs. It returns each side's runs.
func RepeatInterleaved(ctx context.Context, n int, pause time.Duration, baseline, candidate func(run int) *loadgen.Plan) (base, cand []*loadgen.Result, err error) {
	if n <= 0 {
		return nil, nil, fmt.Errorf("report: RepeatInterleaved needs n > 0, got %d", n)
	}
	for i := range n {
		for side, mk := range []func(int) *loadgen.Plan{baseline, candidate} {
			if len(base)+len(cand) > 0 && pause > 0 {
				t := time.NewTimer(pause)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return base, cand, context.Cause(ctx)
				}
			}
			res, err := loadgen.Run(ctx, mk(i))
			if err != nil {
				return base, cand, fmt.Errorf("report: run %d of the %s: %w", i+1, [...]string{"baseline", "candidate"}[side], err)
			}
			if side == 0 {
				base = append(base, res)
			} else {
				cand = append(cand, res)
			}
		}
	}
	return base, cand, nil
}

// Budget is a regression budget: the candidate may not be worse than the
// baseline by more than Max (0.10 is 10 %; for error_rate, a difference of
// fractions) on Metric, for the rows Selector picks ("" for every step and
// iteration row, else as in [Threshold.Selector]).
type Budget struct {
	Metric   string
	Max      float64
	Selector string
}

// Violation is a row and metric that broke a budget.
type Violation struct {
	Budget Budget
	Row    Row
	Delta  MetricDelta
	// Reason says what broke the budget.
	Reason string
}

// Violations returns every row and metric that broke a budget. With enough
// runs, a row breaks its budget only when the change is significant and
// the whole 95 % interval lies past the budget (the bound nearest to no
// change is worse than Max). With too few runs there is no interval: the
// headline change is held against the budget instead, and the reason says
// that no significance was established.
func (c *Comparison) Violations(budgets ...Budget) []Violation {
	var out []Violation
	for _, b := range budgets {
		for _, r := range c.Rows {
			if r.Verdict == Added || r.Verdict == Removed || !selects(b.Selector, r.Row) {
				continue
			}
			for _, d := range r.Metrics {
				if d.Metric != b.Metric {
					continue
				}
				if v, ok := violates(b, d); ok {
					out = append(out, Violation{Budget: b, Row: r.Row, Delta: d, Reason: v})
				}
			}
		}
	}
	return out
}

func violates(b Budget, d MetricDelta) (string, bool) {
	worse := func(x float64) float64 { // how much worse x is, as a positive number
		if higherIsBetter(d.Metric) {
			return -x
		}
		return x
	}
	if d.HasInterval {
		bound := d.Low
		if higherIsBetter(d.Metric) {
			bound = d.High
		}
		if d.Verdict == Worse && worse(bound) > b.Max {
			return fmt.Sprintf("%s worse by %s, 95%% interval %s, beyond the %s budget (p=%.3f)",
				d.Metric, pct(worse(d.Estimate), d.Relative()), interval(d), pct(b.Max, d.Relative()), d.P), true
		}
		return "", false
	}
	change := d.Rel
	if !d.Relative() {
		change = d.Abs
	}
	if !math.IsNaN(change) && worse(change) > b.Max {
		return fmt.Sprintf("%s worse by %s, beyond the %s budget (no significance: fewer than %d runs per side)",
			d.Metric, pct(worse(change), d.Relative()), pct(b.Max, d.Relative()), MinRuns), true
	}
	return "", false
}

func selects(sel string, r Row) bool {
	switch {
	case sel == "":
		return true
	case r.Step != "" && sel == r.Scenario+"/"+r.Step:
		return true
	case r.Step != "" && sel == r.Step:
		return true
	case r.Step == "" && sel == r.Scenario:
		return true
	}
	return false
}

// RequireNoRegression fails t with the comparison table and one error per
// violation when the candidate breaks a budget; it returns whether none was
// broken.
func RequireNoRegression(t TestingT, c *Comparison, budgets ...Budget) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	vs := c.Violations(budgets...)
	if len(vs) == 0 {
		return true
	}
	table := comparisonText(c)
	for _, v := range vs {
		t.Errorf("regression in %v: %s\n%s", v.Row, v.Reason, table)
	}
	return false
}
