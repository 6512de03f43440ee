package loadgen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/stampede-go/stampede/internal/clock"
	"github.com/stampede-go/stampede/metrics"
)

// ErrAborted is returned (wrapped, with the reason) by [Run] when
// [Plan.AbortWhen] stopped the run.
var ErrAborted = errors.New("loadgen: run aborted")

// Run validates the plan, runs it and returns its Result. It blocks until
// every scenario has ended and every goroutine it started has returned.
//
// Cancelling ctx stops the run as the scenarios' ends do: no new iterations
// start, iterations in flight get their scenario's GracefulStop to finish and
// are then interrupted. Run then returns the partial Result, marked
// Interrupted, together with context.Cause(ctx). A context made by
// [WithHardStop] can end the graceful stop early. An abort through
// [Plan.AbortWhen] does the same and returns an error wrapping [ErrAborted].
// A plan that does not validate returns a nil Result and the error.
func Run(ctx context.Context, p *Plan) (*Result, error) {
	if p == nil {
		return nil, errors.New("loadgen: Run needs a plan, got nil")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	planned := p.Duration()
	var late time.Duration
	start := time.Now()
	if !p.StartAt.IsZero() {
		if wait := time.Until(p.StartAt); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("loadgen: cancelled while waiting for StartAt: %w", context.Cause(ctx))
			}
		} else {
			late = -wait
		}
		if late >= planned {
			return nil, fmt.Errorf("loadgen: Plan.StartAt (%v) is %v in the past: the plan (%v long) would already have ended", p.StartAt.UTC().Format(time.RFC3339), late.Round(time.Millisecond), planned)
		}
		start = p.StartAt
	}
	rec, err := metrics.New(metrics.Options{Start: start, Interval: p.Interval, Warmup: p.Warmup})
	if err != nil {
		return nil, err
	}
	e := &engine{plan: p, planned: planned, rec: rec, start: start, coll: &collector{}, done: make(chan struct{}), gauges: slices.Clone(p.Gauges)}
	if !clock.Fake() { // on a fake clock, the generator's delays are not the run's
		e.health = newHealth(rec, time.Now())
	}
	for i := range p.Scenarios {
		sc := &p.Scenarios[i]
		inst := Instance{Iteration: sc.Iteration}
		if sc.Setup != nil {
			env := &Env{Recorder: rec, Segment: p.Segment, MaxVUs: segmentMaxVUs(sc.Executor, p.Segment)}
			inst, err = setUp(ctx, sc, env)
			if err == nil && inst.Iteration == nil {
				err = errors.New("the Instance it returned has no Iteration")
			}
			if err == nil {
				err = e.checkGauges(inst.Gauges)
			}
			if err != nil {
				// The instance's own teardown, if Setup made one, then the
				// others'.
				e.runners = append(e.runners, &runner{sc: sc, inst: inst})
				e.tearDown()
				return nil, fmt.Errorf("loadgen: scenario %q: Setup: %w", sc.Name, err)
			}
		}
		e.runners = append(e.runners, newRunner(ctx, e, sc, inst))
	}
	res := e.run(ctx)
	res.StartLate = late
	switch {
	case res.Aborted:
		return res, fmt.Errorf("%w: %s", ErrAborted, res.AbortReason)
	case res.Interrupted:
		return res, e.cause
	}
	return res, nil
}

// engine runs a plan: a runner per scenario, the interval clock, the
// events, and the collection of errors and panics.
type engine struct {
	plan    *Plan
	planned time.Duration // plan.Duration(), worked out once
	rec     *metrics.Recorder
	start   time.Time
	runners []*runner
	coll    *collector
	done    chan struct{} // closed when every scenario has ended

	stopOnce    sync.Once
	abortReason string // set before stopAll, read after done
	interrupted bool
	cause       error // why the run was interrupted

	endMu sync.Mutex // orders the clock's flushes before the run's end
	ended bool

	nonFiniteMu sync.Mutex
	nonFinite   map[string]int64 // gauge name → NaN or infinite samples

	gauges []Gauge // the plan's and the scenarios' own

	health *health // sampled by the clock, then once more at the end; nil on a fake clock
}

// checkGauges checks the gauges of a scenario's Instance against the
// plan's and those of the scenarios set up before it, and adds them to the
// gauges sampled.
func (e *engine) checkGauges(gs []Gauge) error {
	var errs []error
	for i, g := range gs {
		switch {
		case g.Name == "":
			errs = append(errs, fmt.Errorf("Instance.Gauges[%d].Name must be non-empty", i))
		case metrics.IsGeneratorGauge(g.Name):
			errs = append(errs, fmt.Errorf("Instance.Gauges[%d].Name must not start with %q (the generator's own gauges), got %q", i, metrics.GeneratorGaugePrefix, g.Name))
		case slices.ContainsFunc(e.gauges, func(h Gauge) bool { return h.Name == g.Name }):
			errs = append(errs, fmt.Errorf("Instance.Gauges[%d].Name must be unique in the plan, %q is used twice", i, g.Name))
		case g.Sample == nil:
			errs = append(errs, fmt.Errorf("Instance.Gauges[%d] (%q): Sample must be set", i, g.Name))
		default:
			e.gauges = append(e.gauges, g)
		}
	}
	return errors.Join(errs...)
}

