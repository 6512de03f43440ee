package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// IterationFunc is one iteration of a scenario, run by a virtual user. It
// should return promptly once ctx is done: after the graceful stop, ctx is
// cancelled and an iteration still running is counted as interrupted. The
// returned error's outcome class comes from [metrics.OutcomeOf].
type IterationFunc func(ctx context.Context, it *Iteration) error

// Iteration describes the iteration being run. The engine reuses one
// Iteration per VU: it is valid only during the call.
type Iteration struct {
	// Scenario is the scenario's name.
	Scenario string
	// VU is the virtual user running the iteration.
	VU *VU
	// Number is the VU's own iteration count, from 0.
	Number int64
	// Intended is when the iteration was due: its scheduled time in an open
	// model, its actual start in a closed one. Latency is measured from it.
	Intended time.Time
	// Recorder is where the iteration's own measurements go (steps, phases);
	// Shard is the VU's shard of it.
	Recorder *metrics.Recorder
	Shard    *metrics.Shard
}

// VU is a virtual user of one scenario. It lives across iterations; its
// fields are only touched by the goroutine running it.
type VU struct {
	// ID is unique within the scenario in this process, from 0.
	ID int
	// State is free for the iteration function's own per-VU data (a session,
	// a cookie jar, resolved metric handles); the engine never reads it.
	State any
}

// Scenario is one kind of virtual user with its load model. The scenarios of
// a plan run at the same time.
//
// A Scenario is a description: a plan may run any number of times (see
// compare.Repeat in package report/compare), and nothing of one run may leak into the next. A
// scenario that needs state of its own in a run (metric handles, a
// connection pool, a cursor over test data) builds it in Setup, which Run
// calls afresh for every run; Iteration, if used instead, must not keep
// per-run state outside its VU's [VU.State].
type Scenario struct {
	// Name identifies the scenario in results; must be non-empty and unique.
	Name string
	// Executor is the load model; must be non-nil and valid.
	Executor Executor
	// StartAfter delays the scenario's start from the run's start; >= 0.
	StartAfter time.Duration
	// GracefulStop is how long in-flight iterations may run on once the
	// executor stops starting new ones (at its end, on cancellation or
	// abort); then they are interrupted. 0 means 30s; must be >= 0.
	GracefulStop time.Duration
	// Iteration is what each VU runs, for a scenario with no per-run
	// state. Exactly one of Iteration and Setup must be set.
	Iteration IterationFunc
	// Setup builds one run's instance of the scenario: it is called once
	// per run, before any load starts, and returns the run's iteration
	// function and teardown. An error (or a panic) stops Run before any
	// load starts.
	Setup func(ctx context.Context, env *Env) (Instance, error)
}

// Env is what a scenario's Setup learns of the run it is set up for.
type Env struct {
	// Recorder receives the run's measurements; register the scenario's
	// metric keys here (before the load starts, not per operation).
	Recorder *metrics.Recorder
	// Segment is this process's share of the plan.
	Segment Segment
	// MaxVUs is the most VUs this process runs of the scenario at once:
	// the executor's MaxVUs, as shared out to this segment.
	MaxVUs int
}

// Instance is one run's instance of a scenario, made by [Scenario.Setup].
type Instance struct {
	// Iteration is what each VU runs; must be non-nil.
	Iteration IterationFunc
	// Teardown, if set, runs once after the scenario has ended and all its
	// VUs have returned, for example to close idle connections. A panic in
	// it is recovered and kept in [Result.Panics].
	Teardown func()
	// Gauges are the scenario's own gauges, sampled once per interval as
	// Plan.Gauges are (connections a protocol's steps hold open, say); the
	// rules of Plan.Gauges' names apply, across the plan's and every
	// scenario's gauges.
	Gauges []Gauge
}

// ErrStopScenario, returned (possibly wrapped) by an iteration, stops its
// scenario as if its executor had ended: no new iterations start, those in
// flight get the graceful stop. The iteration that returned it is not
// counted: it did no work (for example, a data feeder had no rows left).
var ErrStopScenario = errors.New("loadgen: stop scenario")

// MaxVUs returns the largest number of VUs the executor can run at once in
// the whole plan (before splitting into segments). Use it to size
// connection pools.
func MaxVUs(x Executor) int {
	if isNil(x) {
		return 0
	}
	l, err := loadOf(x)
	if err != nil {
		return 0
	}
	return l.MaxVUs
}

// segmentMaxVUs bounds the VUs one segment runs of x at once.
func segmentMaxVUs(x Executor, seg Segment) int {
	c := seg.count()
	return max((MaxVUs(x)+c-1)/c, 1)
}

