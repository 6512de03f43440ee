package capacity

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-go/stampede/internal/chart"
	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/internal/page"
	"github.com/stampede-go/stampede/internal/save"
	"github.com/stampede-go/stampede/internal/table"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/internal/thresholds"
)

// byLoad returns the levels ordered by load (a bisection runs them out of
// order).
func (r *Report) byLoad() []Level {
	ls := slices.Clone(r.Levels)
	slices.SortStableFunc(ls, func(a, b Level) int { return a.Load - b.Load })
	return ls
}

func (r *Report) open() bool { return len(r.Levels) > 0 && r.Levels[0].Open }

// unit names a level's load.
func (r *Report) unit() string {
	if r.open() {
		return "offered/s"
	}
	return "VUs"
}

func dur(d time.Duration, n int64) string {
	if n == 0 {
		return "-"
	}
	return format.Duration(d)
}

// table is the level table: offered load, achieved rate, drops, and the
// latency (of successes) and error rate of the levels' rows, with the
// spread of p95 over the runs when a level ran more than once, and the
// verdict.
func (r *Report) table() *table.Table {
	head := []string{">" + r.unit(), ">achieved/s", ">dropped", ">p50", ">p95", ">p99", ">errors"}
	runs := r.runs() > 1
	if runs {
		head = append(head, ">p95 of runs")
	}
	t := table.New(append(head, "result")...)
	for _, l := range r.byLoad() {
		res, class := "pass", "pass"
		if !l.Pass {
			res, class = "FAIL: "+l.Limit.String()+": "+l.Why, "fail"
		}
		dropped := "-"
		if l.Open {
			dropped = fmt.Sprintf("%d (%s)", l.Dropped, format.Percent(l.DroppedShare))
		}
		f := l.Figures
		n := f.Latency.Count
		cells := []string{strconv.Itoa(l.Load), format.Rate(l.Rate), dropped,
			dur(f.Latency.P50, n), dur(f.Latency.P95, n), dur(f.Latency.P99, n), format.Percent(f.ErrorRate)}
		if runs {
			cells = append(cells, p95Range(l.RunFigures))
		}
		t.AddClass(class, append(cells, res)...)
	}
	return t
}

// p95Range is the smallest and largest p95 of the runs, "6.10ms–6.40ms".
func p95Range(fs []report.Figures) string {
	var lo, hi time.Duration
	n := 0
	for _, f := range fs {
		if f.Latency.Count == 0 {
			continue
		}
		if n == 0 || f.Latency.P95 < lo {
			lo = f.Latency.P95
		}
		hi = max(hi, f.Latency.P95)
		n++
	}
	if n == 0 {
		return "-"
	}
	return format.Duration(lo) + "–" + format.Duration(hi)
}

// runs returns the most runs a level of the report had.
func (r *Report) runs() int {
	n := 0
	for _, l := range r.Levels {
		n = max(n, len(l.Runs))
	}
	return n
}

// rows returns the rows the levels' figures are of.
func (r *Report) rows() report.Selector {
	if len(r.Levels) == 0 {
		return ""
	}
	return r.Levels[0].Rows
}

// describeRows says what a selector of level rows names, for people.
func describeRows(sel report.Selector) string {
	switch sel {
	case "[step]":
		return "every step, merged"
	case "[iteration]", "":
		return "the iterations"
	}
	return string(sel)
}

// legend says what the level figures are of, and over how many runs.
func (r *Report) legend() string {
	s := "latency and errors: of " + describeRows(r.rows())
	if n := r.runs(); n > 1 {
		s += fmt.Sprintf("; %d runs a level, merged", n)
	}
	return s
}

// Summary says in one line what the levels found.
func (r *Report) Summary() string {
	var b strings.Builder
	switch {
	case len(r.Levels) == 0:
		b.WriteString("no level ran")
	case r.Ceiling == 0:
		fmt.Fprintf(&b, "no level held: the lowest failed on %s", r.Limit)
	case r.Limit == LimitNone:
		fmt.Fprintf(&b, "every level held, up to %d %s", r.Ceiling, strings.TrimSuffix(r.unit(), "/s"))
	default:
		fmt.Fprintf(&b, "ceiling: %d %s, limited by %s", r.Ceiling, r.unitShort(), r.Limit)
	}
	if r.Stopped != "" {
		fmt.Fprintf(&b, " (stopped early: %s)", r.Stopped)
	}
	return b.String()
}

func (r *Report) unitShort() string {
	if r.open() {
		return "arrivals/s"
	}
	return "VUs"
}

