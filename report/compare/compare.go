package compare

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/aclements/go-moremath/stats"
	"golang.org/x/perf/benchmath"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
)

// Alpha is the significance level of comparisons: a change is reported as
// real when its Mann-Whitney U p-value, adjusted over its family (see
// [Correction]), is below Alpha.
const Alpha = 0.05

// MinRuns is the fewest runs per side for a conclusion; RecommendedRuns is
// what to aim for (with 6 or more, benchstat also shows an interval).
const (
	MinRuns         = 4
	RecommendedRuns = 7
)

// Conclusion is what a comparison concludes about one metric of one row.
type Conclusion int

// The conclusions.
const (
	Same         Conclusion = iota // no significant change ("~")
	Better                         // significantly better
	Worse                          // significantly worse
	Inconclusive                   // too few runs to tell (for the family's size)
)

// String returns "~", "better", "worse" or "inconclusive".
func (v Conclusion) String() string {
	switch v {
	case Same:
		return "~"
	case Better:
		return "better"
	case Worse:
		return "worse"
	case Inconclusive:
		return "inconclusive"
	}
	return fmt.Sprintf("conclusion(%d)", int(v))
}

// DefaultMetrics are the metrics a comparison covers when none are given:
// p50, p90, p95, p99, mean and max of successful operations, the rate and
// the error rate.
func DefaultMetrics() []report.Metric {
	return []report.Metric{
		report.Quantile(0.5), report.Quantile(0.9), report.Quantile(0.95), report.Quantile(0.99),
		report.Mean(), report.Max(), report.Rate(), report.ErrorRate(),
	}
}

// Delta compares one metric of one row.
type Delta struct {
	Metric report.Metric
	// Baseline and Candidate are the headline values, from the merged
	// histograms (and summed counts) of each side's runs, in the metric's
	// unit. Either is NaN when its side has no data for the metric.
	Baseline, Candidate float64
	// BaselineRuns and CandidateRuns are each run's own value, from its own
	// histogram: the samples the test runs on.
	BaselineRuns, CandidateRuns []float64
	// P is the two-sided Mann-Whitney U p-value over the per-run values (1
	// when not computed); PAdjusted is P adjusted over the family of tests
	// it was judged in (see [Correction]; the comparison's table, or the
	// gated tests in a [Violation]), what the conclusion rests on. Family
	// is that family's size (0 when not tested).
	P, PAdjusted float64
	Family       int
	// Estimate is the Hodges-Lehmann estimate of the change, with its
	// distribution-free 95 % interval [Low, High]: a relative change
	// (0.1 is +10 %) for latencies, rates and counts, a difference for
	// shares (error rate). HasInterval is false when the runs are too few,
	// or when a relative change is undefined because the baseline's runs
	// were all 0 (the conclusion then rests on the test alone).
	Estimate, Low, High float64
	HasInterval         bool
	Conclusion          Conclusion
	// Power is what the test could find, for a test a gate checked
	// ([Comparison.Violations]); nil otherwise.
	Power *Power
}

// Relative reports whether the changes of d are relative (a fraction of
// the baseline) rather than differences.
func (d Delta) Relative() bool { return d.Metric.Unit() != report.UnitFraction }

// Change returns the headline change: Candidate/Baseline - 1 for a
// relative metric (+Inf when the baseline is 0 and the candidate is not),
// Candidate - Baseline for a share; NaN when a side has no data.
func (d Delta) Change() float64 {
	switch {
	case !d.Relative():
		return d.Candidate - d.Baseline
	case d.Baseline == 0 && d.Candidate == 0:
		return 0
	case d.Baseline == 0:
		return math.Inf(1)
	}
	return d.Candidate/d.Baseline - 1
}

// Presence says which sides have a row.
type Presence int

// The presences of a row.
const (
	Both          Presence = iota
	BaselineOnly           // the candidate lost the row (a step removed)
	CandidateOnly          // the candidate added the row
)

// String returns "", "removed" or "added".
func (p Presence) String() string {
	switch p {
	case BaselineOnly:
		return "removed"
	case CandidateOnly:
		return "added"
	}
	return ""
}

