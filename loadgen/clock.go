package loadgen

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// clock closes an interval at each boundary start + k·Interval: it samples
// gauges, records VU counts, flushes the recorder and reports progress.
func (e *engine) clock() {
	iv := e.rec.Interval()
	closed := 0
	t := time.NewTimer(time.Until(e.start.Add(iv)))
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-e.done:
			return
		}
		// Gauges are user code: sampled outside the lock, so that a slow one
		// cannot hold back the run's end.
		e.sample()
		// A flush never closes an interval past the run's end: run sets the
		// end under the same lock, and Finish closes the rest. The
		// generator's health is sampled only within the run, too.
		e.endMu.Lock()
		if e.ended {
			e.endMu.Unlock()
			return
		}
		if e.health != nil {
			e.health.sample(time.Now(), e.start.Add(time.Duration(closed+1)*iv-time.Nanosecond))
		}
		closed = e.rec.Flush(time.Now())
		e.endMu.Unlock()
		if e.plan.OnInterval != nil || e.plan.AbortWhen != nil {
			p := e.progress(time.Time{})
			if e.plan.OnInterval != nil {
				e.hook("OnInterval", func() { e.plan.OnInterval(p) })
			}
			if e.plan.AbortWhen != nil {
				var reason string
				if v, ok := e.hook("AbortWhen", func() { reason = e.plan.AbortWhen(p) }); !ok {
					// The guard is broken: running on without it is what
					// it was there to prevent.
					reason = fmt.Sprintf("AbortWhen panicked: %v", v)
				}
				if reason != "" {
					e.stopOnce.Do(func() { e.abortReason = reason })
					e.stopAll()
				}
			}
		}
		t.Reset(time.Until(e.start.Add(time.Duration(closed+1) * iv)))
	}
}

// hook calls the plan's code f, named where, recovering a panic: it is
// kept with the run's panics, and hook returns its value and false.
//
// f runs on a goroutine of its own, so that runtime.Goexit in it (t.FailNow
// in a hook) ends only that goroutine, not the engine's clock; it is kept
// like a panic, with the value "runtime.Goexit".
func (e *engine) hook(where string, f func()) (v any, ok bool) {
	type outcome struct {
		v     any
		ok    bool
		stack []byte
	}
	ch := make(chan outcome, 1)
	go func() {
		returned := false
		defer func() {
			switch p := recover(); {
			case p != nil:
				ch <- outcome{p, false, debug.Stack()}
			case !returned:
				ch <- outcome{"runtime.Goexit", false, debug.Stack()}
			default:
				ch <- outcome{nil, true, nil}
			}
		}()
		f()
		returned = true
	}()
	o := <-ch
	if !o.ok {
		_ = e.coll.keep("", where, o.v, o.stack)
	}
	return o.v, o.ok
}

// sample samples the gauges (a panic is kept with the run's panics, and a
// NaN or infinite value counted in Result.GaugeNonFinite; neither is
// observed) and the VU counts.
func (e *engine) sample() {
	for _, g := range e.gauges {
		var v float64
		if _, ok := e.hook("gauge "+g.Name, func() { v = g.Sample() }); !ok {
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			e.nonFiniteMu.Lock()
			if e.nonFinite == nil {
				e.nonFinite = map[string]int64{}
			}
			e.nonFinite[g.Name]++
			e.nonFiniteMu.Unlock()
			continue
		}
		e.rec.Observe(g.Name, v)
	}
	for _, r := range e.runners {
		e.rec.SetVUs(r.iterH, r.vus.Load())
	}
}

// progress reports the run's state after the latest closed interval; end
// is the run's end for the final report, zero before.
func (e *engine) progress(end time.Time) *Progress {
	final := !end.IsZero()
	now := end
	if !final {
		now = time.Now()
	}
	keys := e.rec.Keys()
	iv := e.rec.Interval()
	p := &Progress{
		Elapsed: now.Sub(e.start),
		Planned: e.planned,
		Final:   final,
		Series:  make([]SeriesProgress, len(keys)),
	}
	// The running totals cover the closed intervals (all of the run once it
	// has ended), not the time elapsed since the last one closed.
	covered := time.Duration(e.rec.Closed()) * iv
	if final {
		covered = end.Sub(e.start)
	}
	p.Measured = max(covered-e.plan.Warmup, 0)
	for _, g := range e.rec.LatestGauges() {
		gp := GaugeProgress{Name: g.Name}
		if len(g.Points) > 0 {
			gp.Last = g.Points[0]
		}
		p.Gauges = append(p.Gauges, gp)
	}
	byKey := map[metrics.Key]int{}
	for h, k := range keys {
		p.Series[h] = SeriesProgress{Key: k, KeyProgress: e.rec.Progress(metrics.Handle(h))}
		byKey[k] = h
	}
	if n := e.rec.Closed(); n > 0 {
		p.Interval = n - 1
		p.IntervalStart = e.start.Add(time.Duration(n-1) * iv)
		p.Warmup = time.Duration(n-1)*iv < e.plan.Warmup
	}
	for _, r := range e.runners {
		sp := ScenarioProgress{Name: r.sc.Name, VUs: int(r.vus.Load())}
		sp.Iterations = p.Series[byKey[r.iterKey]]
		p.Scenarios = append(p.Scenarios, sp)
	}
	return p
}

// event runs one timeline event at its offset, unless the run ends first.
func (e *engine) event(ctx context.Context, ev *Event) EventRecord {
	rec := EventRecord{Name: ev.Name, Offset: ev.At}
	t := time.NewTimer(time.Until(e.start.Add(ev.At)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-e.done:
		rec.Skipped = true
		return rec
	}
	rec.At = time.Now()
	if ev.Do != nil {
		var err error
		if v, ok := e.hook("event "+ev.Name, func() { err = ev.Do(ctx) }); !ok {
			err = fmt.Errorf("panic: %v", v)
		}
		if err != nil {
			rec.Error = err.Error()
		}
	}
	rec.Took = time.Since(rec.At)
	return rec
}
