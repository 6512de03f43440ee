// Package runchart turns a run into what the charts of the HTML pages
// need; report and report/compare share it.
package runchart

import (
	"time"

	"github.com/stampede-go/stampede/internal/chart"
	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// Of returns the chart input of res, labelled and coloured for overlays.
func Of(res *loadgen.Result, label, color string) chart.Run {
	r := chart.Run{Label: label, Color: color, Snap: res.Metrics, End: res.End, Rows: Rows(res)}
	for _, e := range res.Events {
		if !e.Skipped {
			r.Events = append(r.Events, chart.Event{X: e.At.Sub(res.Metrics.Start).Seconds(), Label: e.Name})
		}
	}
	for _, sc := range res.Plan.Scenarios {
		r.Scenarios = append(r.Scenarios, chart.Scenario{Name: sc.Name, Open: sc.Open})
	}
	return r
}

// Rows lists the keys whose latency is charted: each scenario's steps, or
// its iterations when it has no steps.
func Rows(res *loadgen.Result) []metrics.Key {
	var out []metrics.Key
	for _, sc := range res.Plan.Scenarios {
		n := len(out)
		for _, m := range res.Metrics.Series {
			if m.Scenario == sc.Name && m.Kind == metrics.KindStep {
				out = append(out, m.Key)
			}
		}
		if len(out) == n {
			out = append(out, metrics.Key{Scenario: sc.Name, Kind: metrics.KindIteration})
		}
	}
	return out
}

// Dists returns, for each charted row of the first run (see [Rows]), the
// latency of successful operations of all runs merged, named by the row
// after prefix. With a color, every row takes it and rows differ by dash;
// without, each row takes the next colour of the palette.
func Dists(runs []*loadgen.Result, prefix, color string) []chart.Dist {
	if len(runs) == 0 {
		return nil
	}
	var ds []chart.Dist
	for j, k := range Rows(runs[0]) {
		var all metrics.Distribution
		for _, res := range runs {
			if m := res.Metrics.SeriesOf(k); m != nil {
				all.Merge(&m.Total.Latency)
			}
		}
		d := chart.Dist{Name: prefix + k.String(), D: &all}
		if color != "" {
			d.Color, d.Dash = color, chart.Dashes[j%len(chart.Dashes)]
		}
		ds = append(ds, d)
	}
	return ds
}

// Duration labels a latency axis.
func Duration(v float64) string { return format.Duration(time.Duration(v)) }