// RowComparison compares one row (a step, or a scenario's iterations).
type RowComparison struct {
	report.Row
	Presence Presence
	// Repeats is set for a scenario's iterations when the scenario has
	// exactly one step: the two rows hold the same operations, and
	// renderers show the row once.
	Repeats bool
	Deltas  []Delta
}

// cell names a delta of a comparison: its row's index and its own.
type cell struct{ row, delta int }

// deltaIndex returns the index of the row's delta for m, or -1.
func (r *RowComparison) deltaIndex(m report.Metric) int {
	for i := range r.Deltas {
		if r.Deltas[i].Metric == m {
			return i
		}
	}
	return -1
}

// Delta returns the row's delta for m, or nil.
func (r *RowComparison) Delta(m report.Metric) *Delta {
	if i := r.deltaIndex(m); i >= 0 {
		return &r.Deltas[i]
	}
	return nil
}

// Comparison is a baseline-versus-candidate comparison, row by row. It
// keeps the runs it was made from, for its HTML page.
type Comparison struct {
	Baseline, Candidate []*loadgen.Result
	Metrics             []report.Metric
	Rows                []RowComparison
	// Correction is how the p-values of the table, and those of the tests
	// a gate checks ([Comparison.Violations]), are adjusted together:
	// [Holm] unless [Comparison.SetCorrection] says otherwise.
	Correction Correction

	gate    map[cell]bool // the tests the last gate checked
	alpha   float64       // the level of its verdicts; 0 means Alpha
	noPower bool          // Violations leaves the power out (a look that may not be the last)
	// Warnings are caveats: too few runs, plans that differ.
	Warnings []string
}

// Compare compares the runs of a baseline with those of a candidate (one
// run each, or repetitions; see [RepeatInterleaved]) row by row — steps,
// iterations and an open scenario's schedule lag — on the metrics given,
// or [DefaultMetrics], where they apply (see [report.Row.Applies]); an open
// scenario's iterations are compared on dropped_share too. Headline values come from each side's merged
// histograms; the conclusion comes from the per-run values of each side (never
// from pooled requests, which are autocorrelated): a two-sided
// Mann-Whitney U test at [Alpha], with a Hodges-Lehmann estimate and its
// 95 % interval, the p-values of the table adjusted together ([Holm] by
// default; see [Comparison.SetCorrection]). With fewer than [MinRuns] runs
// on a side, or too few for any result to be significant in the family,
// conclusions are [Inconclusive] but the values and changes are still
// shown. A metric that
// does not validate is an error.
func Compare(baseline, candidate []*loadgen.Result, ms ...report.Metric) (*Comparison, error) {
	if len(ms) == 0 {
		ms = DefaultMetrics()
	}
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
	}
	c := &Comparison{Baseline: baseline, Candidate: candidate, Metrics: ms}
	nb, nc := len(baseline), len(candidate)
	if nb < MinRuns || nc < MinRuns {
		c.Warnings = append(c.Warnings, fmt.Sprintf("inconclusive: need ≥ %d runs per side (%d recommended); have %d and %d",
			MinRuns, RecommendedRuns, nb, nc))
	}
	if nb == 0 || nc == 0 {
		return c, nil
	}
	if d := planDiff(baseline[0].Plan, candidate[0].Plan); d != "" {
		c.Warnings = append(c.Warnings, "the plans differ: "+d)
	}
	for s, side := range [][]*loadgen.Result{baseline, candidate} {
		for _, r := range side {
			if r.Metrics.LatencyIncludesFailures {
				c.Warnings = append(c.Warnings, "a run was saved in format version 1: its latencies include failed operations")
				break
			}
		}
		for i, r := range side {
			if r.Partial() {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s run %d is a partial merge (%d of %d segments): its counts and rates are those of part of the load",
					[2]string{"baseline", "candidate"}[s], i+1, len(r.Segments), len(r.Segments)+len(r.Missing)))
			}
		}
	}
	baseRows, candRows := report.Rows(baseline[0]), report.Rows(candidate[0])
	for _, r := range baseRows {
		if !slices.Contains(candRows, r) {
			c.Rows = append(c.Rows, RowComparison{Row: r, Presence: BaselineOnly})
			continue
		}
		rms := ms
		if r.Key().Kind == metrics.KindIteration && open(baseline[0], r.Scenario) && !slices.Contains(ms, report.DroppedShare()) {
			rms = append(ms[:len(ms):len(ms)], report.DroppedShare())
		}
		c.Rows = append(c.Rows, compareRow(r, baseline, candidate, rms))
	}
	for _, r := range candRows {
		if !slices.Contains(baseRows, r) {
			c.Rows = append(c.Rows, RowComparison{Row: r, Presence: CandidateOnly})
		}
	}
	steps := map[string]int{}
	for _, r := range c.Rows {
		if r.Step != "" {
			steps[r.Scenario]++
		}
	}
	for i := range c.Rows {
		c.Rows[i].Repeats = c.Rows[i].Key().Kind == metrics.KindIteration && steps[c.Rows[i].Scenario] == 1
	}
	c.decide()
	return c, nil
}

