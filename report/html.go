package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// HTMLOptions adds optional content to an HTML report.
type HTMLOptions struct {
	// Verdicts are threshold results to show with pass/fail.
	Verdicts []Verdict
	// Title overrides the page title (default: the plan's name).
	Title string
}

type htmlPage struct {
	Title      string
	Generated  string
	Meta       [][2]string
	Summary    *Summary
	Tables     []htmlTable
	Verdicts   []Verdict
	Charts     []*chart
	Warnings   []string
	Comparison *htmlTable
	Notes      []string
}

type htmlTable struct {
	Caption string
	Head    []string
	Right   []bool
	Rows    [][]string
	Classes []string // per row
}

func fromTable(caption string, t *table) htmlTable {
	return htmlTable{Caption: caption, Head: t.head, Right: t.right, Rows: t.rows}
}

// WriteHTML writes a self-contained HTML page for a run: its header, the
// summary tables, and SVG charts over time sharing one time axis (latency
// p50/p90/p99 per step, requests and errors per second, active VUs and
// dropped iterations, each gauge) with timeline events as labelled vertical
// lines and the warm-up shaded, a percentile distribution chart, and the
// threshold verdicts given in opts. The page needs no network access and no
// script: it opens in any browser, years later.
func WriteHTML(w io.Writer, res *loadgen.Result, opts HTMLOptions) error {
	s := Summarize(res)
	p := &htmlPage{Title: opts.Title, Summary: s, Verdicts: opts.Verdicts, Warnings: s.Warnings}
	if p.Title == "" {
		p.Title = s.Plan.Name
	}
	if p.Title == "" {
		p.Title = "load test report"
	}
	p.Meta = runMeta(s)
	for _, sc := range s.Scenarios {
		t := stepTable()
		for _, st := range sc.Steps {
			t.add(figureRow(st.Name, st.Figures)...)
		}
		t.add(figureRow("(iteration)", sc.Iteration)...)
		if sc.Lag != nil {
			t.add(figureRow("(schedule lag)", *sc.Lag)...)
		}
		cap := fmt.Sprintf("%s — %s: %d started, %d completed, %d failed, %d interrupted", sc.Name, sc.Executor, sc.Started, sc.Completed, sc.Failed, sc.Interrupted)
		if sc.Open {
			cap += fmt.Sprintf(", %d dropped", sc.Dropped)
		}
		p.Tables = append(p.Tables, fromTable(cap, t))
	}
	p.Charts = runCharts(res, "")
	p.Charts = append(p.Charts, distributionChart("dist", "Latency by percentile", stepStats(res, "")))
	return pageTemplate.Execute(w, p)
}

func runMeta(s *Summary) [][2]string {
	meta := s.meta()
	for _, sc := range s.Plan.Scenarios {
		meta = append(meta, [2]string{"scenario " + sc.Name, sc.Description})
	}
	return meta
}

type namedStats struct {
	name string
	st   metrics.Stats
}

// stepStats lists each step's totals (or each scenario's iterations when it
// has no steps), with a name prefix.
func stepStats(res *loadgen.Result, prefix string) []namedStats {
	var out []namedStats
	for _, r := range rowsOf(res) {
		hasSteps := false
		for _, o := range rowsOf(res) {
			if o.Scenario == r.Scenario && o.Step != "" {
				hasSteps = true
			}
		}
		if r.Step == "" && hasSteps {
			continue
		}
		st, _, _ := RunStats(res, r)
		out = append(out, namedStats{prefix + r.String(), st})
	}
	return out
}

