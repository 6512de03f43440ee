package loadgen

import (
	"runtime"
	"time"

	"github.com/stampede-go/stampede/internal/clock"
	"github.com/stampede-go/stampede/metrics"
)

// open runs an open model from start: each of arr's arrivals, when due,
// goes to an idle VU, or to a new one up to maxVUs (pre of them started
// at once), or is counted as dropped. The scenario lasts dur; then it
// waits for its VUs.
func (r *runner) open(start time.Time, dur time.Duration, arr *dealer, pre, maxVUs int) {
	pre = r.seg.Share(pre)
	maxVUs = max(r.seg.Share(max(maxVUs, pre)), pre, 1)
	idle := make(chan *vuState, maxVUs)
	var all []*vuState
	spawn := func() *vuState {
		v := r.newVU()
		v.ch = make(chan time.Time, 1)
		all = append(all, v)
		r.vus.Add(1)
		r.vuWG.Go(func() {
			r.vuMain(func() { r.openVU(v, idle) }, func() { idle <- v }, func() { v.cancel(); r.vus.Add(-1) })
		})
		return v
	}
	for range pre {
		idle <- spawn()
	}
	dropper := r.rec.Shard(0)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	w := &waiter{r: r, t: t, precise: !clock.Fake()} // a thread sleep would not advance a fake clock
	for {
		_, at, ok := arr.next()
		if !ok {
			break
		}
		due := start.Add(at)
		// Release every arrival that is due; wait for the next one.
		if w.until(due) {
			break
		}
		if r.stopping.Load() {
			break
		}
		select {
		case v := <-idle:
			v.ch <- due
			w.handed = true
		default:
			if len(all) < maxVUs {
				spawn().ch <- due
				w.handed = true
			} else {
				dropper.Count(r.iterH, due, metrics.Dropped, 1)
			}
		}
	}
	// The scenario lasts its whole duration, past its last arrival: the
	// graceful stop counts from there.
	if wait := time.Until(start.Add(dur)); wait > 0 && !r.stopping.Load() {
		t.Reset(wait)
		select {
		case <-t.C:
		case <-r.stopCh:
		}
	}
	r.stop()
	for _, v := range all {
		close(v.ch)
	}
	r.vuWG.Wait()
}

// waiter waits for an open model's arrivals.
type waiter struct {
	r       *runner
	t       *time.Timer
	precise bool
	// handed is set when a VU was handed an arrival since this goroutine
	// last parked: the VU waits on this goroutine's processor until it
	// parks or yields.
	handed bool
}

// until waits for due, or until the scenario stops (then it returns
// true). Go timers fire late, by a millisecond or more, so it waits on a
// timer only until the window ([clock.Window]) before due, and the rest
// with a precise sleep; each timer's lateness goes into the window.
//
// Before the precise sleep, which keeps its processor, it yields only if
// a VU it handed an arrival has not run yet: a yield puts it behind every
// goroutine waiting to run, and at an interval's end (the recorder's
// flush) or in a garbage collection that once made arrivals milliseconds
// late.
func (w *waiter) until(due time.Time) (stopped bool) {
	wait := time.Until(due)
	if wait <= 0 {
		return false
	}
	coarse := wait
	var window time.Duration
	if w.precise {
		window = clock.Window()
		coarse = wait - window
	}
	if coarse > 0 {
		w.t.Reset(coarse)
		select {
		case <-w.t.C:
		case <-w.r.stopCh:
			return true
		}
		if w.precise {
			clock.TimerFired(time.Since(due) + window) // it was set for window before due
		}
		w.handed = false // it parked: the VUs ran
	}
	if w.precise {
		if w.handed {
			runtime.Gosched()
			w.handed = false
		}
		var spin time.Duration
		if wait >= clock.SpinAfter {
			spin = clock.Spin // a long wait: end it punctually
		}
		clock.SleepUntil(due, spin)
	}
	return false
}

func (r *runner) openVU(v *vuState, idle chan<- *vuState) {
	for due := range v.ch {
		r.iterate(v, due, time.Now(), true)
		idle <- v // never blocks: idle holds every VU
	}
}