// SetCorrection sets how the comparison's p-values are adjusted together
// and judges the table again: PerMetric for each test alone, as tools
// without family-wise control do.
func (c *Comparison) SetCorrection(k Correction) error {
	if err := k.Validate(); err != nil {
		return err
	}
	c.Correction = k
	c.decide()
	return nil
}

// decide judges the table. The family is every tested metric of every
// row but those that repeat their step (the same operations, tested
// there, whose deltas take their step's judgement); once a gate has named
// its tests ([Comparison.Violations]), those are one family and the rest
// another, each adjusted on its own.
func (c *Comparison) decide() {
	var gated, rest []*Delta
	for i := range c.Rows {
		if r := &c.Rows[i]; !r.Repeats {
			for j := range r.Deltas {
				if d := &r.Deltas[j]; c.gate[cell{i, j}] {
					gated = append(gated, d)
				} else {
					rest = append(rest, d)
				}
			}
		}
	}
	decide(gated, c.Correction, c.Level())
	decide(rest, c.Correction, c.Level())
	for i := range c.Rows {
		r := &c.Rows[i]
		if !r.Repeats {
			continue
		}
		si := stepOf(c.Rows, r.Scenario)
		if si < 0 {
			continue
		}
		for k := range r.Deltas {
			if d := c.Rows[si].Delta(r.Deltas[k].Metric); d != nil {
				r.Deltas[k].PAdjusted, r.Deltas[k].Family, r.Deltas[k].Conclusion = d.PAdjusted, d.Family, d.Conclusion
			}
		}
	}
}

// Selection compares what sel selects in each run, merged into one row
// (every step of a scenario for "[step]", say; see [report.Select]), on
// the metrics given, or p50, p95, p99, rate and error rate: one [Delta] per
// metric, judged as [Compare] judges a row (NaN values where a side has no
// data), the metrics a family adjusted by [Holm]. A selector that
// selects nothing in a run, or a metric that does not validate, is an
// error.
func Selection(baseline, candidate []*loadgen.Result, sel report.Selector, ms ...report.Metric) ([]Delta, error) {
	if len(ms) == 0 {
		ms = []report.Metric{report.Quantile(0.5), report.Quantile(0.95), report.Quantile(0.99), report.Rate(), report.ErrorRate()}
	}
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
	}
	sides := [2]side{}
	for i, runs := range [2][]*loadgen.Result{baseline, candidate} {
		for _, res := range runs {
			st, b, err := report.Select(res, sel)
			if err != nil {
				return nil, fmt.Errorf("compare: %w", err)
			}
			sides[i].add(&st, b)
		}
	}
	ds := deltas(sides[0], sides[1], ms, func(report.Metric) bool { return true })
	family := make([]*Delta, len(ds))
	for i := range ds {
		family[i] = &ds[i]
	}
	decide(family, Holm, Alpha)
	return ds, nil
}

