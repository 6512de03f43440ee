package capacity

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/internal/save"
	"github.com/stampede-go/stampede/internal/table"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/compare"
)

// StepComparison sets two services' levels side by side (see
// [CompareSteps]).
type StepComparison struct {
	Baseline, Candidate *Report // the two reports compared
	// Rows are what the levels' figures are of, on both sides.
	Rows report.Selector
	// Levels pair the levels by load, in the order of load; a level that
	// only one side ran has nil for the other side and no Deltas.
	Levels []LevelComparison
}

// LevelComparison compares one level of two reports.
type LevelComparison struct {
	Load                int    // the level: VUs or arrivals per second
	Baseline, Candidate *Level // each side's run of it; nil if a side did not run it
	// Deltas compare the rows' p50, p95, p99, rate and error rate: the
	// headline values from each side's runs merged, the conclusion from
	// the per-run values, the five a family (see compare.Selection),
	// Inconclusive with fewer than 5 runs a side.
	Deltas []compare.Delta
}

// Delta returns the comparison of metric m, or nil.
func (c *LevelComparison) Delta(m report.Metric) *compare.Delta {
	for i := range c.Deltas {
		if c.Deltas[i].Metric == m {
			return &c.Deltas[i]
		}
	}
	return nil
}

// CompareSteps pairs the levels two [Steps] ran, level by level: the old
// and the new API at 100, 200 and 300 users. Each level is compared on
// the rows both reports' figures are of (see [Options.Rows]), as
// report/compare compares repeated runs: with [Options.Runs] at least 5
// (compare.RecommendedRuns is better) each change comes with its
// significance, Holm-adjusted over the level's five metrics, and 95 %
// interval; with fewer it is the change of the merged runs alone, marked
// inconclusive. Reports whose figures are
// of different rows are an error.
func CompareSteps(baseline, candidate *Report) (*StepComparison, error) {
	c := &StepComparison{Baseline: baseline, Candidate: candidate, Rows: baseline.rows()}
	if cr := candidate.rows(); len(baseline.Levels) > 0 && len(candidate.Levels) > 0 && cr != c.Rows {
		return nil, fmt.Errorf("capacity: the baseline's levels are figures of %q, the candidate's of %q: set the same Options.Rows on both", c.Rows, cr)
	}
	if c.Rows == "" {
		c.Rows = candidate.rows()
	}
	cand := map[int]*Level{}
	cls := candidate.byLoad()
	for i := range cls {
		cand[cls[i].Load] = &cls[i]
	}
	bls := baseline.byLoad()
	for i := range bls {
		b := &bls[i]
		lc := LevelComparison{Load: b.Load, Baseline: b, Candidate: cand[b.Load]}
		delete(cand, b.Load)
		if lc.Candidate != nil {
			ds, err := compare.Selection(b.Runs, lc.Candidate.Runs, c.Rows)
			if err != nil {
				return nil, fmt.Errorf("capacity: level %d: %w", b.Load, err)
			}
			lc.Deltas = ds
		}
		c.Levels = append(c.Levels, lc)
	}
	for i := range cls {
		if k := &cls[i]; cand[k.Load] != nil {
			c.Levels = append(c.Levels, LevelComparison{Load: k.Load, Candidate: k})
		}
	}
	return c, nil
}

func levelVerdict(l *Level) string {
	switch {
	case l == nil:
		return "not run"
	case l.Pass:
		return "pass"
	}
	return "FAIL: " + l.Limit.String()
}

func (c *StepComparison) unit() string {
	if len(c.Baseline.Levels) > 0 {
		return c.Baseline.unit()
	}
	return c.Candidate.unit()
}