// runCharts builds the time charts of a run; prefix names its series (for
// overlays).
func runCharts(res *loadgen.Result, prefix string) []*chart {
	snap := res.Metrics
	iv := snap.Interval.Seconds()
	end := res.End.Sub(snap.Start).Seconds()
	x := func(i int) float64 { return float64(i) * iv }
	// span is interval i's length: the last one may be partial.
	span := func(i int) float64 { return max(min(iv, end-x(i)), 1e-3) }
	var evs []eventAt
	for _, e := range res.Events {
		if !e.Skipped {
			evs = append(evs, eventAt{e.At.Sub(snap.Start).Seconds(), e.Name})
		}
	}
	warm := snap.Warmup.Seconds()
	var charts []*chart
	finish := func(c *chart) {
		c.addEvents(evs)
		c.shadeWarmup(warm)
		charts = append(charts, c)
	}
	rows := rowsOf(res)
	var stepRows []Row
	for _, r := range rows {
		if r.Step != "" {
			stepRows = append(stepRows, r)
		}
	}
	if len(stepRows) == 0 {
		stepRows = rows
	}
	for i, r := range stepRows {
		m := snap.Metric(r.key())
		var data []seriesData
		for _, q := range []struct {
			name string
			q    float64
		}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}} {
			sd := seriesData{name: prefix + q.name}
			for j, pt := range m.Series {
				y := math.NaN()
				if pt.Latency.Count() > 0 {
					y = float64(pt.Quantile(q.q))
				}
				sd.pts = append(sd.pts, xy{x(j), y})
			}
			data = append(data, sd)
		}
		finish(newChart(fmt.Sprintf("latency-%d", i), "Latency over time: "+r.String(), "latency", "time since start", 0, end, data, durLabel, secondsLabel, false))
	}
	var tput []seriesData
	errByClass := map[metrics.Outcome][]xy{}
	for _, r := range stepRows {
		m := snap.Metric(r.key())
		sd := seriesData{name: prefix + r.String()}
		for j, pt := range m.Series {
			sd.pts = append(sd.pts, xy{x(j), float64(pt.Count()) / span(j)})
			for _, o := range metrics.ErrorClasses() {
				if len(errByClass[o]) <= j {
					errByClass[o] = append(errByClass[o], xy{x(j), 0})
				}
				errByClass[o][j].y += float64(pt.Outcomes[o]) / span(j)
			}
		}
		tput = append(tput, sd)
	}
	finish(newChart("throughput", "Requests per second", "per second", "time since start", 0, end, tput, countLabel, secondsLabel, false))
	var errs []seriesData
	for _, o := range metrics.ErrorClasses() {
		pts := errByClass[o]
		nonzero := false
		for _, p := range pts {
			nonzero = nonzero || p.y > 0
		}
		if nonzero {
			errs = append(errs, seriesData{name: prefix + o.String(), pts: pts})
		}
	}
	finish(newChart("errors", "Errors per second by class", "errors per second", "time since start", 0, end, errs, countLabel, secondsLabel, false))
	var vus []seriesData
	for _, sc := range res.Plan.Scenarios {
		m := snap.Metric(metrics.Key{Scenario: sc.Name, Kind: metrics.KindIteration})
		if m == nil {
			continue
		}
		v := seriesData{name: prefix + sc.Name + " VUs"}
		d := seriesData{name: prefix + sc.Name + " dropped/s"}
		for j, pt := range m.Series {
			v.pts = append(v.pts, xy{x(j), float64(pt.VUs)})
			d.pts = append(d.pts, xy{x(j), float64(pt.Outcomes[metrics.Dropped]) / span(j)})
		}
		vus = append(vus, v)
		if sc.Open {
			vus = append(vus, d)
		}
	}
	finish(newChart("vus", "Active virtual users (and dropped iterations)", "VUs, dropped per second", "time since start", 0, end, vus, countLabel, secondsLabel, false))
	for i, g := range snap.Gauges {
		sd := seriesData{name: prefix + g.Name}
		for j, p := range g.Points {
			y := math.NaN()
			if p.N > 0 {
				y = p.Mean()
			}
			sd.pts = append(sd.pts, xy{x(j), y})
		}
		finish(newChart(fmt.Sprintf("gauge-%d", i), "Gauge: "+g.Name, g.Name, "time since start", 0, end, []seriesData{sd}, countLabel, secondsLabel, false))
	}
	return charts
}