func (s *Scenario) gracefulStop() time.Duration { return orDefault(s.GracefulStop, defaultGraceful) }

// Event is user code run at an offset from the run's start, such as killing a
// cache node; it is marked on the timeline with its outcome.
type Event struct {
	At   time.Duration                   // offset from the run's start; >= 0
	Name string                          // non-empty
	Do   func(ctx context.Context) error // may be nil (a marker only)
}

// At returns an Event: run do at offset d, marked on the timeline as name.
func At(d time.Duration, name string, do func(ctx context.Context) error) Event {
	return Event{At: d, Name: name, Do: do}
}

// Gauge is a value sampled once per interval, such as the target's heap.
type Gauge struct {
	Name string // non-empty, unique
	// Sample is called once per interval; non-nil. A panic is kept in
	// Result.Panics and a NaN or infinite value counted in
	// Result.GaugeNonFinite; either way that sample is skipped.
	Sample func() float64
}

// Plan is a whole load test: scenarios run together, with the run-wide
// settings below. The zero values of the settings are usable defaults.
type Plan struct {
	// Name describes the plan in reports; optional.
	Name string
	// Scenarios run at the same time; at least one.
	Scenarios []Scenario
	// Interval is the length of one series interval; 0 means one second.
	Interval time.Duration
	// Warmup is the span from the start whose recordings are kept in the
	// series but left out of the totals; a whole number of intervals.
	Warmup time.Duration
	// Events run at their offsets and are marked on the timeline.
	Events []Event
	// Gauges are sampled once per interval.
	Gauges []Gauge
	// OnInterval, if set, is called after each interval closes, with a
	// summary of the run so far (for progress lines and live export). It runs
	// on the engine's clock goroutine and should return quickly. A panic in
	// it is kept in Result.Panics and the run goes on.
	OnInterval func(p *Progress)
	// AbortWhen, if set, sees every Progress; returning a non-empty reason
	// stops the run as a cancellation does, and the Result says why. A
	// panic in it aborts the run too (the guard is gone), and is kept in
	// Result.Panics.
	AbortWhen func(p *Progress) (reason string)
	// Segment makes this process run its share of the plan (see [Segment]).
	Segment Segment
	// StartAt, if set, is the wall-clock time at which the run starts, so
	// that several processes start together; Run waits for it. A process
	// that reaches it late starts at once and records how late it was; one
	// that reaches it after the plan would have ended gets an error.
	StartAt time.Time
}

// Validate reports every problem with the plan at once, each naming the
// scenario, the field, the value and what is allowed.
func (p *Plan) Validate() error {
	var errs []error
	add := func(cond bool, format string, args ...any) {
		if !cond {
			errs = append(errs, fmt.Errorf("loadgen: "+format, args...))
		}
	}
	add(len(p.Scenarios) > 0, "Plan.Scenarios must have at least one scenario, got none")
	add(p.Interval == 0 || p.Interval >= time.Millisecond, "Plan.Interval must be 0 (one second) or >= 1ms, got %v", p.Interval)
	iv := orDefault(p.Interval, time.Second)
	add(p.Warmup >= 0 && p.Warmup%iv == 0, "Plan.Warmup must be >= 0 and a whole number of intervals (%v), got %v", iv, p.Warmup)
	if err := p.Segment.Validate(); err != nil {
		errs = append(errs, err)
	}
	names := map[string]bool{}
	for i, s := range p.Scenarios {
		where := fmt.Sprintf("scenario %q", s.Name)
		if s.Name == "" {
			where = fmt.Sprintf("scenario %d", i)
		}
		add(s.Name != "", "Plan.Scenarios[%d].Name must be non-empty", i)
		add(s.Name == "" || !names[s.Name], "%s: Name must be unique, %q is used twice", where, s.Name)
		names[s.Name] = true
		add(s.StartAfter >= 0 && s.StartAfter <= DurationLimit, "%s: StartAfter must be between 0 and %v, got %v", where, DurationLimit, s.StartAfter)
		add(s.GracefulStop >= 0 && s.GracefulStop <= DurationLimit, "%s: GracefulStop must be between 0 (30s) and %v, got %v", where, DurationLimit, s.GracefulStop)
		add((s.Iteration == nil) != (s.Setup == nil), "%s: exactly one of Iteration and Setup must be set", where)
		ex := s.Executor
		if isNil(ex) {
			add(false, "%s: Executor must be set, got %s", where, nilName(s.Executor))
			continue
		}
		if err := ex.Validate(); err != nil {
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("loadgen: %s: %s", where, trimPrefix(e.Error())))
			}
			continue
		}
		lp := &problems{}
		l, err := loadOf(ex)
		if err != nil {
			lp.errs = append(lp.errs, err)
		} else {
			l.validate(lp)
		}
		if err := lp.err(); err != nil {
			for _, e := range unjoin(err) {
				errs = append(errs, fmt.Errorf("loadgen: %s: executor %s: %s", where, ex.Kind(), trimPrefix(e.Error())))
			}
			continue
		}
		end := s.StartAfter + l.Duration // no overflow: each is within DurationLimit
		add(end <= DurationLimit, "%s: StartAfter + the executor's duration must be <= %v (DurationLimit), got %v", where, DurationLimit, end)
		add(p.Warmup == 0 || p.Warmup < end, "Plan.Warmup (%v) must end before %s does (%v)", p.Warmup, where, end)
		if n := (end + s.gracefulStop()) / iv; end <= DurationLimit && n >= metrics.MaxIntervals {
			add(false, "Plan.Interval (%v) gives %s %d intervals with its graceful stop; at most %d are kept: choose a longer Interval", iv, where, n, metrics.MaxIntervals)
		}
	}
	gauges := map[string]bool{}
	for i, g := range p.Gauges {
		add(g.Name != "", "Plan.Gauges[%d].Name must be non-empty", i)
		add(!gauges[g.Name], "Plan.Gauges[%d].Name must be unique, %q is used twice", i, g.Name)
		add(!metrics.IsGeneratorGauge(g.Name), "Plan.Gauges[%d].Name must not start with %q (the generator's own gauges), got %q", i, metrics.GeneratorGaugePrefix, g.Name)
		gauges[g.Name] = true
		add(g.Sample != nil, "Plan.Gauges[%d] (%q): Sample must be set", i, g.Name)
	}
	if len(p.Events) > 0 {
		planned := p.Duration()
		for i, e := range p.Events {
			add(e.Name != "", "Plan.Events[%d].Name must be non-empty", i)
			add(e.At >= 0 && e.At < planned, "Plan.Events[%d] (%q): At must be >= 0 and before the plan ends (%v), got %v", i, e.Name, planned, e.At)
		}
	}
	return errors.Join(errs...)
}

