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
	precise := !clock.Fake() // a thread sleep would not advance a fake clock
	for {
		_, at, ok := arr.next()
		if !ok {
			break
		}
		due := start.Add(at)
		// Release every arrival that is due; wait for the next one.
		if r.waitUntil(t, due, precise) {
			break
		}
		if r.stopping.Load() {
			break
		}
		select {
		case v := <-idle:
			v.ch <- due
		default:
			if len(all) < maxVUs {
				spawn().ch <- due
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

// waitUntil waits for due, or until the scenario stops (then it returns
// true). Go timers fire up to a millisecond or so late, so it waits on a
// timer only until shortly before due, and the rest with a precise sleep.
func (r *runner) waitUntil(t *time.Timer, due time.Time, precise bool) (stopped bool) {
	wait := time.Until(due)
	if wait <= 0 {
		return false
	}
	coarse := wait
	if precise {
		coarse = wait - clock.Threshold
	}
	if coarse > 0 {
		t.Reset(coarse)
		select {
		case <-t.C:
		case <-r.stopCh:
			return true
		}
	}
	if precise {
		// Let the VUs just handed arrivals run before this thread
		// blocks: they sit on its processor otherwise.
		runtime.Gosched()
		var spin time.Duration
		if wait >= clock.Threshold {
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