// distributionChart draws latency by percentile on a "nines" axis.
func distributionChart(id, title string, stats []namedStats) *chart {
	const maxNines = 4.0
	var data []seriesData
	for _, s := range stats {
		sd := seriesData{name: s.name}
		if s.st.Latency.Count() > 0 {
			var qs []float64
			for n := 0.0; n <= maxNines+1e-9; n += 0.1 {
				qs = append(qs, 1-math.Pow(10, -n))
			}
			qs[0] = 0
			vals := s.st.Latency.Quantiles(qs...)
			for i, v := range vals {
				sd.pts = append(sd.pts, xy{float64(i) * 0.1, float64(v)})
			}
		}
		data = append(data, sd)
	}
	return newChart(id, title, "latency", "percentile (log scale of nines)", 0, maxNines, data, durLabel, ninesLabel, true)
}

// WriteComparisonHTML writes a self-contained page comparing a baseline
// with a candidate: the comparison table with verdicts, and their charts
// overlaid on the same axes (the first run of each side over time, and the
// merged distributions by percentile).
func WriteComparisonHTML(w io.Writer, baseline, candidate []*loadgen.Result, c *Comparison) error {
	if len(baseline) == 0 || len(candidate) == 0 {
		return fmt.Errorf("report: WriteComparisonHTML needs runs on both sides")
	}
	p := &htmlPage{Title: "Baseline vs candidate", Notes: c.Warnings}
	t := fromTable(fmt.Sprintf("%d baseline run(s) vs %d candidate run(s); values from merged histograms, verdicts from per-run values (Mann-Whitney U, α = %.2f)", c.BaseRuns, c.CandRuns, Alpha), comparisonTable(c))
	for _, r := range t.Rows {
		p.Comparison = &t
		t.Classes = append(t.Classes, "v-"+strings.ReplaceAll(r[len(r)-1], "~", "same"))
	}
	p.Comparison = &t
	p.Meta = [][2]string{
		{"Baseline", baseline[0].Start.UTC().Format(time.RFC3339) + " — " + baseline[0].Plan.Name},
		{"Candidate", candidate[0].Start.UTC().Format(time.RFC3339) + " — " + candidate[0].Plan.Name},
	}
	bc, cc := runCharts(baseline[0], "baseline "), runCharts(candidate[0], "candidate ")
	span := max(baseline[0].End.Sub(baseline[0].Metrics.Start).Seconds(), candidate[0].End.Sub(candidate[0].Metrics.Start).Seconds())
	for i := range min(len(bc), len(cc)) {
		if bc[i].ID != cc[i].ID {
			continue
		}
		p.Charts = append(p.Charts, overlay(bc[i], cc[i], span))
	}
	merged := func(runs []*loadgen.Result, prefix string) []namedStats {
		var out []namedStats
		for _, r := range rowsOf(runs[0]) {
			var all metrics.Stats
			for _, res := range runs {
				if st, _, ok := RunStats(res, r); ok {
					all.Merge(&st)
				}
			}
			out = append(out, namedStats{prefix + r.String(), all})
		}
		return out
	}
	p.Charts = append(p.Charts, distributionChart("dist", "Latency by percentile (merged runs)", append(merged(baseline, "baseline "), merged(candidate, "candidate ")...)))
	return pageTemplate.Execute(w, p)
}

// overlay lays out two runs' versions of one chart on one axis of length
// span seconds, from the data each chart keeps.
func overlay(b, c *chart, span float64) *chart {
	yfmt := countLabel
	if strings.HasPrefix(b.ID, "latency") {
		yfmt = durLabel
	}
	return newChart(b.ID, b.Title, b.YLabel, b.XLabel, 0, span, append(slices.Clone(b.data), c.data...), yfmt, secondsLabel, false)
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
}).Parse(pageHTML))
