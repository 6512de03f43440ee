package loadgen

import (
	"sync/atomic"
	"time"
)

// closedSpec is how a closed model runs.
type closedSpec struct {
	end      time.Duration                              // stop starting iterations
	target   func(t time.Duration) (int, time.Duration) // VUs at t, next change
	rampDown time.Duration                              // grace for VUs that leave
	perVU    int64                                      // iterations per VU; 0 unlimited
	shared   *atomic.Int64                              // shared iterations left; nil unlimited
	budget   bool                                       // the scenario ends when every VU is done
	allDone  chan struct{}                              // closed by the last VU to finish, with budget
	stagger  time.Duration                              // the first VUs begin over this span
	first    int                                        // how many VUs there were at the start
}

// closed runs a closed model from start: it keeps as many VUs as spec's
// target asks for until the end, a stop or, with a budget, the last VU
// done; then it waits for its VUs.
func (r *runner) closed(start time.Time, spec closedSpec) {
	var active []*vuState
	spec.allDone = make(chan struct{})
	endT := time.NewTimer(time.Until(start.Add(spec.end)))
	defer endT.Stop()
	next := time.NewTimer(time.Hour)
	defer next.Stop()
	spec.first = -1
	for !r.stopping.Load() {
		n, change := spec.target(time.Since(start))
		if spec.first < 0 {
			spec.first = n
		}
		r.vus.Add(int64(max(n-len(active), 0))) // before any VU can finish
		for len(active) < n {
			v := r.newVU()
			slot := len(active)
			active = append(active, v)
			r.vuWG.Go(func() {
				r.vuMain(func() { r.closedVU(v, slot, start, &spec) }, nil, func() {
					v.cancel()
					if r.vus.Add(-1) == 0 && spec.budget {
						close(spec.allDone) // budget executors start all VUs at once and never more
					}
				})
			})
		}
		for len(active) > n {
			v := active[len(active)-1]
			active = active[:len(active)-1]
			v.leaving.Store(true)
			r.tmu.Lock()
			r.timers = append(r.timers, time.AfterFunc(spec.rampDown, v.cancel))
			r.tmu.Unlock()
		}
		if spec.budget {
			if n == 0 {
				break
			}
			select {
			case <-spec.allDone:
			case <-endT.C:
			case <-r.stopCh:
			}
			break
		}
		var wake <-chan time.Time
		if change >= 0 && change < spec.end {
			next.Reset(time.Until(start.Add(change)))
			wake = next.C
		}
		select {
		case <-wake:
		case <-endT.C:
			r.stop()
		case <-r.stopCh:
		}
	}
	r.stop()
	r.vuWG.Wait()
}

// closedVU loops over iterations as the VU in the given slot of the
// population (slot k stays while the target is above k). It starts an
// iteration only while the executor's time lasts and its slot is wanted,
// judged by the clock at that instant: a VU that would start exactly at
// the end, or when the ramp goes below it, does not, whatever order the
// goroutines of that instant run in.
//
// Every VU of a budget executor starts at once; the last to finish ends the
// scenario (see closed).
func (r *runner) closedVU(v *vuState, slot int, start time.Time, spec *closedSpec) {
	endAt := start.Add(spec.end)
	if spec.stagger > 0 && slot < spec.first && slot > 0 {
		// VU slot of the first ones begins at slot/first of the stagger
		// (in floating point: stagger·slot may not fit in a Duration).
		at := time.Duration(float64(spec.stagger) * float64(slot) / float64(spec.first))
		t := time.NewTimer(time.Until(start.Add(at)))
		select {
		case <-t.C:
		case <-r.stopCh:
			t.Stop()
			return
		case <-v.ctx.Done(): // the VU left before it began
			t.Stop()
			return
		}
	}
	for !v.leaving.Load() && !r.stopping.Load() {
		if spec.perVU > 0 && v.it.Number >= spec.perVU {
			return
		}
		now := time.Now()
		if !now.Before(endAt) {
			return
		}
		if n, _ := spec.target(now.Sub(start)); n <= slot {
			return
		}
		if spec.shared != nil && spec.shared.Add(-1) < 0 {
			return
		}
		r.iterate(v, now, now, false)
	}
}
