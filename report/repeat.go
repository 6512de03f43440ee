package report

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/montanaflynn/stats"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// Repeat runs a plan n times, one after the other with pause between runs,
// and returns every run's Result. plan is called for each run (from 0) so
// that each gets fresh state. On an error it returns the runs so far and
// the error.
func Repeat(ctx context.Context, n int, pause time.Duration, plan func(run int) *loadgen.Plan) ([]*loadgen.Result, error) {
	if n <= 0 {
		return nil, fmt.Errorf("report: Repeat needs n > 0, got %d", n)
	}
	var runs []*loadgen.Result
	for i := range n {
		if i > 0 && pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return runs, context.Cause(ctx)
			}
		}
		res, err := loadgen.Run(ctx, plan(i))
		if err != nil {
			if res != nil {
				runs = append(runs, res)
			}
			return runs, fmt.Errorf("report: run %d of %d: %w", i+1, n, err)
		}
		runs = append(runs, res)
	}
	return runs, nil
}

// Row names one line of a report: a scenario's step, or its iterations
// (Step "").
type Row struct {
	Scenario string
	Step     string
}

// String returns "scenario/step" or "scenario (iterations)".
func (r Row) String() string {
	if r.Step == "" {
		return r.Scenario + " (iterations)"
	}
	return r.Scenario + "/" + r.Step
}

func (r Row) key() metrics.Key {
	if r.Step == "" {
		return metrics.Key{Scenario: r.Scenario, Kind: metrics.KindIteration}
	}
	return metrics.Key{Scenario: r.Scenario, Step: r.Step, Kind: metrics.KindStep}
}

// rowsOf lists a run's rows: per scenario its steps then its iterations.
func rowsOf(res *loadgen.Result) []Row {
	var rows []Row
	for _, sc := range res.Plan.Scenarios {
		for _, m := range res.Metrics.Metrics {
			if m.Scenario == sc.Name && m.Kind == metrics.KindStep {
				rows = append(rows, Row{sc.Name, m.Step})
			}
		}
		rows = append(rows, Row{Scenario: sc.Name})
	}
	return rows
}

// RunStats returns a row's totals in one run and the run's measured window.
func RunStats(res *loadgen.Result, r Row) (metrics.Stats, time.Duration, bool) {
	m := res.Metrics.Metric(r.key())
	if m == nil {
		return metrics.Stats{}, 0, false
	}
	return m.Total, max(res.End.Sub(res.Metrics.WarmupEnd()), 0), true
}

// RepeatedRow holds one row's figures across repetitions.
type RepeatedRow struct {
	Row
	// PerRun has each run's own figures, from that run's histogram.
	PerRun []Figures
	// MedianOfRuns holds, for each figure, the median of the per-run values
	// (the median of the per-run p95s, and so on). Count is the median
	// count.
	MedianOfRuns Figures
	// Merged holds the figures of all runs' histograms merged: the p95 of
	// every request of every run.
	Merged Figures
}

// SummarizeRuns summarises repetitions of one plan, row by row.
func SummarizeRuns(runs []*loadgen.Result) []RepeatedRow {
	var out []RepeatedRow
	if len(runs) == 0 {
		return nil
	}
	for _, row := range rowsOf(runs[0]) {
		rr := RepeatedRow{Row: row}
		var merged metrics.Stats
		var window time.Duration
		for _, res := range runs {
			st, w, ok := RunStats(res, row)
			if !ok {
				continue
			}
			rr.PerRun = append(rr.PerRun, FiguresOf(st, w))
			merged.Merge(&st)
			window += w
		}
		rr.Merged = FiguresOf(merged, window)
		rr.MedianOfRuns = medianFigures(rr.PerRun)
		out = append(out, rr)
	}
	return out
}

func medianFigures(fs []Figures) Figures {
	med := func(get func(Figures) float64) float64 {
		xs := make([]float64, len(fs))
		for i, f := range fs {
			xs[i] = get(f)
		}
		m, err := stats.Median(xs)
		if err != nil {
			return 0
		}
		return m
	}
	d := func(get func(Figures) time.Duration) time.Duration {
		return time.Duration(med(func(f Figures) float64 { return float64(get(f)) }))
	}
	return Figures{
		Count:     int64(med(func(f Figures) float64 { return float64(f.Count) })),
		Errors:    int64(med(func(f Figures) float64 { return float64(f.Errors) })),
		ErrorRate: med(func(f Figures) float64 { return f.ErrorRate }),
		Rate:      med(func(f Figures) float64 { return f.Rate }),
		Min:       d(func(f Figures) time.Duration { return f.Min }),
		Mean:      d(func(f Figures) time.Duration { return f.Mean }),
		Median:    d(func(f Figures) time.Duration { return f.Median }),
		P90:       d(func(f Figures) time.Duration { return f.P90 }),
		P95:       d(func(f Figures) time.Duration { return f.P95 }),
		P99:       d(func(f Figures) time.Duration { return f.P99 }),
		P999:      d(func(f Figures) time.Duration { return f.P999 }),
		Max:       d(func(f Figures) time.Duration { return f.Max }),
	}
}

// WriteRuns writes repetitions as a table: per row the number of runs, the
// medians of the per-run figures, and the merged p95 and error rate,
// labelled as such.
func WriteRuns(w io.Writer, rows []RepeatedRow) error {
	t := &table{
		head:  []string{"step", "runs", "median (runs)", "p90 (runs)", "p95 (runs)", "p99 (runs)", "mean (runs)", "rate (runs)", "p95 (merged)", "errors (merged)"},
		right: []bool{false, true, true, true, true, true, true, true, true, true},
	}
	for _, r := range rows {
		m, g := r.MedianOfRuns, r.Merged
		t.add(r.Row.String(), fmt.Sprint(len(r.PerRun)), Duration(m.Median), Duration(m.P90), Duration(m.P95), Duration(m.P99),
			Duration(m.Mean), Rate(m.Rate), Duration(g.P95), Percent(g.ErrorRate))
	}
	var b strings.Builder
	t.text(&b, "")
	b.WriteString("(runs): the median of the per-run figures; (merged): from all runs' histograms together\n")
	_, err := io.WriteString(w, b.String())
	return err
}
