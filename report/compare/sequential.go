package compare

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/stampede-go/stampede/loadgen"
)

// Sequential configures [RepeatUntilDecided].
type Sequential struct {
	// Budgets are the gate whose tests must be decided (see
	// [Comparison.Violations]).
	Budgets []Budget
	// Min is the candidate's runs (pairs, for RepeatUntilDecided) before
	// the first look; 0 means the fewest with which a test of a gate of
	// up to three tests can be significant at the spent level (7). Max
	// is the most; 0 means DefaultMaxPairs.
	Min, Max int
	// Correction is how the gate's tests are adjusted together at each
	// look: Holm's unless set.
	Correction Correction
}

// DefaultMaxPairs is the most pairs of runs [RepeatUntilDecided] makes
// when Sequential.Max is 0.
const DefaultMaxPairs = 20

// RepeatUntilDecided runs the baseline and the candidate in turn, a pair
// at a time, until every test the budgets gate is decided either way, or
// Max pairs have run, and returns the comparison of the last look with
// its violations.
//
// A test is decided when it breaks its budget (significant, and its 95 %
// interval past the budget), or when its interval at the spent level
// lies wholly within the budget (the change, whatever it is, is smaller).
// Looking after every pair and stopping at the first decision would
// find false changes far more often than Alpha, so the level is spent:
// each of the K = Max − Min + 1 looks tests at Alpha/K (Bonferroni over
// the looks, the gate's family Holm-adjusted within each). The chance of
// any false violation over the whole sequence stays at most Alpha; that
// of calling a change within a budget it in fact exceeds stays at most
// Alpha/2 per test. The comparison returned judges at that spent level
// ([Comparison.Level]); its table and renderings say so.
//
// An error is returned for bad options, a run that fails, or budgets that
// cannot be checked; the comparison of the runs made so far comes with it
// when there is one.
func RepeatUntilDecided(ctx context.Context, baseline, candidate func(run int) *loadgen.Plan, seq Sequential, opts RepeatOptions) (*Comparison, []Violation, error) {
	if len(seq.Budgets) == 0 {
		return nil, nil, fmt.Errorf("compare: Sequential.Budgets must name the gate to decide")
	}
	if seq.Correction.Validate() != nil {
		return nil, nil, fmt.Errorf("compare: Sequential.Correction must be Holm, BenjaminiHochberg or PerMetric, got %d", int(seq.Correction))
	}
	for _, b := range seq.Budgets {
		if err := b.Validate(); err != nil {
			return nil, nil, fmt.Errorf("compare: Sequential.Budgets: %s: %w", b, err)
		}
	}
	_, hi, err := seq.looks()
	if err != nil {
		return nil, nil, err
	}
	var base, cand []*loadgen.Result
	for pair := range hi {
		if base, cand, err = runPair(ctx, pair, "≤"+strconv.Itoa(hi), baseline, candidate, base, cand, opts); err != nil {
			return nil, nil, err
		}
		c, vs, done, err := seq.Look(base, cand)
		if err != nil || done {
			return c, vs, err
		}
	}
	return nil, nil, nil // not reached: the last look is done
}

// Look judges the runs so far as one look of a sequence (see
// [RepeatUntilDecided]): before Min candidate runs it returns nil and not
// done; from then on, the comparison at the spent level, its violations,
// and whether every gated test is decided, or the candidate has Max runs
// (the last look, done whatever it found). The baseline's runs may grow
// with the candidate's, or be a fixed set saved before, as a tool's
// -baseline is.
func (seq Sequential) Look(base, cand []*loadgen.Result) (c *Comparison, vs []Violation, done bool, err error) {
	lo, hi, err := seq.looks()
	if err != nil || len(cand) < lo {
		return nil, nil, false, err
	}
	c, err = Compare(base, cand)
	if err != nil {
		return nil, nil, false, err
	}
	c.Correction, c.alpha, c.noPower = seq.Correction, Alpha/float64(hi-lo+1), true
	if vs, err = c.Violations(seq.Budgets...); err != nil {
		return c, nil, false, err
	}
	done = c.decided(seq.Budgets, vs) || len(cand) >= hi
	if done {
		c.noPower = false
		vs, err = c.Violations(seq.Budgets...) // once more, with the power
	}
	return c, vs, done, err
}

// looks returns the pairs of the first and the last look.
func (seq Sequential) looks() (lo, hi int, err error) {
	hi = seq.Max
	if hi == 0 {
		hi = DefaultMaxPairs
	}
	if seq.Min < 0 || seq.Max < 0 {
		return 0, 0, fmt.Errorf("compare: Sequential.Min and Max must be >= 0 (0 for the defaults), got %d and %d", seq.Min, seq.Max)
	}
	if seq.Min > 0 {
		lo = max(seq.Min, MinRuns)
	} else {
		// The fewest pairs whose tests can be significant at the level
		// the looks leave them, for a gate of up to three tests; a
		// larger gate may need Min.
		for lo = MinRuns; lo < hi && !seq.Correction.attainable(lo, lo, 3, Alpha/float64(hi-lo+1)); lo++ {
		}
	}
	switch {
	case hi < MinRuns:
		return 0, 0, fmt.Errorf("compare: Sequential.Max must be at least %d, got %d", MinRuns, hi)
	case lo > hi:
		return 0, 0, fmt.Errorf("compare: Sequential.Min (%d) must be at most Max (%d)", seq.Min, hi)
	}
	return lo, hi, nil
}

// decided reports whether every test the budgets gate either broke its
// budget (vs) or is known to lie within it: the worse end of its
// interval at the gate's level for it (see gateLevel) is within the
// budget.
func (c *Comparison) decided(budgets []Budget, vs []Violation) bool {
	// A violation decides its test when it rests on significance, or on
	// a row or data the candidate lost; one that holds the merged change
	// to the budget for want of runs does not.
	broke := map[[2]string]bool{}
	for _, v := range vs {
		if v.Delta.Conclusion == Worse || v.Row.Presence == BaselineOnly || math.IsNaN(v.Delta.Candidate) {
			broke[[2]string{v.Row.String(), v.Budget.String()}] = true
		}
	}
	keys := c.keys()
	for _, b := range budgets {
		idx, err := c.selectRows(b, keys)
		if err != nil {
			return false
		}
		for _, i := range idx {
			r := &c.Rows[i]
			if broke[[2]string{r.Row.String(), b.String()}] || r.Presence == CandidateOnly ||
				r.Repeats && selectsStepOf(c.Rows, idx, r.Scenario) {
				continue
			}
			d := r.Delta(b.Metric)
			if d == nil {
				continue
			}
			if !d.tested() {
				return false
			}
			_, lo, hi, ok := hodgesLehmann(d.BaselineRuns, d.CandidateRuns, d.Relative(), c.gateLevel(*d))
			if !ok {
				return false
			}
			bound := hi
			if b.Metric.HigherIsBetter() {
				bound = lo
			}
			if math.IsNaN(bound) || worse(b.Metric, bound) > b.Max {
				return false
			}
		}
	}
	return true
}