func open(res *loadgen.Result, scenario string) bool {
	sc := res.Plan.Scenario(scenario)
	return sc != nil && sc.Open
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

// side holds one side's stats of a row: per run, and merged.
type side struct {
	runs   []*metrics.Stats
	bases  []report.RateBasis
	merged metrics.Stats
	basis  report.RateBasis // the runs' outcomes and spans added up
}

func sideOf(runs []*loadgen.Result, r report.Row) side {
	var s side
	for _, res := range runs {
		st, w, ok := report.RowStats(res, r)
		if !ok {
			continue
		}
		s.add(st, w)
	}
	return s
}

// add adds one run's stats and rate basis to the side.
func (s *side) add(st *metrics.Stats, b report.RateBasis) {
	s.runs = append(s.runs, st)
	s.bases = append(s.bases, b)
	s.merged.Merge(st)
	s.basis.Outcomes.Add(&b.Outcomes)
	s.basis.Span += b.Span
}

func value(m report.Metric, st *metrics.Stats, w report.RateBasis) float64 {
	v, ok := m.Value(st, w)
	if !ok {
		return math.NaN()
	}
	return v
}

func compareRow(r report.Row, baseline, candidate []*loadgen.Result, ms []report.Metric) RowComparison {
	return RowComparison{Row: r, Deltas: deltas(sideOf(baseline, r), sideOf(candidate, r), ms, r.Applies)}
}

// deltas compares the two sides on the metrics that apply.
func deltas(b, c side, ms []report.Metric, applies func(report.Metric) bool) []Delta {
	var out []Delta
	for _, m := range ms {
		if !applies(m) {
			continue
		}
		d := Delta{Metric: m, Baseline: value(m, &b.merged, b.basis), Candidate: value(m, &c.merged, c.basis), P: 1}
		for i, st := range b.runs {
			if v := value(m, st, b.bases[i]); !math.IsNaN(v) {
				d.BaselineRuns = append(d.BaselineRuns, v)
			}
		}
		for i, st := range c.runs {
			if v := value(m, st, c.bases[i]); !math.IsNaN(v) {
				d.CandidateRuns = append(d.CandidateRuns, v)
			}
		}
		assess(&d)
		out = append(out, d)
	}
	return out
}

// assess computes the test and the estimate of d; [decide] concludes.
func assess(d *Delta) {
	nb, nc := len(d.BaselineRuns), len(d.CandidateRuns)
	d.PAdjusted = 1
	if nb < MinRuns || nc < MinRuns {
		d.Conclusion = Inconclusive
		d.Estimate = d.Change()
		return
	}
	th := benchmath.DefaultThresholds
	th.CompareAlpha = Alpha
	cmp := benchmath.AssumeNothing.Compare(
		benchmath.NewSample(slices.Clone(d.BaselineRuns), &th),
		benchmath.NewSample(slices.Clone(d.CandidateRuns), &th))
	d.P, d.PAdjusted = cmp.P, cmp.P
	d.Estimate, d.Low, d.High, d.HasInterval = hodgesLehmann(d.BaselineRuns, d.CandidateRuns, d.Relative(), Alpha)
	d.Conclusion = conclude(d, Alpha)
}

// conclude returns the conclusion of a tested delta from its adjusted
// p-value and estimate.
func conclude(d *Delta, alpha float64) Conclusion {
	switch {
	case d.PAdjusted >= alpha || d.Estimate == 0:
		return Same
	case d.Estimate > 0 == d.Metric.HigherIsBetter():
		return Better
	}
	return Worse
}

// tested reports whether d has a p-value: enough runs on both sides.
func (d *Delta) tested() bool {
	return len(d.BaselineRuns) >= MinRuns && len(d.CandidateRuns) >= MinRuns
}

// decide adjusts the p-values of the tested deltas of a family together
// and concludes each from its adjusted p-value. A delta whose runs are too
// few for any result of theirs to be significant in a family of this size
// is Inconclusive: with 4+4 runs the smallest p-value there is, 0.029, is
// significant alone but not in a family of two under Holm. (The bound is
// the family's: with sides of different sizes in one family, a test of
// more runs could in principle be significant at a later Holm step; a
// comparison's rows share their runs, so they do not differ.)
func decide(family []*Delta, k Correction, alpha float64) {
	ps := make([]float64, len(family))
	n := 0
	for i, d := range family {
		ps[i] = math.NaN()
		if d.tested() {
			ps[i] = d.P
			n++
		}
	}
	adj := k.Adjust(ps)
	for i, d := range family {
		if !d.tested() {
			continue
		}
		d.PAdjusted, d.Family = adj[i], n
		if k.attainable(len(d.BaselineRuns), len(d.CandidateRuns), n, alpha) {
			d.Conclusion = conclude(d, alpha)
		} else {
			d.Conclusion = Inconclusive
		}
	}
}

// minP returns the smallest two-sided p-value of an exact Mann-Whitney U
// test with nb and nc runs: both sides wholly apart, 2/C(nb+nc, nb).
func minP(nb, nc int) float64 {
	lc, _ := math.Lgamma(float64(nb + nc + 1))
	la, _ := math.Lgamma(float64(nb + 1))
	lb, _ := math.Lgamma(float64(nc + 1))
	return min(1, 2/math.Exp(lc-la-lb))
}

// attainable reports whether a test of nb and nc runs can be significant
// in a family of m tests at level alpha: under Holm the family's
// smallest p-value is held to alpha/m; under Benjamini-Hochberg, or
// alone, to alpha.
func (k Correction) attainable(nb, nc, m int, alpha float64) bool {
	if k == Holm {
		return minP(nb, nc)*float64(max(m, 1)) < alpha
	}
	return minP(nb, nc) < alpha
}

// RunsFor returns the fewest runs a side with which a test can be
// significant in a family of m tests under the correction (see
// [Comparison.Violations]): 4 alone, and under Holm 5 for up to 6 tests,
// 6 for up to 23, 7 for up to 85.
func (k Correction) RunsFor(m int) int { return k.runsFor(m, Alpha) }

func (k Correction) runsFor(m int, alpha float64) int {
	n := MinRuns
	for !k.attainable(n, n, m, alpha) {
		n++
	}
	return n
}

// Level returns the significance level of the comparison's verdicts:
// [Alpha], or less when runs were added until decided and the level was
// spread over the looks (see [RepeatUntilDecided]).
func (c *Comparison) Level() float64 {
	if c.alpha > 0 {
		return c.alpha
	}
	return Alpha
}

// hodgesLehmann estimates the shift from base to cand as the median of all
// pairwise differences, with the distribution-free interval between the
// k-th smallest and k-th largest differences, k from the exact Mann-Whitney
// U distribution at 1 − alpha (95 % for Alpha). A relative shift is computed on logarithms when
// every value is positive; with a 0 among the runs, the differences are
// taken as they are and divided by the median of the baseline's runs, and
// when that median is 0 too the estimate is ±Inf (or 0), with no interval.
func hodgesLehmann(base, cand []float64, relative bool, alpha float64) (est, lo, hi float64, ok bool) {
	logs := relative && !slices.ContainsFunc(slices.Concat(base, cand), func(v float64) bool { return v <= 0 })
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
	med := stats.Sample{Xs: diffs, Sorted: true}.Quantile(0.5)
	// k: the largest k with P(U <= k-1) <= alpha/2.
	cdf := uCDF(len(base), len(cand))
	k := 0
	for k < n/2 && cdf[k] <= alpha/2 {
		k++
	}
	// Back to a relative change: from logarithms, or as a fraction of the
	// baseline's median run.
	conv := func(x float64) float64 { return x }
	switch {
	case logs:
		conv = func(x float64) float64 { return math.Exp(x) - 1 }
	case relative:
		scale := stats.Sample{Xs: base}.Quantile(0.5)
		if scale <= 0 {
			switch {
			case med > 0:
				return math.Inf(1), 0, 0, false
			case med < 0:
				return math.Inf(-1), 0, 0, false
			}
			return 0, 0, 0, false
		}
		conv = func(x float64) float64 { return x / scale }
	}
	if k == 0 {
		return conv(med), 0, 0, false
	}
	return conv(med), conv(diffs[k-1]), conv(diffs[n-k]), true
}