// nilName describes a missing executor: "nil", or "a nil *ConstantVUs".
func nilName(x Executor) string {
	if x == nil {
		return "nil"
	}
	return fmt.Sprintf("a nil %T", x)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func trimPrefix(s string) string {
	const p = "loadgen: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// Duration returns how long the plan runs when nothing stops it early: the
// latest scenario end (its StartAfter and its executor's [Load.Duration]),
// not counting graceful stops. A scenario whose executor is missing or
// whose Load panics counts for nothing (Validate says why).
func (p *Plan) Duration() time.Duration {
	var d time.Duration
	for _, s := range p.Scenarios {
		if ex := s.Executor; !isNil(ex) {
			if l, err := loadOf(ex); err == nil {
				d = max(d, min(s.StartAfter, DurationLimit)+min(l.Duration, DurationLimit))
			}
		}
	}
	return d
}

// Progress is what the engine reports after each interval.
type Progress struct {
	// Elapsed is the time since the run started; Planned is [Plan.Duration].
	Elapsed, Planned time.Duration
	// Interval is the index of the interval that just closed, from 0;
	// IntervalStart its wall-clock start.
	Interval      int
	IntervalStart time.Time
	// Warmup is true while the interval that just closed was in warm-up.
	Warmup bool
	// Measured is the window that the running totals (SeriesProgress.Total)
	// cover: the closed intervals after the warm-up (the whole run after
	// the warm-up in the final report). A late interval boundary does not
	// stretch it, so rates computed from it stay true.
	Measured time.Duration
	// Final is true for the last report, after the run has ended and its
	// last, possibly partial, interval has closed.
	Final bool
	// Scenarios has one entry per scenario, in plan order.
	Scenarios []ScenarioProgress
	// Series has, for every metric key in the order keys were registered,
	// the interval that just closed and the running totals.
	Series []SeriesProgress
	// Gauges has every gauge's samples of the interval that just closed.
	Gauges []GaugeProgress
}

// GaugeProgress is one gauge's samples in the latest interval.
type GaugeProgress struct {
	Name string
	Last metrics.GaugePoint
}

// ScenarioProgress is one scenario's state at the end of an interval.
type ScenarioProgress struct {
	Name string
	// VUs is the number of live virtual users.
	VUs int
	// Iterations holds the scenario's iteration metric: the latest interval
	// and the totals so far.
	Iterations SeriesProgress
}

// SeriesProgress is one metric's latest interval and running totals (see
// [metrics.KeyProgress]: Last, Total without warm-up, All with it).
type SeriesProgress struct {
	Key metrics.Key
	metrics.KeyProgress
}
