package compare

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
)

// Budget is a regression budget: on the rows Selector picks, the
// candidate may be worse than the baseline on Metric by at most Max — a
// fraction of the baseline for latencies, rates and counts (0.10 is 10 %),
// a difference for shares (0.01 is one percentage point of error rate).
// An empty Selector picks every row: steps, iterations and schedule lag.
// Its text form, read by [ParseBudget], is "[selector:] metric +max":
// "p95 +10%", "checkout: error_rate +1pp".
type Budget struct {
	Selector report.Selector
	Metric   report.Metric
	Max      float64
}

// String returns the budget in the syntax ParseBudget reads.
func (b Budget) String() string {
	s := b.Metric.String() + " +"
	if b.Metric.Unit() == report.UnitFraction {
		s += strconv.FormatFloat(100*b.Max, 'f', -1, 64) + "pp"
	} else {
		s += strconv.FormatFloat(100*b.Max, 'f', -1, 64) + "%"
	}
	if b.Selector != "" {
		s = string(b.Selector) + ": " + s
	}
	return s
}

// Validate reports every problem with b at once.
func (b Budget) Validate() error {
	var errs []error
	if err := b.Selector.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := b.Metric.Validate(); err != nil {
		errs = append(errs, err)
	}
	if math.IsNaN(b.Max) || math.IsInf(b.Max, 0) || b.Max < 0 {
		errs = append(errs, fmt.Errorf("compare: budget Max must be a finite number >= 0, got %v", b.Max))
	}
	return errors.Join(errs...)
}

// ParseBudget reads a budget: "[selector:] metric +N%" for latencies, rates
// and counts, "[selector:] metric +Npp" for shares.
func ParseBudget(s string) (Budget, error) {
	var b Budget
	body := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		b.Selector = report.Selector(strings.TrimSpace(s[:i]))
		if b.Selector == "" {
			return Budget{}, fmt.Errorf("compare: budget %q: empty selector before ':'", s)
		}
		body = s[i+1:]
	}
	name, limit, ok := strings.Cut(strings.TrimSpace(body), "+")
	if !ok {
		return Budget{}, fmt.Errorf("compare: budget %q: want [selector:] metric +max, such as p95 +10%% or error_rate +1pp", s)
	}
	m, err := b.Selector.ParseMetric(strings.TrimSpace(name))
	if err != nil {
		return Budget{}, fmt.Errorf("compare: budget %q: %w", s, err)
	}
	b.Metric = m
	limit = strings.TrimSpace(limit)
	unit := "%"
	if m.Unit() == report.UnitFraction {
		unit = "pp"
	}
	num, ok := strings.CutSuffix(limit, unit)
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if !ok || err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return Budget{}, fmt.Errorf("compare: budget %q: the limit of %s must be a number followed by %s, got %q", s, m, unit, limit)
	}
	b.Max = v / 100
	return b, b.Validate()
}

