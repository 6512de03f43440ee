package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/internal/save"
	"github.com/stampede-go/stampede/internal/table"
	"github.com/stampede-go/stampede/report"
)

func (d Delta) amount(x float64) string {
	if d.Relative() {
		return format.Change(x)
	}
	return format.Points(x)
}

// ChangeString formats the headline change (of the merged values).
func (d Delta) ChangeString() string { return d.amount(d.Change()) }

// EstimateString formats the estimate with its 95 % interval, or "" when
// the runs are too few for one.
func (d Delta) EstimateString() string {
	if !d.HasInterval {
		return ""
	}
	return d.amount(d.Estimate) + " [" + d.amount(d.Low) + ", " + d.amount(d.High) + "]"
}

// Line renders one metric in a line, each number named, e.g.
// "p95 4.67s → 1.03s: change −78.0%, estimate −78.0% [−79.1%, −76.8%] (p=0.001 adjusted 0.016 n=7+7) better",
// the adjusted p-value shown where it differs.
func (d Delta) Line() string {
	s := fmt.Sprintf("%s %s → %s: change %s", d.Metric, fmtValue(d.Metric, d.Baseline), fmtValue(d.Metric, d.Candidate), d.ChangeString())
	if d.HasInterval {
		s += ", estimate " + d.EstimateString()
	}
	if d.Family > 0 {
		s += fmt.Sprintf(" (p=%.3f", d.P)
		if d.PAdjusted != d.P {
			s += fmt.Sprintf(" adjusted %.3f", d.PAdjusted)
		}
		s += fmt.Sprintf(" n=%d+%d)", len(d.BaselineRuns), len(d.CandidateRuns))
	}
	return s + " " + d.Conclusion.String()
}

func (c *Comparison) table() *table.Table {
	t := table.New("row", "metric", ">baseline", ">candidate", ">change (merged)", "estimate [95% interval]", ">p", ">p adj.", ">n", "verdict")
	for _, r := range c.Rows {
		if r.Repeats {
			continue
		}
		if r.Presence != Both {
			t.AddClass("", r.Row.String(), "", "", "", "", "", "", "", "", r.Presence.String())
			continue
		}
		for i, d := range r.Deltas {
			name := ""
			if i == 0 {
				name = r.Row.String()
			}
			t.AddClass(d.Class(), append([]string{name}, d.Cells()...)...)
		}
	}
	return t
}

// PowerString says what the test could find, e.g. "7+7 runs detect
// +11.4% (80% chance at p < 0.0167); +5.0% needs 27 runs a side to be
// significant", or "" when no power was estimated (see [Delta.PowerFor]).
func (d Delta) PowerString() string {
	p := d.Power
	if p == nil {
		return ""
	}
	s := fmt.Sprintf("%d+%d runs ", p.Baseline, p.Candidate)
	switch {
	case math.IsInf(p.Detectable, 1):
		s += fmt.Sprintf("cannot be significant at p < %.3g", p.Level)
	case p.Detectable == 0:
		s += "did not vary within a side: any change is found"
	default:
		s += fmt.Sprintf("detect %s (%.0f%% chance at p < %.3g)", d.amount(p.Detectable), 100*PowerTarget, p.Level)
	}
	if p.Target != 0 {
		if p.RunsNeeded > MaxPowerRuns {
			s += fmt.Sprintf("; %s needs more than %d runs a side to be significant", d.amount(p.Target), MaxPowerRuns)
		} else {
			s += fmt.Sprintf("; %s needs %d runs a side to be significant", d.amount(p.Target), p.RunsNeeded)
		}
	}
	return s
}

// powerLines lists what the gated tests could find, one line each.
func (c *Comparison) powerLines() []string {
	var out []string
	for _, r := range c.Rows {
		for _, d := range r.Deltas {
			if s := d.PowerString(); s != "" {
				out = append(out, fmt.Sprintf("%s %s: %s", r.Row, d.Metric, s))
			}
		}
	}
	return out
}

