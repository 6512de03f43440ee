package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
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
// Interrupted, together with context.Cause(ctx). An abort through
// [Plan.AbortWhen] does the same and returns an error wrapping [ErrAborted].
// A plan that does not validate returns a nil Result and the error.
func Run(ctx context.Context, p *Plan) (*Result, error) {
	if p == nil {
		return nil, errors.New("loadgen: Run needs a plan, got nil")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
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
		if d := p.Duration(); late >= d {
			return nil, fmt.Errorf("loadgen: Plan.StartAt (%v) is %v in the past: the plan (%v long) would already have ended", p.StartAt.UTC().Format(time.RFC3339), late.Round(time.Millisecond), d)
		}
		start = p.StartAt
	}
	rec, err := metrics.New(metrics.Options{Start: start, Interval: p.Interval, Warmup: p.Warmup})
	if err != nil {
		return nil, err
	}
	e := &engine{plan: p, rec: rec, start: start, coll: &collector{}, done: make(chan struct{})}
	for i := range p.Scenarios {
		sc := &p.Scenarios[i]
		inst := Instance{Iteration: sc.Iteration}
		if sc.Setup != nil {
			env := &Env{Recorder: rec, Segment: p.Segment, MaxVUs: segmentMaxVUs(sc.Executor, p.Segment)}
			inst, err = setUp(ctx, sc, env)
			if err == nil && inst.Iteration == nil {
				err = errors.New("the Instance it returned has no Iteration")
			}
			if err != nil {
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
		return res, context.Cause(ctx)
	}
	return res, nil
}

type engine struct {
	plan    *Plan
	rec     *metrics.Recorder
	start   time.Time
	runners []*runner
	coll    *collector
	done    chan struct{} // closed when every scenario has ended

	stopOnce    sync.Once
	abortReason string // set before stopAll, read after done
	interrupted bool

	endMu sync.Mutex // orders the clock's flushes before the run's end
	ended bool

	nonFiniteMu sync.Mutex
	nonFinite   map[string]int64 // gauge name → NaN or infinite samples
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

func (e *engine) run(ctx context.Context) *Result {
	var wg sync.WaitGroup
	for _, r := range e.runners {
		wg.Go(r.run)
	}
	var bg sync.WaitGroup
	bg.Go(func() { e.clock() })
	eventsCtx, cancelEvents := context.WithCancel(context.WithoutCancel(ctx))
	events := make([]EventRecord, len(e.plan.Events))
	for i := range e.plan.Events {
		bg.Go(func() { events[i] = e.event(eventsCtx, &e.plan.Events[i]) })
	}
	bg.Go(func() {
		select {
		case <-ctx.Done():
			e.stopOnce.Do(func() { e.interrupted = true })
			e.stopAll()
		case <-e.done:
		}
	})
	wg.Wait()
	e.endMu.Lock()
	end := time.Now()
	e.ended = true
	e.endMu.Unlock()
	close(e.done)
	cancelEvents()
	bg.Wait()
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
	for _, g := range e.plan.Gauges {
		if n := e.nonFinite[g.Name]; n > 0 {
			if res.GaugeNonFinite == nil {
				res.GaugeNonFinite = map[string]int64{}
			}
			res.GaugeNonFinite[g.Name] = n
		}
	}
	if e.abortReason != "" {
		res.Aborted, res.AbortReason = true, e.abortReason
	}
	if e.interrupted {
		res.Cause = context.Cause(ctx).Error()
	}
	return res
}

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
		// end under the same lock, and Finish closes the rest.
		e.endMu.Lock()
		if e.ended {
			e.endMu.Unlock()
			return
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
	for _, g := range e.plan.Gauges {
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
		Planned: e.plan.Duration(),
		Final:   final,
		Metrics: make([]MetricProgress, len(keys)),
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
		p.Metrics[h] = MetricProgress{Key: k, Progress: e.rec.Progress(metrics.Handle(h))}
		byKey[k] = h
	}
	if n := e.rec.Closed(); n > 0 {
		p.Interval = n - 1
		p.IntervalStart = e.start.Add(time.Duration(n-1) * iv)
		p.Warmup = time.Duration(n-1)*iv < e.plan.Warmup
	}
	for _, r := range e.runners {
		sp := ScenarioProgress{Name: r.sc.Name, VUs: int(r.vus.Load())}
		sp.Iterations = p.Metrics[byKey[r.iterKey]]
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

// collector keeps a few examples of errors and panics for the Result.
type collector struct {
	mu     sync.Mutex
	errors []ErrorSample
	panics []PanicSample
	seen   map[errKey]int
	looks  map[errKey]int // errors looked at since the last new example
	// morePanics counts panics beyond the kept samples.
	morePanics int64
}

type errKey struct {
	scenario string
	outcome  metrics.Outcome
}

const (
	maxErrorSamples = 3    // distinct messages per scenario and outcome
	maxErrorLooks   = 1000 // errors of a class looked at for a new example
	maxPanics       = 5    // per run
)

// note keeps err as an example of its scenario and class, unless three
// are kept already or one like it is: messages that differ only in a port
// number (the ephemeral port of a connection) are alike. After
// maxErrorLooks errors of a class without a new example, it stops looking.
func (c *collector) note(scenario string, o metrics.Outcome, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen, c.looks = map[errKey]int{}, map[errKey]int{}
	}
	k := errKey{scenario, o}
	if c.seen[k] >= maxErrorSamples || c.looks[k] >= maxErrorLooks {
		return
	}
	c.looks[k]++
	msg := err.Error()
	like := ports.ReplaceAllString(msg, "$1:port")
	for _, e := range c.errors {
		if e.Scenario == scenario && e.Outcome == o.String() && ports.ReplaceAllString(e.Message, "$1:port") == like {
			return // examples differ from each other
		}
	}
	c.seen[k]++
	c.looks[k] = 0
	c.errors = append(c.errors, ErrorSample{Scenario: scenario, Outcome: o.String(), Message: msg})
}

// ports matches an IP address with its port, as network errors print
// them ("127.0.0.1:41234", "[::1]:41234").
var ports = regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+|\[[0-9A-Fa-f:.]+\]):\d+`)

// panicked keeps a recovered panic of user code (where, in scenario) and
// returns it as an error of class panic. The same panic again only counts.
func (c *collector) panicked(scenario, where string, v any) error {
	return c.keep(scenario, where, v, debug.Stack())
}

// keep keeps a panic with the stack where it was recovered.
func (c *collector) keep(scenario, where string, v any, stack []byte) error {
	val := fmt.Sprint(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.panics {
		if p := &c.panics[i]; p.Scenario == scenario && p.Where == where && p.Value == val {
			p.Count++
			return metrics.WithOutcome(fmt.Errorf("panic: %s", val), metrics.Panic)
		}
	}
	if len(c.panics) < maxPanics {
		c.panics = append(c.panics, PanicSample{Scenario: scenario, Where: where, Value: val, Stack: string(stack), Count: 1})
	} else {
		c.morePanics++
	}
	return metrics.WithOutcome(fmt.Errorf("panic: %s", val), metrics.Panic)
}

// ---- one scenario ----

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

func isOpen(x Executor) bool {
	l, err := loadOf(x)
	return err == nil && l.Arrivals != nil
}

// isNil reports whether x is nil or a nil pointer (whose methods would
// dereference it).
func isNil(x Executor) bool {
	if x == nil {
		return true
	}
	v := reflect.ValueOf(x)
	return v.Kind() == reflect.Pointer && v.IsNil()
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

// ---- closed models ----

type closedSpec struct {
	end      time.Duration                              // stop starting iterations
	target   func(t time.Duration) (int, time.Duration) // VUs at t, next change
	rampDown time.Duration                              // grace for VUs that leave
	perVU    int64                                      // iterations per VU; 0 unlimited
	shared   *atomic.Int64                              // shared iterations left; nil unlimited
	budget   bool                                       // the scenario ends when every VU is done
	allDone  chan struct{}                              // closed by the last VU to finish, with budget
}

func (r *runner) closed(start time.Time, spec closedSpec) {
	var active []*vuState
	spec.allDone = make(chan struct{})
	endT := time.NewTimer(time.Until(start.Add(spec.end)))
	defer endT.Stop()
	next := time.NewTimer(time.Hour)
	defer next.Stop()
	for !r.stopping.Load() {
		n, change := spec.target(time.Since(start))
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

// ---- open models ----

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