// MustParseBudget is ParseBudget for budgets known at compile time; it
// panics on an error.
func MustParseBudget(s string) Budget {
	b, err := ParseBudget(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Violation is a row and metric that broke a budget.
type Violation struct {
	Budget Budget
	Row    RowComparison
	// Delta is the row's delta as the gate judged it: its PAdjusted and
	// Family are over the tests the budgets check.
	Delta Delta
	// Reason says what broke the budget, naming the figures it uses.
	Reason string
}

// Violations returns every row and metric that broke a budget. With enough
// runs, a row breaks its budget only when the change is significant and
// the whole interval of its estimate, at the gate's level over the
// family (see below), lies past the budget (the bound nearest to no
// change is worse than Max). Significant is judged over the
// family of the gate: every row and metric some budget checks, counted
// once, their p-values adjusted together by the comparison's
// [Correction] (Holm's by default, so that the chance of any false alarm
// of the gate stays below [Alpha]; [PerMetric] on request). The gate's
// tests become a family of the table: its verdicts and adjusted p-values,
// in every rendering made after, are those the gate judged by (the other
// tests a family of their own). With too few runs there is no
// interval: the headline change of the merged values is held against the
// budget instead, and the reason says that no significance was
// established. A row the candidate lost (a removed step), or on which the
// candidate has no data where the baseline had some (a latency of
// successes when every request failed), breaks every budget that selects
// it: a gate never passes for want of data. A budget that does not
// validate, whose metric no row was compared on, whose selector matches no
// row, or that selects no row both sides have, is an error.
func (c *Comparison) Violations(budgets ...Budget) ([]Violation, error) {
	var out []Violation
	var errs []error
	keys := c.keys()
	// The gate's family: every row and metric some budget checks, once.
	type check struct {
		b   Budget
		row int
		d   *Delta // nil for a removed row
	}
	var checks []check
	gated := map[cell]bool{}
	for _, b := range budgets {
		if err := b.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("budget %s: %w", b, err))
			continue
		}
		if !c.covers(b.Metric) {
			errs = append(errs, fmt.Errorf("budget %s: the comparison does not cover %s (it covers %s)", b, b.Metric, metricList(c.Metrics)))
			continue
		}
		idx, err := c.selectRows(b, keys)
		if err != nil {
			errs = append(errs, fmt.Errorf("budget %s: %w", b, err))
			continue
		}
		checked := 0
		for _, i := range idx {
			r := &c.Rows[i]
			switch {
			case r.Presence == CandidateOnly:
				continue // nothing to compare with
			case r.Repeats && selectsStepOf(c.Rows, idx, r.Scenario):
				continue // the same operations as its step, checked there
			case r.Presence == BaselineOnly:
				if r.Applies(b.Metric) {
					checked++
					checks = append(checks, check{b: b, row: i})
				}
				continue
			}
			d := r.Delta(b.Metric)
			if d == nil {
				continue // the metric does not apply to the row
			}
			checked++
			if r.Repeats {
				// Judged with its step's family; a budget on the
				// iterations alone gates them.
				if si := stepOf(c.Rows, r.Scenario); si >= 0 {
					if j := c.Rows[si].deltaIndex(b.Metric); j >= 0 {
						gated[cell{si, j}] = true
					}
				}
			}
			gated[cell{i, r.deltaIndex(b.Metric)}] = true
			checks = append(checks, check{b: b, row: i, d: d})
		}
		if checked == 0 {
			errs = append(errs, fmt.Errorf("budget %s: selects no row that both sides have and %s applies to", b, b.Metric))
		}
	}
	c.gate = gated
	c.decide()
	// What each gated test could find, and the runs its strictest budget
	// needs; a test gated before and not now has none.
	for i := range c.Rows {
		for j := range c.Rows[i].Deltas {
			c.Rows[i].Deltas[j].Power = nil
		}
	}
	target := map[*Delta]float64{}
	for _, ch := range checks {
		if ch.d != nil {
			if t, ok := target[ch.d]; !ok || ch.b.Max < t {
				target[ch.d] = ch.b.Max
			}
		}
	}
	for d, t := range target {
		if c.noPower {
			continue
		}
		if p, ok := d.powerFor(t, c.Correction, c.Level()); ok {
			d.Power = &p
		}
	}
	for _, ch := range checks {
		r := c.Rows[ch.row]
		r.Deltas = slices.Clone(r.Deltas) // the violation's own: a later judgement leaves it be
		if ch.d == nil {
			out = append(out, Violation{Budget: ch.b, Row: r, Reason: "the candidate has no such row (removed)"})
			continue
		}
		if why, ok := violates(ch.b, *ch.d, c.Correction, c.gateLevel(*ch.d)); ok {
			out = append(out, Violation{Budget: ch.b, Row: r, Delta: *ch.d, Reason: why})
		}
	}
	return out, errors.Join(errs...)
}

// keys returns the rows' keys, in order.
func (c *Comparison) keys() []metrics.Key {
	keys := make([]metrics.Key, len(c.Rows))
	for i, r := range c.Rows {
		keys[i] = r.Key()
	}
	return keys
}

// selectRows returns the indexes of the rows budget b selects: every row
// for no selector.
func (c *Comparison) selectRows(b Budget, keys []metrics.Key) ([]int, error) {
	if b.Selector == "" {
		idx := make([]int, len(c.Rows))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	return b.Selector.Match(keys)
}

// covers reports whether some row was compared on m.
func (c *Comparison) covers(m report.Metric) bool {
	for i := range c.Rows {
		if c.Rows[i].Delta(m) != nil {
			return true
		}
	}
	return slices.Contains(c.Metrics, m)
}

// stepOf returns the index of the step row of scenario, or -1.
func stepOf(rows []RowComparison, scenario string) int {
	for i := range rows {
		if rows[i].Scenario == scenario && rows[i].Key().Kind == metrics.KindStep {
			return i
		}
	}
	return -1
}

// gateLevel is the level at which a gated test's interval must clear its
// budget: the comparison's level over the test's family (Bonferroni), so
// that a change exactly at the budget breaks it in no more than Level/2 of
// gates, however many tests they check; under PerMetric, the level
// itself, each test alone.
func (c *Comparison) gateLevel(d Delta) float64 {
	if c.Correction == PerMetric {
		return c.Level()
	}
	return c.Level() / float64(max(d.Family, 1))
}

// selectsStepOf reports whether the rows at idx include a step of scenario.
func selectsStepOf(rows []RowComparison, idx []int, scenario string) bool {
	for _, i := range idx {
		if rows[i].Scenario == scenario && rows[i].Key().Kind == metrics.KindStep {
			return true
		}
	}
	return false
}

func metricList(ms []report.Metric) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.String())
	}
	return strings.Join(s, ", ")
}

