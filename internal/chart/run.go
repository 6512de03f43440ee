package chart

import (
	"fmt"
	"math"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// Run is what the charts over time need of one run.
type Run struct {
	// Label names the run's series when several runs share a chart
	// ("baseline"); "" for a single run.
	Label string
	// Color draws every series of the run when several runs share a chart.
	Color     string
	Snap      *metrics.Snapshot
	End       time.Time // when the run ended
	Events    []Event   // X in seconds since Snap.Start
	Scenarios []Scenario
	// Rows are the keys whose latency is charted: the steps, or a
	// scenario's iterations when it has no steps.
	Rows []metrics.Key
}

// Scenario is what the VU chart needs of a scenario.
type Scenario struct {
	Name string
	Open bool
}

// quantiles are the latency lines of the charts over time, with their
// names and dashes.
var quantiles = [...]struct {
	q    float64
	name string
}{{0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}}

// Runs lays out the charts over time of one run, or of several runs
// overlaid on one time axis (each in its colour, one dash per
// percentile): latency percentiles of successful operations per row,
// operations and errors per second, VUs (and drops for open models), and
// the gauges. Each interval's value is drawn across its interval; the
// warm-up is shaded and does not set the scale; events are vertical lines.
func Runs(runs []Run, durFmt func(float64) string) []*Chart {
	if len(runs) == 0 {
		return nil
	}
	multi := len(runs) > 1
	var end float64
	for _, r := range runs {
		end = max(end, r.End.Sub(r.Snap.Start).Seconds())
	}
	first := runs[0]
	warm := first.Snap.Warmup.Seconds()
	var evs []Event
	for _, r := range runs {
		for _, e := range r.Events {
			if multi {
				e.Label = r.Label + ": " + e.Label
			}
			evs = append(evs, e)
		}
	}
	spec := func(id, title, ylabel string, yf func(float64) string, series []Series, empty string) *Chart {
		return Layout(Spec{ID: id, Title: title, YLabel: ylabel, XLabel: "time since start",
			X1: end, YFormat: yf, XFormat: Seconds, Series: series, Events: evs, Shade: warm, ScaleFrom: warm, Empty: empty})
	}
	name := func(r Run, s string) string {
		if multi {
			return r.Label + " " + s
		}
		return s
	}
	color := func(r Run) string {
		if multi {
			return r.Color
		}
		return ""
	}
	// stepSeries makes a step series of a metric's points.
	stepSeries := func(r Run, label string, m *metrics.Series, dash string, val func(p *metrics.Point, secs float64) float64) Series {
		s := Series{Name: name(r, label), Steps: true, Color: color(r), Dash: dash}
		iv := r.Snap.Interval.Seconds()
		rend := r.End.Sub(r.Snap.Start).Seconds()
		for i := range m.Points {
			a := float64(i) * iv
			b := max(min(a+iv, rend), a+1e-9)
			s.Points = append(s.Points, Point{X: a, X2: b, Y: val(&m.Points[i], b-a)})
		}
		return s
	}
	var charts []*Chart
	// One latency chart per row of the first run (the rows of the others
	// with the same key are overlaid).
	for i, k := range first.Rows {
		var series []Series
		for _, r := range runs {
			m := r.Snap.SeriesOf(k)
			if m == nil {
				continue
			}
			for j, q := range quantiles {
				dash := ""
				if multi {
					dash = Dashes[j]
				}
				series = append(series, stepSeries(r, q.name, m, dash, func(p *metrics.Point, _ float64) float64 {
					if p.Latency.Count() == 0 {
						return math.NaN()
					}
					return float64(p.Quantile(q.q))
				}))
			}
		}
		charts = append(charts, spec(fmt.Sprintf("latency-%d", i), "Latency of successful operations: "+k.String(), "latency", durFmt, series, ""))
	}
	var tput, errs, vus []Series
	open := false
	for _, r := range runs {
		for _, k := range r.Rows {
			if m := r.Snap.SeriesOf(k); m != nil {
				tput = append(tput, stepSeries(r, k.String(), m, "", func(p *metrics.Point, secs float64) float64 { return float64(p.Count()) / secs }))
			}
		}
		for j, o := range metrics.ErrorClasses() {
			var sum *Series
			for _, k := range r.Rows {
				m := r.Snap.SeriesOf(k)
				if m == nil {
					continue
				}
				s := stepSeries(r, o.String(), m, "", func(p *metrics.Point, secs float64) float64 { return float64(p.Outcomes[o]) / secs })
				if sum == nil {
					sum = &s
					continue
				}
				for i := range sum.Points {
					if i < len(s.Points) {
						sum.Points[i].Y += s.Points[i].Y
					}
				}
			}
			nonzero := false
			if sum != nil {
				for _, p := range sum.Points {
					nonzero = nonzero || p.Y > 0
				}
			}
			if nonzero {
				if multi {
					sum.Dash = Dashes[j%len(Dashes)]
				}
				errs = append(errs, *sum)
			}
		}
		for _, sc := range r.Scenarios {
			m := r.Snap.SeriesOf(metrics.Key{Scenario: sc.Name, Kind: metrics.KindIteration})
			if m == nil {
				continue
			}
			// The VU count is sampled at the end of each interval: a point
			// there, joined to the next, not a value across the interval.
			v := stepSeries(r, sc.Name+" VUs", m, "", func(p *metrics.Point, _ float64) float64 { return float64(p.VUs) })
			atEnds(&v)
			vus = append(vus, v)
			if sc.Open {
				open = true
				vus = append(vus, stepSeries(r, sc.Name+" dropped/s", m, "2 2", func(p *metrics.Point, secs float64) float64 {
					return float64(p.Outcomes[metrics.Dropped]) / secs
				}))
			}
		}
	}
	charts = append(charts,
		spec("throughput", "Operations per second (each counted when it ended)", "per second", Count, tput, ""),
		spec("errors", "Errors per second by class", "errors per second", Count, errs, "no errors"))
	if open {
		charts = append(charts, spec("vus", "Active virtual users, and arrivals dropped per second", "VUs, dropped per second", Count, vus, ""))
	} else {
		charts = append(charts, spec("vus", "Active virtual users (at the end of each interval)", "VUs", Count, vus, ""))
	}
	for i, g := range first.Snap.Gauges {
		if metrics.IsGeneratorGauge(g.Name) {
			continue // the generator's own: the report has a section for them
		}
		var series []Series
		for _, r := range runs {
			rg := r.Snap.Gauge(g.Name)
			if rg == nil {
				continue
			}
			s := Series{Name: name(r, g.Name), Color: color(r)}
			iv := r.Snap.Interval.Seconds()
			rend := r.End.Sub(r.Snap.Start).Seconds()
			for j, p := range rg.Points {
				a := float64(j) * iv
				y := math.NaN()
				if p.N > 0 {
					y = p.Mean()
				}
				// Gauges are sampled as each interval closes: a point at
				// its end.
				s.Points = append(s.Points, Point{X: max(min(a+iv, rend), a+1e-9), Y: y})
			}
			series = append(series, s)
		}
		charts = append(charts, spec(fmt.Sprintf("gauge-%d", i), "Gauge: "+g.Name, g.Name, Count, series, ""))
	}
	return charts
}

// atEnds turns a step series into points at the ends of its intervals,
// joined by lines: for values sampled at an instant, not over a span.
func atEnds(s *Series) {
	s.Steps = false
	for i := range s.Points {
		s.Points[i].X = s.Points[i].X2
	}
}

// Dist is a latency distribution to draw by percentile.
type Dist struct {
	Name        string
	Color, Dash string
	D           *metrics.Distribution
}

// Distribution draws latency by percentile on a "nines" axis (p0 to
// p99.99).
func Distribution(id, title string, ds []Dist, durFmt func(float64) string) *Chart {
	const maxNines = 4.0
	var series []Series
	for _, d := range ds {
		s := Series{Name: d.Name, Color: d.Color, Dash: d.Dash}
		if d.D.Count() > 0 {
			for i := 0; i <= 40; i++ {
				x := float64(i) * maxNines / 40
				q := 1 - math.Pow(10, -x)
				if i == 0 {
					q = 0
				}
				s.Points = append(s.Points, Point{X: x, Y: float64(d.D.Quantile(q))})
			}
		}
		series = append(series, s)
	}
	return Layout(Spec{ID: id, Title: title, YLabel: "latency", XLabel: "percentile (log scale of nines)",
		X1: maxNines, Nines: true, YFormat: durFmt, XFormat: Nines, Series: series})
}