// Cells are d's cells in a comparison table, after the row's name:
// metric, baseline, candidate, change (merged), estimate [95% interval],
// p, p adj. (both empty when not tested), runs a side and verdict.
func (d Delta) Cells() []string {
	p, adj := "", ""
	if d.Family > 0 {
		p, adj = fmt.Sprintf("%.3f", d.P), fmt.Sprintf("%.3f", d.PAdjusted)
	}
	return []string{d.Metric.String(), fmtValue(d.Metric, d.Baseline), fmtValue(d.Metric, d.Candidate),
		d.ChangeString(), d.EstimateString(), p, adj, fmt.Sprintf("%d+%d", len(d.BaselineRuns), len(d.CandidateRuns)), d.Conclusion.String()}
}

// Class is the table class of d's line: "better", "worse" or "".
func (d Delta) Class() string {
	switch d.Conclusion {
	case Better:
		return "better"
	case Worse:
		return "worse"
	}
	return ""
}

// legend names the figures of the table and the family its verdicts are
// judged in.
func (c *Comparison) legend() string {
	fam := "p adj.: p itself (per metric: the more metrics, the more false alarms)"
	if c.Correction != PerMetric {
		gated, rest := 0, 0
		for ri, r := range c.Rows {
			if r.Repeats {
				continue
			}
			for i := range r.Deltas {
				switch {
				case r.Deltas[i].Family == 0:
				case c.gate[cell{ri, i}]:
					gated++
				default:
					rest++
				}
			}
		}
		fam = fmt.Sprintf("p adj.: %s-adjusted over the %d tests of the table, what the verdict rests on", c.Correction, rest)
		if gated > 0 {
			fam = fmt.Sprintf("p adj.: %s-adjusted within its family, the %d tests the budgets gate or the %d others, what the verdict rests on", c.Correction, gated, rest)
		}
	}
	s := "change: of the values of all runs merged; estimate: Hodges-Lehmann, from the per-run values, with its 95 % interval; p: Mann-Whitney U; " + fam + "; verdict ~: no significant change"
	if l := c.Level(); l != Alpha {
		s += fmt.Sprintf("; significant: p adj. < %.3g, %.2g spread over the looks of a run until decided", l, Alpha)
	}
	for _, r := range c.Rows {
		for _, d := range r.Deltas {
			if d.Family > 0 && d.Conclusion == Inconclusive {
				return s + fmt.Sprintf("; inconclusive: %d+%d runs cannot be significant in a family of %d tests under %s (%d per side can)",
					len(d.BaselineRuns), len(d.CandidateRuns), d.Family, c.Correction, c.Correction.runsFor(d.Family, c.Level()))
			}
		}
	}
	return s
}