// setUp calls a scenario's Setup, turning a panic into an error.
func setUp(ctx context.Context, sc *Scenario, env *Env) (inst Instance, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return sc.Setup(ctx, env)
}

// tearDown runs the teardowns of the scenarios set up so far, once each,
// keeping their panics.
func (e *engine) tearDown() {
	for _, r := range e.runners {
		if f := r.inst.Teardown; f != nil {
			r.inst.Teardown = nil
			func() {
				defer func() {
					if p := recover(); p != nil {
						_ = e.coll.panicked(r.sc.Name, "teardown", p)
					}
				}()
				f()
			}()
		}
	}
}

func (e *engine) stopAll() {
	for _, r := range e.runners {
		r.stop()
	}
}

// watch stops the run when ctx is done: gracefully, then at once if the
// hard stop of [WithHardStop] comes too. A hard stop alone does both.
func (e *engine) watch(ctx context.Context) {
	hard, _ := ctx.Value(hardStopKey{}).(context.Context)
	var hardDone <-chan struct{} // nil, never ready, without a hard stop
	if hard != nil {
		hardDone = hard.Done()
	}
	interrupt := func(cause error) {
		e.stopOnce.Do(func() { e.interrupted, e.cause = true, cause })
		e.stopAll()
	}
	select {
	case <-ctx.Done():
		interrupt(context.Cause(ctx))
	case <-hardDone:
	case <-e.done:
		return
	}
	select {
	case <-hardDone:
		interrupt(context.Cause(hard))
		for _, r := range e.runners {
			r.hard()
		}
	case <-e.done:
	}
}

type hardStopKey struct{}

// WithHardStop returns a copy of ctx for [Run] that also carries hard, the
// end of patience: cancelling ctx stops the run gracefully, as always, and
// once hard is done too the iterations still in flight are interrupted at
// once, without waiting out their scenario's GracefulStop. A hard stop
// alone does both. A command line maps its first Ctrl-C to ctx and its
// second to hard.
func WithHardStop(ctx, hard context.Context) context.Context {
	return context.WithValue(ctx, hardStopKey{}, hard)
}

func (e *engine) run(ctx context.Context) *Result {
	var wg sync.WaitGroup
	for _, r := range e.runners {
		wg.Go(r.run)
	}
	var bg sync.WaitGroup
	var gen Generator
	if e.health != nil {
		bg.Go(func() { gen = measureGenerator() })
	}
	bg.Go(func() { e.clock() })
	eventsCtx, cancelEvents := context.WithCancel(context.WithoutCancel(ctx))
	events := make([]EventRecord, len(e.plan.Events))
	for i := range e.plan.Events {
		bg.Go(func() { events[i] = e.event(eventsCtx, &e.plan.Events[i]) })
	}
	bg.Go(func() { e.watch(ctx) })
	wg.Wait()
	e.endMu.Lock()
	end := time.Now()
	e.ended = true
	e.endMu.Unlock()
	close(e.done)
	cancelEvents()
	bg.Wait()
	if e.health != nil {
		// Before the teardowns: user code after the run is not the run's.
		e.health.sample(time.Now(), end.Add(-time.Nanosecond))
		gen.CPUTime = e.health.used()
	}
	for _, r := range e.runners {
		r.release()
	}
	e.tearDown()
	for _, r := range e.runners { // the last interval ends with the run: its VUs are those left then
		e.rec.SetVUs(r.iterH, r.vus.Load())
	}
	e.rec.Finish(end)
	if e.plan.OnInterval != nil {
		e.hook("OnInterval", func() { e.plan.OnInterval(e.progress(end)) })
	}
	res := &Result{
		Plan:        describe(e.plan),
		Segment:     e.plan.Segment,
		Start:       e.start,
		End:         end,
		Metrics:     e.rec.Snapshot(),
		Events:      events,
		Errors:      e.coll.errors,
		Panics:      e.coll.panics,
		MorePanics:  e.coll.morePanics,
		Interrupted: e.interrupted,
	}
	if e.health != nil {
		res.Generators = []Generator{gen}
	}
	for name, n := range e.nonFinite {
		if res.GaugeNonFinite == nil {
			res.GaugeNonFinite = map[string]int64{}
		}
		res.GaugeNonFinite[name] = n
	}
	if e.abortReason != "" {
		res.Aborted, res.AbortReason = true, e.abortReason
	}
	if e.interrupted {
		res.Cause = e.cause.Error()
	}
	return res
}