// WriteText writes the level table, what its figures are of, and the
// ceiling.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	r.table().Text(&b, "  ")
	fmt.Fprintf(&b, "  (%s)\n\n%s\n", r.legend(), r.Summary())
	if r.Limit != LimitNone && r.Why != "" {
		fmt.Fprintf(&b, "why: %s\n", r.Why)
	}
	return format.WriteText(w, b.String())
}

// WriteMarkdown writes the level table as Markdown, with what its figures
// are of and the ceiling: ready for a pull request.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	r.table().Markdown(&b)
	fmt.Fprintf(&b, "\n%s\n\n**%s**\n", r.legend(), r.Summary())
	if r.Limit != LimitNone && r.Why != "" {
		fmt.Fprintf(&b, "\nwhy: %s\n", r.Why)
	}
	return format.WriteMarkdown(w, b.String())
}

// WriteHTML writes a self-contained page: the level table, and charts of
// latency (p50, p95, p99 of successful iterations), errors and drops, and
// achieved rate against the offered load, where the knee shows. The
// options' Title replaces the default "Capacity", and their Verdicts are
// shown above the levels.
func (r *Report) WriteHTML(w io.Writer, opts report.HTMLOptions) error {
	title := opts.Title
	if title == "" {
		title = "Capacity"
	}
	p := &page.Page{Title: title, Footer: "Generated by stampede. Each level is one or more runs of its own; its figures leave out their warm-ups. Percentiles come from HDR histograms and are never averaged."}
	p.Meta = [][2]string{{"result", r.Summary()}, {"figures", r.legend()}}
	if r.Why != "" {
		p.Meta = append(p.Meta, [2]string{"why", r.Why})
	}
	p.Add(thresholds.Blocks(opts.Verdicts)...)
	t := r.table()
	t.Caption = "levels, by load"
	p.Add(page.Block{ID: "levels", Heading: "Levels", Table: t})
	p.Add(page.Block{ID: "charts", Heading: "Charts"})
	ls := r.byLoad()
	x1 := 1.0
	if len(ls) > 0 {
		x1 = float64(ls[len(ls)-1].Load)
	}
	xs := func(f func(Level) (float64, bool)) []chart.Point {
		var pts []chart.Point
		for _, l := range ls {
			if y, ok := f(l); ok {
				pts = append(pts, chart.Point{X: float64(l.Load), Y: y})
			}
		}
		return pts
	}
	lat := func(q func(Level) time.Duration) func(Level) (float64, bool) {
		return func(l Level) (float64, bool) { return float64(q(l)), l.Figures.Latency.Count > 0 }
	}
	xl := "offered load (" + r.unit() + ")"
	p.Add(page.Block{Chart: chart.Layout(chart.Spec{ID: "latency", Title: "Latency of successes (" + describeRows(r.rows()) + ") against load",
		YLabel: "latency", XLabel: xl, X1: x1, YFormat: durationLabel, XFormat: chart.Count, Series: []chart.Series{
			{Name: "p50", Points: xs(lat(func(l Level) time.Duration { return l.Figures.Latency.P50 }))},
			{Name: "p95", Points: xs(lat(func(l Level) time.Duration { return l.Figures.Latency.P95 }))},
			{Name: "p99", Points: xs(lat(func(l Level) time.Duration { return l.Figures.Latency.P99 }))},
		}})})
	share := []chart.Series{{Name: "error rate %", Points: xs(func(l Level) (float64, bool) { return 100 * l.Figures.ErrorRate, true })}}
	if r.open() {
		share = append(share, chart.Series{Name: "dropped %", Points: xs(func(l Level) (float64, bool) { return 100 * l.DroppedShare, true })})
	}
	p.Add(page.Block{Chart: chart.Layout(chart.Spec{ID: "errors", Title: "Errors and drops against load", YLabel: "%",
		XLabel: xl, X1: x1, YFormat: chart.Count, XFormat: chart.Count, Series: share, Empty: "no errors"})})
	rate := []chart.Series{{Name: "achieved/s", Points: xs(func(l Level) (float64, bool) { return l.Rate, true })}}
	if r.open() {
		rate = append(rate, chart.Series{Name: "offered/s", Points: xs(func(l Level) (float64, bool) { return float64(l.Load), true })})
	}
	p.Add(page.Block{Chart: chart.Layout(chart.Spec{ID: "rate", Title: "Achieved rate against load", YLabel: "per second",
		XLabel: xl, X1: x1, YFormat: chart.Count, XFormat: chart.Count, Series: rate})})
	return p.Write(w)
}

// SaveHTML writes the page of [Report.WriteHTML] to a file.
func (r *Report) SaveHTML(path string, opts report.HTMLOptions) error {
	return save.File(path, func(w io.Writer) error { return r.WriteHTML(w, opts) })
}

func durationLabel(v float64) string { return format.Duration(time.Duration(v)) }
