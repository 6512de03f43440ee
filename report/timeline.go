package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/internal/table"
	"github.com/stampede-go/stampede/metrics"
)

// Interval is one interval of a scenario's timeline: what happened in it,
// warm-up included, to answer "which seconds had errors, and how slow
// were the rest?".
type Interval struct {
	// Start and End are offsets from the start of the run's first
	// interval; the last interval ends at the run's end.
	Start, End time.Duration
	// Warmup is set when the interval begins in the warm-up.
	Warmup bool
	// Requests counts the operations of the scenario's steps (its
	// iterations when it records no steps) that ended in the interval;
	// Errors those of them that failed, by class in ErrorsByClass.
	Requests, Errors int64
	ErrorsByClass    []ClassCount
	// Successes counts the successful ones; P50 and P95 are their latency
	// percentiles, read from the merged histograms of the steps (0 when
	// Successes is 0).
	Successes int64
	P50, P95  time.Duration
	// VUs is the number of active virtual users at the interval's end.
	VUs int64
	// Dropped counts the arrivals an open model dropped in the interval.
	Dropped int64
}

// timeline computes the intervals of one scenario: rows are the metrics
// its requests are read from (its steps, or its iterations), it its
// iterations' metric (nil when nothing was recorded).
func timeline(snap *metrics.Snapshot, end time.Time, rows []*metrics.Series, it *metrics.Series) []Interval {
	n := snap.Intervals()
	last := end.Sub(snap.Start)
	var out []Interval
	for i := range n {
		iv := Interval{Start: time.Duration(i) * snap.Interval, End: time.Duration(i+1) * snap.Interval}
		if iv.Start >= last && i > 0 {
			break
		}
		iv.End = min(iv.End, max(last, iv.Start))
		iv.Warmup = iv.Start < snap.Warmup
		var lat metrics.Distribution
		var outcomes metrics.Counts
		for _, m := range rows {
			if i < len(m.Points) {
				p := &m.Points[i]
				lat.Merge(&p.Latency)
				outcomes.Add(&p.Outcomes)
			}
		}
		iv.Requests, iv.Errors = outcomes.Total(), outcomes.Errors()
		for _, o := range metrics.ErrorClasses() {
			if c := outcomes[o]; c > 0 {
				iv.ErrorsByClass = append(iv.ErrorsByClass, ClassCount{o.String(), c})
			}
		}
		iv.Successes = lat.Count()
		iv.P50, iv.P95 = lat.Quantile(0.5), lat.Quantile(0.95)
		if it != nil && i < len(it.Points) {
			iv.VUs = it.Points[i].VUs
			iv.Dropped = it.Points[i].Outcomes[metrics.Dropped]
		}
		out = append(out, iv)
	}
	return out
}

// WriteTimeline writes each scenario's timeline as a table, an interval a
// line: requests, errors by class, p50 and p95 of successful operations,
// active VUs and, for open models, dropped arrivals. Warm-up intervals are
// marked with "*".
func (s *Summary) WriteTimeline(w io.Writer) error {
	var b strings.Builder
	for i, sc := range s.Scenarios {
		if i > 0 {
			b.WriteString("\n")
		}
		what := "steps"
		if len(sc.Steps) == 0 {
			what = "iterations"
		}
		warm := ""
		if s.WarmupEnd.After(s.Start) {
			warm = "; * marks the warm-up"
		}
		fmt.Fprintf(&b, "scenario %s — %s (requests are its %s%s)\n", sc.Name, sc.Executor, what, warm)
		sc.timelineTable().Text(&b, "  ")
	}
	return format.WriteText(w, b.String())
}

func (sc *ScenarioSummary) timelineTable() *table.Table {
	cols := []string{"", ">from", ">to", ">requests", ">errors", "by class", ">p50", ">p95", ">VUs"}
	if sc.Open {
		cols = append(cols, ">dropped")
	}
	t := table.New(cols...)
	for _, iv := range sc.Timeline {
		mark := ""
		if iv.Warmup {
			mark = "*"
		}
		classes := make([]string, len(iv.ErrorsByClass))
		for i, c := range iv.ErrorsByClass {
			classes[i] = fmt.Sprintf("%s %d", c.Class, c.Count)
		}
		p50, p95 := "-", "-"
		if iv.Successes > 0 {
			p50, p95 = format.Duration(iv.P50), format.Duration(iv.P95)
		}
		row := []string{mark, offset(iv.Start), offset(iv.End), strconv.FormatInt(iv.Requests, 10),
			strconv.FormatInt(iv.Errors, 10), strings.Join(classes, ", "), p50, p95, strconv.FormatInt(iv.VUs, 10)}
		if sc.Open {
			row = append(row, strconv.FormatInt(iv.Dropped, 10))
		}
		t.Add(row...)
	}
	return t
}

// offset formats an offset from the run's start ("0s" rather than the
// "0" of a latency).
func offset(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return format.Duration(d)
}
