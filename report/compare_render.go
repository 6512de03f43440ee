package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

func pct(x float64, relative bool) string {
	if !relative {
		return fmt.Sprintf("%+.2f pp", 100*x) // percentage points
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	s := fmt.Sprintf("%+.1f%%", 100*x)
	return strings.Replace(s, "-", "−", 1)
}

func interval(d MetricDelta) string {
	if !d.HasInterval {
		return ""
	}
	return "[" + pct(d.Low, d.Relative()) + ", " + pct(d.High, d.Relative()) + "]"
}

func value(metric string, v float64) string {
	switch metric {
	case "rate":
		return Rate(v)
	case "error_rate":
		return Percent(v)
	}
	return Duration(time.Duration(v))
}

// Line renders one metric like benchstat, e.g.
// "p95 4.67s → 1.03s −78.0% [−79.1%, −76.8%] (p=0.001 n=7+7) better".
func (d MetricDelta) Line() string {
	change := pct(d.Rel, true)
	if !d.Relative() {
		change = pct(d.Abs, false)
	}
	s := fmt.Sprintf("%s %s → %s %s", d.Metric, value(d.Metric, d.Base), value(d.Metric, d.Cand), change)
	if d.HasInterval {
		s += " " + interval(d)
	}
	if d.Verdict != Inconclusive {
		s += fmt.Sprintf(" (p=%.3f n=%d+%d)", d.P, len(d.PerRunBase), len(d.PerRunCand))
	}
	return s + " " + d.Verdict.String()
}

func comparisonTable(c *Comparison) *table {
	t := &table{
		head:  []string{"step", "metric", "baseline", "candidate", "change", "95% interval", "p", "n", "verdict"},
		right: []bool{false, false, true, true, true, false, true, true, false},
	}
	for _, r := range c.Rows {
		if r.Verdict == Added || r.Verdict == Removed {
			t.add(r.Row.String(), "", "", "", "", "", "", "", r.Verdict.String())
			continue
		}
		for i, d := range r.Metrics {
			name := ""
			if i == 0 {
				name = r.Row.String()
			}
			change := pct(d.Rel, true)
			if !d.Relative() {
				change = pct(d.Abs, false)
			}
			p := ""
			if d.Verdict != Inconclusive {
				p = fmt.Sprintf("%.3f", d.P)
			}
			t.add(name, d.Metric, value(d.Metric, d.Base), value(d.Metric, d.Cand), change, interval(d), p,
				fmt.Sprintf("%d+%d", len(d.PerRunBase), len(d.PerRunCand)), d.Verdict.String())
		}
	}
	return t
}

func comparisonText(c *Comparison) string {
	var b strings.Builder
	comparisonTable(c).text(&b, "  ")
	for _, w := range c.Warnings {
		fmt.Fprintf(&b, "  note: %s\n", w)
	}
	return b.String()
}

// WriteComparison writes the comparison as an aligned table: per step and
// metric the baseline and candidate (from merged histograms), the change,
// the 95 % interval of the Hodges-Lehmann estimate, the p-value, the runs
// per side and the verdict ("~" for no significant change).
func WriteComparison(w io.Writer, c *Comparison) error {
	_, err := io.WriteString(w, comparisonText(c))
	return err
}

// WriteComparisonMarkdown writes the comparison as a Markdown table.
func WriteComparisonMarkdown(w io.Writer, c *Comparison) error {
	var b strings.Builder
	comparisonTable(c).markdown(&b)
	for _, n := range c.Warnings {
		fmt.Fprintf(&b, "\n> note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteComparisonJSON writes the comparison as JSON: rows with, per metric,
// the headline values, the per-run values, the changes, p, the interval and
// the verdict. Values are in base units (nanoseconds, per second,
// fractions); a relative change that is undefined (a zero baseline) is null.
func WriteComparisonJSON(w io.Writer, c *Comparison) error {
	type jm struct {
		Metric     string    `json:"metric"`
		Base       float64   `json:"baseline"`
		Cand       float64   `json:"candidate"`
		Abs        float64   `json:"abs_change"`
		Rel        *float64  `json:"rel_change"`
		PerRunBase []float64 `json:"baseline_runs"`
		PerRunCand []float64 `json:"candidate_runs"`
		P          float64   `json:"p"`
		Estimate   float64   `json:"estimate"`
		Low        *float64  `json:"ci_low,omitempty"`
		High       *float64  `json:"ci_high,omitempty"`
		Relative   bool      `json:"estimate_is_relative"`
		Verdict    string    `json:"verdict"`
	}
	type jr struct {
		Scenario string `json:"scenario"`
		Step     string `json:"step,omitempty"`
		Verdict  string `json:"verdict,omitempty"`
		Metrics  []jm   `json:"metrics,omitempty"`
	}
	out := struct {
		Version  int      `json:"version"`
		BaseRuns int      `json:"baseline_runs"`
		CandRuns int      `json:"candidate_runs"`
		Alpha    float64  `json:"alpha"`
		Rows     []jr     `json:"rows"`
		Warnings []string `json:"warnings,omitempty"`
	}{Version: 1, BaseRuns: c.BaseRuns, CandRuns: c.CandRuns, Alpha: Alpha, Warnings: c.Warnings}
	fin := func(x float64) *float64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return &x
	}
	for _, r := range c.Rows {
		row := jr{Scenario: r.Scenario, Step: r.Step}
		if r.Verdict == Added || r.Verdict == Removed {
			row.Verdict = r.Verdict.String()
		}
		for _, d := range r.Metrics {
			m := jm{Metric: d.Metric, Base: d.Base, Cand: d.Cand, Abs: d.Abs, Rel: fin(d.Rel), PerRunBase: d.PerRunBase,
				PerRunCand: d.PerRunCand, P: d.P, Estimate: d.Estimate, Relative: d.Relative(), Verdict: d.Verdict.String()}
			if math.IsNaN(m.Estimate) {
				m.Estimate = 0
			}
			if d.HasInterval {
				m.Low, m.High = fin(d.Low), fin(d.High)
			}
			row.Metrics = append(row.Metrics, m)
		}
		out.Rows = append(out.Rows, row)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}