// worse returns how much worse a change of x is, as a positive number.
func worse(m report.Metric, x float64) float64 {
	if m.HigherIsBetter() {
		return -x
	}
	return x
}

// confidence names the level of an interval at alpha: "95%", "98.3%".
func confidence(alpha float64) string { return fmt.Sprintf("%.3g%%", 100*(1-alpha)) }

// significance names a tested delta's p-values: "p=0.003" alone, or with
// its adjustment over the gate's family.
func significance(d Delta, k Correction) string {
	if k == PerMetric || d.Family <= 1 {
		return fmt.Sprintf("p=%.3f", d.P)
	}
	return fmt.Sprintf("p=%.3f, %s-adjusted %.3f over %d gated tests", d.P, k, d.PAdjusted, d.Family)
}

// violates says whether d breaks b and why. alpha is the gate's level
// for d (see gateLevel): its interval at 1 − alpha must lie past the
// budget.
func violates(b Budget, d Delta, k Correction, alpha float64) (string, bool) {
	m := d.Metric
	switch {
	case math.IsNaN(d.Candidate) && !math.IsNaN(d.Baseline):
		return fmt.Sprintf("%s: the candidate has no data (the baseline had %s)", m, fmtValue(m, d.Baseline)), true
	case d.Conclusion == Inconclusive:
		// No significance to rest on: the headline change is held to the
		// budget, so that a gate never passes for want of runs.
		change := d.Change()
		if math.IsNaN(change) || worse(m, change) <= b.Max {
			return "", false
		}
		why := fmt.Sprintf("fewer than %d runs per side", MinRuns)
		if d.Family > 0 {
			level := alpha * float64(d.Family) // the comparison's level
			if k == PerMetric {
				level = alpha
			}
			why = fmt.Sprintf("%d+%d runs cannot be significant in a family of %d gated tests under %s; %d per side can",
				len(d.BaselineRuns), len(d.CandidateRuns), d.Family, k, k.runsFor(d.Family, level))
		}
		return fmt.Sprintf("%s worse: change of the merged values %s, beyond the budget of %s (no significance: %s)",
			m, d.amount(change), d.amount(b.Max), why), true
	case d.HasInterval:
		if d.Conclusion != Worse {
			return "", false
		}
		_, lo, hi, ok := hodgesLehmann(d.BaselineRuns, d.CandidateRuns, d.Relative(), alpha)
		if !ok {
			// Significant, but too few runs for an interval at the gate's
			// level (Benjamini-Hochberg asks less of the test than of the
			// interval): the merged change is held to the budget, so that
			// the gate does not pass for want of runs.
			if change := d.Change(); !math.IsNaN(change) && worse(m, change) > b.Max {
				return fmt.Sprintf("%s worse: change of the merged values %s, beyond the budget of %s (%s; too few runs for a %s interval)",
					m, d.amount(change), d.amount(b.Max), significance(d, k), confidence(alpha)), true
			}
			return "", false
		}
		bound := lo
		if m.HigherIsBetter() {
			bound = hi
		}
		if worse(m, bound) > b.Max {
			return fmt.Sprintf("%s worse: estimate %s, %s interval [%s, %s], beyond the budget of %s (%s)",
				m, d.amount(d.Estimate), confidence(alpha), d.amount(lo), d.amount(hi), d.amount(b.Max), significance(d, k)), true
		}
		return "", false
	}
	// Enough runs, but no relative interval: the baseline's runs were all 0.
	if change := d.Change(); d.Conclusion == Worse && !math.IsNaN(change) && worse(m, change) > b.Max {
		return fmt.Sprintf("%s worse: change of the merged values %s, beyond the budget of %s (%s; the baseline's runs were all 0, so there is no relative interval)",
			m, d.amount(change), d.amount(b.Max), significance(d, k)), true
	}
	return "", false
}