// WriteText writes the comparison as an aligned table: per row and metric
// the baseline and candidate (from merged histograms), the change of those
// merged values, the Hodges-Lehmann estimate with its 95 % interval, the
// p-value and the adjusted one, the runs per side and the verdict. A scenario's iterations are
// left out when its only step already shows them.
func (c *Comparison) WriteText(w io.Writer) error {
	var b strings.Builder
	c.table().Text(&b, "  ")
	fmt.Fprintf(&b, "  (%s)\n", c.legend())
	if ls := c.powerLines(); len(ls) > 0 {
		b.WriteString("  what the gated tests could find:\n")
		for _, l := range ls {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	for _, n := range c.Warnings {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	return format.WriteText(w, b.String())
}

// WriteMarkdown writes the comparison as a Markdown table.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	c.table().Markdown(&b)
	fmt.Fprintf(&b, "\n%s\n", c.legend())
	if ls := c.powerLines(); len(ls) > 0 {
		b.WriteString("\nWhat the gated tests could find:\n\n")
		for _, l := range ls {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, n := range c.Warnings {
		fmt.Fprintf(&b, "\n> note: %s\n", n)
	}
	return format.WriteMarkdown(w, b.String())
}

// JSONVersion is the version of the comparison's JSON form.
const JSONVersion = 1

// WriteJSON writes the comparison as JSON: per row (scenario, step and
// kind: step, iteration or schedule_lag) and metric the headline values,
// the per-run values, the change, p, the estimate with its interval and
// the verdict, in the base unit each metric names in its "unit" key (ns
// for latencies, per_second, fraction, count). A value or change that has
// no finite value (no data; a relative change from a baseline of 0) is
// null.
func (c *Comparison) WriteJSON(w io.Writer) error {
	type jr struct {
		Scenario string  `json:"scenario"`
		Step     string  `json:"step,omitempty"`
		Kind     string  `json:"kind"`
		Presence string  `json:"presence,omitempty"`
		Repeats  bool    `json:"repeats_its_step,omitempty"`
		Metrics  []Delta `json:"metrics,omitempty"`
	}
	out := struct {
		Version  int      `json:"version"`
		BaseRuns int      `json:"baseline_runs"`
		CandRuns int      `json:"candidate_runs"`
		Alpha    float64  `json:"alpha"`
		Corr     string   `json:"correction"`
		Rows     []jr     `json:"rows"`
		Warnings []string `json:"warnings,omitempty"`
	}{Version: JSONVersion, BaseRuns: len(c.Baseline), CandRuns: len(c.Candidate), Alpha: c.Level(), Corr: c.Correction.String(), Warnings: c.Warnings}
	for _, r := range c.Rows {
		out.Rows = append(out.Rows, jr{Scenario: r.Scenario, Step: r.Step, Kind: string(r.Key().Kind), Presence: r.Presence.String(), Repeats: r.Repeats, Metrics: r.Deltas})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}

// MarshalJSON encodes d as in [Comparison.WriteJSON]: metric, unit (ns
// for latencies, per_second, fraction, count), baseline, candidate and
// each side's per-run values, change and whether it is relative, p, its
// adjustment and family size, the estimate with its interval where there
// is one, the verdict, and for a gated test its power (baseline_runs,
// candidate_runs, level, detectable, target, runs_needed; see
// [Delta.PowerFor]). A value with no finite value is null.
func (d Delta) MarshalJSON() ([]byte, error) {
	type jp struct {
		Baseline   int      `json:"baseline_runs"`
		Candidate  int      `json:"candidate_runs"`
		Level      float64  `json:"level"`
		Detectable *float64 `json:"detectable"`
		Target     float64  `json:"target"`
		RunsNeeded int      `json:"runs_needed"`
	}
	type jm struct {
		Metric     string    `json:"metric"`
		Unit       string    `json:"unit"`
		Base       *float64  `json:"baseline"`
		Cand       *float64  `json:"candidate"`
		PerRunBase []float64 `json:"baseline_runs"`
		PerRunCand []float64 `json:"candidate_runs"`
		Change     *float64  `json:"change"`
		Relative   bool      `json:"change_is_relative"`
		P          float64   `json:"p"`
		PAdjusted  float64   `json:"p_adjusted"`
		Family     int       `json:"family"`
		Estimate   *float64  `json:"estimate,omitempty"`
		Low        *float64  `json:"estimate_low,omitempty"`
		High       *float64  `json:"estimate_high,omitempty"`
		Verdict    string    `json:"verdict"`
		Power      *jp       `json:"power,omitempty"`
	}
	fin := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	units := map[report.Unit]string{report.UnitDuration: "ns", report.UnitCount: "count", report.UnitRate: "per_second", report.UnitFraction: "fraction"}
	m := jm{Metric: d.Metric.String(), Unit: units[d.Metric.Unit()], Base: fin(d.Baseline), Cand: fin(d.Candidate),
		PerRunBase: d.BaselineRuns, PerRunCand: d.CandidateRuns, Change: fin(d.Change()), Relative: d.Relative(),
		P: d.P, PAdjusted: d.PAdjusted, Family: d.Family, Verdict: d.Conclusion.String()}
	if d.HasInterval {
		m.Estimate, m.Low, m.High = fin(d.Estimate), fin(d.Low), fin(d.High)
	}
	if p := d.Power; p != nil {
		m.Power = &jp{Baseline: p.Baseline, Candidate: p.Candidate, Level: p.Level, Detectable: fin(p.Detectable), Target: p.Target, RunsNeeded: p.RunsNeeded}
	}
	return json.Marshal(m)
}

// SaveJSON writes the comparison's JSON (see [Comparison.WriteJSON]) to a
// file, replacing it atomically.
func (c *Comparison) SaveJSON(path string) error {
	if err := save.File(path, c.WriteJSON); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	return nil
}