// table has a line per level and metric: each side's value (runs merged),
// the change, the estimate with its interval, p, the runs a side, the
// conclusion, and on the level's first line each side's verdict.
func (c *StepComparison) table() *table.Table {
	t := table.New(">"+c.unit(), "metric", ">baseline", ">candidate", ">change (merged)", "estimate [95% interval]", ">p", ">p adj.", ">n", "verdict", "base", "cand")
	for _, l := range c.Levels {
		load := strconv.Itoa(l.Load)
		if len(l.Deltas) == 0 {
			t.Add(load, "", "", "", "", "", "", "", "", "", levelVerdict(l.Baseline), levelVerdict(l.Candidate))
			continue
		}
		for i, d := range l.Deltas {
			bv, cv := "", ""
			if i == 0 {
				bv, cv = levelVerdict(l.Baseline), levelVerdict(l.Candidate)
			} else {
				load = ""
			}
			cells := append(append([]string{load}, d.Cells()...), bv, cv)
			t.AddClass(d.Class(), cells...)
		}
	}
	return t
}

// legend says what the figures are of and how the changes are judged.
func (c *StepComparison) legend() string {
	return "figures of " + describeRows(c.Rows) + "; change: of the merged runs; estimate: Hodges-Lehmann from the per-run values, with its 95 % interval; p: Mann-Whitney U; p adj.: Holm-adjusted over the level's metrics, what the verdict rests on; verdict ~: no significant change"
}

// WriteText writes the comparison as an aligned table (see
// [StepComparison.WriteMarkdown]), then each side's outcome.
func (c *StepComparison) WriteText(w io.Writer) error {
	var b strings.Builder
	c.table().Text(&b, "  ")
	fmt.Fprintf(&b, "  (%s)\n\nbaseline: %s\ncandidate: %s\n", c.legend(), c.Baseline.Summary(), c.Candidate.Summary())
	return format.WriteText(w, b.String())
}

// WriteMarkdown writes the comparison as a Markdown table, ready for a
// pull request: per level and metric each side's value, the change, the
// estimate with its interval, p, the runs a side and the conclusion, with
// each side's verdict on the level.
func (c *StepComparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c.table().Markdown(&b)
	fmt.Fprintf(&b, "\n%s\n\n- baseline: %s\n- candidate: %s\n", c.legend(), c.Baseline.Summary(), c.Candidate.Summary())
	return format.WriteMarkdown(w, b.String())
}

// WriteJSON writes the comparison as JSON: the rows, and per level its
// load, each side's level (as in [Report.WriteJSON], null when not run)
// and the metrics compared (as compare.Delta encodes them).
func (c *StepComparison) WriteJSON(w io.Writer) error {
	type jl struct {
		Load      int             `json:"load"`
		Baseline  *jsonLevel      `json:"baseline"`
		Candidate *jsonLevel      `json:"candidate"`
		Metrics   []compare.Delta `json:"metrics"`
	}
	out := struct {
		Format    string  `json:"format"`
		Version   int     `json:"version"`
		Unit      string  `json:"unit"`
		Rows      string  `json:"rows"`
		Alpha     float64 `json:"alpha"`
		Baseline  string  `json:"baseline"`
		Candidate string  `json:"candidate"`
		Levels    []jl    `json:"levels"`
	}{Format: "stampede-capacity-comparison", Version: JSONVersion, Unit: c.unit(), Rows: string(c.Rows), Alpha: compare.Alpha,
		Baseline: c.Baseline.Summary(), Candidate: c.Candidate.Summary(), Levels: []jl{}}
	for _, l := range c.Levels {
		j := jl{Load: l.Load, Metrics: l.Deltas}
		if l.Baseline != nil {
			j.Baseline = jsonLevelOf(l.Baseline)
		}
		if l.Candidate != nil {
			j.Candidate = jsonLevelOf(l.Candidate)
		}
		if j.Metrics == nil {
			j.Metrics = []compare.Delta{}
		}
		out.Levels = append(out.Levels, j)
	}
	return writeJSON(w, out)
}

// SaveJSON writes the comparison's JSON (see [StepComparison.WriteJSON])
// to a file, replacing it atomically.
func (c *StepComparison) SaveJSON(path string) error {
	if err := save.File(path, c.WriteJSON); err != nil {
		return fmt.Errorf("capacity: %w", err)
	}
	return nil
}
