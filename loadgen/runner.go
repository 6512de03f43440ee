package loadgen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// runner runs one scenario of a run.
type runner struct {
	e       *engine
	sc      *Scenario
	inst    Instance
	rec     *metrics.Recorder
	seg     Segment
	iterH   metrics.Handle
	lagH    metrics.Handle
	iterKey metrics.Key

	stopping atomic.Bool
	stopCh   chan struct{}
	once     sync.Once
	hardCtx  context.Context
	hard     context.CancelFunc
	hardT    *time.Timer

	vus    atomic.Int64 // live VUs
	nextID int
	vuWG   sync.WaitGroup
	timers []*time.Timer // ramp-down deadlines, stopped on release
	tmu    sync.Mutex
}

func newRunner(ctx context.Context, e *engine, sc *Scenario, inst Instance) *runner {
	r := &runner{e: e, sc: sc, inst: inst, rec: e.rec, seg: e.plan.Segment, stopCh: make(chan struct{})}
	r.iterKey = metrics.Key{Scenario: sc.Name, Kind: metrics.KindIteration}
	r.iterH = e.rec.Handle(r.iterKey)
	if isOpen(sc.Executor) {
		r.lagH = e.rec.Handle(metrics.Key{Scenario: sc.Name, Kind: metrics.KindScheduleLag})
	}
	// Iterations see the run context's values but not its cancellation: they
	// are cancelled by the engine, after the graceful stop.
	r.hardCtx, r.hard = context.WithCancel(context.WithoutCancel(ctx))
	return r
}

// stop ends the scenario gracefully: no new iterations; after GracefulStop
// the iterations in flight are cancelled.
func (r *runner) stop() {
	r.once.Do(func() {
		r.stopping.Store(true)
		close(r.stopCh)
		r.tmu.Lock()
		r.hardT = time.AfterFunc(r.sc.gracefulStop(), r.hard)
		r.tmu.Unlock()
	})
}

// release frees the scenario's timers and contexts after the run.
func (r *runner) release() {
	r.tmu.Lock()
	defer r.tmu.Unlock()
	if r.hardT != nil {
		r.hardT.Stop()
	}
	for _, t := range r.timers {
		t.Stop()
	}
	r.hard()
}

func (r *runner) run() {
	defer r.stop()
	if r.sc.StartAfter > 0 {
		t := time.NewTimer(time.Until(r.e.start.Add(r.sc.StartAfter)))
		select {
		case <-t.C:
		case <-r.stopCh:
			t.Stop()
			return
		}
	}
	start := r.e.start.Add(r.sc.StartAfter)
	ld, err := loadOf(r.sc.Executor)
	if err != nil { // Validate called it without a panic: this one is new
		_ = r.e.coll.panicked(r.sc.Name, "executor", err)
		return
	}
	r.guard(&ld)
	if ld.Arrivals != nil {
		r.open(start, ld.Duration, deal(ld.Arrivals, r.seg), ld.PreAllocatedVUs, ld.MaxVUs)
		return
	}
	spec := closedSpec{
		end:      ld.Duration,
		rampDown: orDefault(ld.GracefulRampDown, defaultGraceful),
		perVU:    ld.IterationsPerVU,
		stagger:  ld.Stagger,
	}
	// Every VU asks before each iteration: the segment's share is worked
	// out only when the count changes.
	lastN, lastShare := -1, 0
	var shareMu sync.Mutex
	spec.target = func(t time.Duration) (int, time.Duration) {
		n, next := ld.VUs(t)
		n = min(max(n, 0), ld.MaxVUs)
		if r.seg.IsWhole() {
			return n, next
		}
		shareMu.Lock()
		if n != lastN {
			lastN, lastShare = n, r.seg.Share(n)
		}
		share := lastShare
		shareMu.Unlock()
		return share, next
	}
	if ld.Iterations > 0 {
		iters := r.seg.Share(int(ld.Iterations))
		spec.shared = &atomic.Int64{}
		spec.shared.Store(int64(iters))
		share := spec.target
		spec.target = func(t time.Duration) (int, time.Duration) {
			n, next := share(t)
			if n == 0 && iters > 0 {
				n = 1 // keep the iteration count exact when this segment gets no VU
			}
			return n, next
		}
	}
	spec.budget = spec.perVU > 0 || spec.shared != nil
	r.closed(start, spec)
}

