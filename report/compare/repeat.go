package compare

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/montanaflynn/stats"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/internal/table"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
)

// RepeatOptions configures [Repeat] and [RepeatInterleaved]. The zero
// value runs back to back, silently.
type RepeatOptions struct {
	// Pause is the time between two runs (for the target to settle).
	Pause time.Duration
	// Progress, if set, receives a progress line per interval of every
	// run (see report.NewProgress), each labelled with the side and the
	// run: "baseline 3/7".
	Progress io.Writer
	// ProgressOptions configure those lines; Label is set per run.
	ProgressOptions report.ProgressOptions
}

// Repeat runs a plan n times, one after the other, and returns every run's
// Result. plan is called for each run (from 0), so that each gets a fresh
// plan; a Plan may also be returned again, as every run sets its scenarios
// up afresh (see loadgen.Scenario). On an error it returns the runs so far
// and the error.
func Repeat(ctx context.Context, n int, plan func(run int) *loadgen.Plan, opts RepeatOptions) ([]*loadgen.Result, error) {
	if n <= 0 {
		return nil, fmt.Errorf("compare: Repeat needs n > 0, got %d", n)
	}
	var runs []*loadgen.Result
	for i := range n {
		if err := pause(ctx, i > 0, opts.Pause); err != nil {
			return runs, err
		}
		res, err := runOne(ctx, plan(i), fmt.Sprintf("run %d/%d", i+1, n), opts)
		if res != nil {
			runs = append(runs, res)
		}
		if err != nil {
			return runs, fmt.Errorf("compare: run %d of %d: %w", i+1, n, err)
		}
	}
	return runs, nil
}

// RepeatInterleaved runs baseline and candidate n times each, alternating
// (B C B C …) so that drift of the machine does not look like a change. It
// returns each side's runs.
func RepeatInterleaved(ctx context.Context, n int, baseline, candidate func(run int) *loadgen.Plan, opts RepeatOptions) (base, cand []*loadgen.Result, err error) {
	if n <= 0 {
		return nil, nil, fmt.Errorf("compare: RepeatInterleaved needs n > 0, got %d", n)
	}
	for i := range n {
		if base, cand, err = runPair(ctx, i, strconv.Itoa(n), baseline, candidate, base, cand, opts); err != nil {
			return base, cand, err
		}
	}
	return base, cand, nil
}

// runPair runs the i-th pair, baseline then candidate, after a pause
// unless it is the first run, and appends each result to its side. of
// names the total in the progress labels ("3/7", "3/≤20").
func runPair(ctx context.Context, i int, of string, baseline, candidate func(run int) *loadgen.Plan, base, cand []*loadgen.Result, opts RepeatOptions) ([]*loadgen.Result, []*loadgen.Result, error) {
	sides := [2]*[]*loadgen.Result{&base, &cand}
	for s, mk := range [2]func(int) *loadgen.Plan{baseline, candidate} {
		if err := pause(ctx, len(base)+len(cand) > 0, opts.Pause); err != nil {
			return base, cand, err
		}
		name := [2]string{"baseline", "candidate"}[s]
		res, err := runOne(ctx, mk(i), fmt.Sprintf("%s %d/%s", name, i+1, of), opts)
		if err != nil {
			return base, cand, fmt.Errorf("compare: run %d of the %s: %w", i+1, name, err)
		}
		*sides[s] = append(*sides[s], res)
	}
	return base, cand, nil
}

func pause(ctx context.Context, between bool, d time.Duration) error {
	if !between || d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// runOne runs p, with a labelled progress line when asked; the plan's own
// OnInterval, if any, still sees every report.
func runOne(ctx context.Context, p *loadgen.Plan, label string, opts RepeatOptions) (*loadgen.Result, error) {
	if opts.Progress != nil {
		po := opts.ProgressOptions
		po.Label = label
		show := report.NewProgress(opts.Progress, po)
		c := *p // the caller's plan keeps its callback
		if own := p.OnInterval; own != nil {
			c.OnInterval = func(pr *loadgen.Progress) { show(pr); own(pr) }
		} else {
			c.OnInterval = show
		}
		p = &c
	}
	return loadgen.Run(ctx, p)
}

// Spread describes a figure across runs: its median, quartiles and range,
// one value per run (each from that run's own histogram).
type Spread struct {
	Runs                   []float64
	Median, Q1, Q3, Lo, Hi float64
}

func spreadOf(vs []float64) Spread {
	s := Spread{Runs: vs, Median: math.NaN(), Q1: math.NaN(), Q3: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	if len(vs) == 0 {
		return s
	}
	s.Median, _ = stats.Median(vs)
	s.Lo, _ = stats.Min(vs)
	s.Hi, _ = stats.Max(vs)
	s.Q1, s.Q3 = s.Median, s.Median
	if len(vs) >= 4 {
		if q, err := stats.Quartile(vs); err == nil {
			s.Q1, s.Q3 = q.Q1, q.Q3
		}
	}
	return s
}

// Repeated holds one row's figures across repetitions of one plan.
type Repeated struct {
	report.Row
	// Figures maps each metric to its spread over the runs.
	Figures []Spread
	// Merged holds each metric over all runs' histograms merged: the p95
	// of every request of every run.
	Merged []float64
}

// Repetitions summarises runs of one plan, row by row, on the given
// metrics (or [DefaultMetrics]).
type Repetitions struct {
	Runs    int
	Metrics []report.Metric
	Rows    []Repeated
}

// SummarizeRuns summarises repetitions of one plan.
func SummarizeRuns(runs []*loadgen.Result, ms ...report.Metric) *Repetitions {
	if len(ms) == 0 {
		ms = DefaultMetrics()
	}
	r := &Repetitions{Runs: len(runs), Metrics: ms}
	if len(runs) == 0 {
		return r
	}
	for _, row := range report.Rows(runs[0]) {
		s := sideOf(runs, row)
		rr := Repeated{Row: row}
		for _, m := range ms {
			if !row.Applies(m) {
				rr.Figures = append(rr.Figures, spreadOf(nil))
				rr.Merged = append(rr.Merged, math.NaN())
				continue
			}
			var vs []float64
			for i, st := range s.runs {
				if v := value(m, st, s.bases[i]); !math.IsNaN(v) {
					vs = append(vs, v)
				}
			}
			rr.Figures = append(rr.Figures, spreadOf(vs))
			rr.Merged = append(rr.Merged, value(m, &s.merged, s.basis))
		}
		r.Rows = append(r.Rows, rr)
	}
	return r
}

// WriteText writes the repetitions as a table: per row and metric the
// median of the per-run values with their quartiles, and the value of all
// runs merged, each labelled.
func (r *Repetitions) WriteText(w io.Writer) error {
	t := table.New("row", "metric", ">median of runs", "quartiles of runs", ">all runs merged")
	for _, row := range r.Rows {
		for i, m := range r.Metrics {
			name := ""
			if i == 0 {
				name = row.Row.String()
			}
			sp := row.Figures[i]
			t.Add(name, m.String(), fmtValue(m, sp.Median), "["+fmtValue(m, sp.Q1)+", "+fmtValue(m, sp.Q3)+"]", fmtValue(m, row.Merged[i]))
		}
	}
	var b strings.Builder
	t.Text(&b, "  ")
	fmt.Fprintf(&b, "  %d runs; median and quartiles: of the per-run values, each from one run's histogram; merged: from all runs' histograms together\n", r.Runs)
	return format.WriteText(w, b.String())
}

func fmtValue(m report.Metric, v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return m.Format(v)
}
