package report

import (
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// RateBasis is what a row's rates are computed from: the outcomes of its
// operations that ended within the run's load window (see [LoadWindow])
// and the window's length. Counts and the other figures come from the
// row's totals over the whole measured window; only rates use the basis,
// so that a tail in which the load winds down does not dilute them.
type RateBasis struct {
	Outcomes metrics.Counts // of the operations that ended in the window
	Span     time.Duration  // the window's length
}

// PerSecond returns n per second of the span (0 for an empty span).
func (b RateBasis) PerSecond(n int64) float64 {
	if b.Span <= 0 {
		return 0
	}
	return float64(n) / b.Span.Seconds()
}

// Rate returns the operations that ended in the window per second of it.
func (b RateBasis) Rate() float64 { return b.PerSecond(b.Outcomes.Total()) }

// LoadWindow returns the span of a run that its rates are computed over:
// the whole intervals from the end of the warm-up to the end of the
// planned load (the start plus [loadgen.Plan.Duration], ramping stages
// included, or the end of the run if it ended sooner).
//
// Operations that end after it are counted but not timed: in a closed
// model the VUs' last iterations and think times of the graceful stop, in
// an open model the iterations still under way when the arrivals stop.
// Counting them over the measured window instead would read 200 VUs with
// up to 0.75 s of thinking, running at a steady 377 iterations a second,
// as 306 a second.
//
// A run with no whole interval between the two (shorter than an interval
// after its warm-up, or a plan of no known duration) has the measured
// window as its load window: from the end of the warm-up to the end. A
// run cut short ends its window at its end, whatever was under way. The
// window is the plan's: a scenario that starts later (StartAfter) has its
// rate over the whole of it.
func LoadWindow(res *loadgen.Result) (from, to time.Time) {
	from, to, _ = loadWindow(res)
	return from, to
}

// loadWindow returns the load window and whether it is made of whole
// intervals (false for the measured window it falls back to).
func loadWindow(res *loadgen.Result) (from, to time.Time, whole bool) {
	snap := res.Metrics
	from = snap.WarmupEnd()
	if iv := snap.Interval; iv > 0 && res.Plan.Duration > 0 {
		load := min(res.Plan.Duration, res.End.Sub(snap.Start))
		if n := (load - snap.Warmup) / iv; n > 0 {
			return from, from.Add(n * iv), true
		}
	}
	if res.End.Before(from) {
		return from, from, false
	}
	return from, res.End, false
}

// rateBasis returns the rate basis of series m of a run, whose load
// window is [from, to).
func rateBasis(m *metrics.Series, iv time.Duration, from, to time.Time, whole bool) RateBasis {
	b := RateBasis{Span: to.Sub(from)}
	if !whole {
		b.Outcomes = m.Total.Outcomes
		return b
	}
	for i := range m.Points {
		p := &m.Points[i]
		if !p.Start.Before(from) && !p.Start.Add(iv).After(to) {
			b.Outcomes.Add(&p.Outcomes)
		}
	}
	return b
}

// RowStats returns a row's totals in one run (over the measured window,
// the warm-up left out) and what its rates are computed from.
func RowStats(res *loadgen.Result, r Row) (*metrics.Stats, RateBasis, bool) {
	m := res.Metrics.SeriesOf(r.Key())
	if m == nil {
		return nil, RateBasis{}, false
	}
	from, to, whole := loadWindow(res)
	return &m.Total, rateBasis(m, res.Metrics.Interval, from, to, whole), true
}

// measured returns a run's measured window: from the end of the warm-up to
// the end.
func measured(res *loadgen.Result) time.Duration {
	return max(res.End.Sub(res.Metrics.WarmupEnd()), 0)
}

// Select returns the totals of the rows sel selects in a run, merged (the
// steps of every scenario for "[step]", say), with what their rates are
// computed from: what a threshold on sel is checked against. Merging
// into what it returns leaves the run as it was (a snapshot's histograms
// are frozen: a merge makes a new one). A selector
// that does not parse or selects nothing is an error naming what the run
// has.
func Select(res *loadgen.Result, sel Selector) (metrics.Stats, RateBasis, error) {
	src := resultSource(res)
	idx, err := sel.Match(src.keys)
	if err != nil {
		return metrics.Stats{}, RateBasis{}, err
	}
	st, b := src.merge(idx)
	return st, b, nil
}