// guard makes a panic in a load's VUs or Arrivals function (an
// executor's code, the user's for a custom one) stop the scenario, kept
// with the run's panics, instead of the process.
func (r *runner) guard(ld *Load) {
	caught := func(p any) {
		_ = r.e.coll.panicked(r.sc.Name, "executor", p)
		r.stop()
	}
	if vus := ld.VUs; vus != nil {
		ld.VUs = func(t time.Duration) (n int, next time.Duration) {
			defer func() {
				if p := recover(); p != nil {
					caught(p)
					n, next = 0, -1
				}
			}()
			return vus(t)
		}
	}
	if arr := ld.Arrivals; arr != nil {
		ld.Arrivals = func() (at time.Duration, ok bool) {
			defer func() {
				if p := recover(); p != nil {
					caught(p)
					at, ok = 0, false
				}
			}()
			return arr()
		}
	}
}

// vuState is a VU with what the engine keeps for it.
type vuState struct {
	vu      VU
	it      Iteration
	shard   *metrics.Shard
	ctx     context.Context
	cancel  context.CancelFunc
	leaving atomic.Bool
	ch      chan time.Time // open models: the next intended start
}

func (r *runner) newVU() *vuState {
	v := &vuState{}
	v.vu.ID = r.nextID
	r.nextID++
	v.shard = r.rec.Shard(v.vu.ID)
	v.it = Iteration{Scenario: r.sc.Name, VU: &v.vu, Recorder: r.rec, Shard: v.shard}
	v.ctx, v.cancel = context.WithCancel(r.hardCtx)
	return v
}

// iterate runs one iteration, due at intended and begun at began, and
// records it.
func (r *runner) iterate(v *vuState, intended, began time.Time, open bool) {
	v.it.Intended = intended
	if open {
		v.shard.Record(r.lagH, began, began.Sub(intended), metrics.OK)
	}
	err := r.call(v)
	r.finish(v, err, time.Now())
}

// finish records an iteration of v that ended at end with err.
func (r *runner) finish(v *vuState, err error, end time.Time) {
	o := metrics.OutcomeOf(err)
	switch {
	case err != nil && errors.Is(err, ErrStopScenario):
		r.stop()
		return
	case err != nil && o != metrics.Panic && v.ctx.Err() != nil:
		v.shard.Count(r.iterH, end, metrics.Interrupted, 1)
		r.e.coll.note(r.sc.Name, metrics.Interrupted, err)
	default:
		v.shard.Record(r.iterH, end, end.Sub(v.it.Intended), o)
		if err != nil {
			r.e.coll.note(r.sc.Name, o, err)
		}
	}
	v.it.Number++
}

// errGoexit is the error of an iteration that called runtime.Goexit.
var errGoexit = metrics.WithOutcome(errors.New("the iteration called runtime.Goexit (t.FailNow, t.SkipNow or t.Fatal outside the test's goroutine?)"), metrics.Other)

func (r *runner) call(v *vuState) (err error) {
	returned := false
	defer func() {
		if p := recover(); p != nil {
			err = r.e.coll.panicked(r.sc.Name, "iteration", p)
		} else if !returned {
			// runtime.Goexit: nothing stops this goroutine from ending, so
			// the iteration is recorded here and vuMain carries the VU on.
			r.finish(v, errGoexit, time.Now())
		}
	}()
	err = r.inst.Iteration(v.ctx, &v.it)
	returned = true
	return err
}

// vuMain runs loop, a VU's loop over iterations, then done. When user code
// ends the goroutine with runtime.Goexit (the iteration is recorded by
// call), resume is run and the loop goes on in a new goroutine, so that
// the VU is not lost.
func (r *runner) vuMain(loop, resume, done func()) {
	finished := false
	defer func() {
		if finished {
			done()
			return
		}
		if resume != nil {
			resume()
		}
		r.vuWG.Go(func() { r.vuMain(loop, resume, done) }) // before this goroutine's Done
	}()
	loop()
	finished = true
}
