package loadgen

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"time"
)

// Executor is a load model: how many virtual users run, or how often
// iterations start, over time. This package has the usual ones: the closed
// models [ConstantVUs], [RampingVUs], [PerVUIterations] and
// [SharedIterations], and the open models [ConstantRate] and
// [RampingRate]; they are plain data, so a Result records them and reports
// print them. Any type with these methods is an executor too, such as a
// load shape of your own.
//
// An executor says whether its configuration is valid, how to name and
// describe it, and, in its [Load], what to run. The engine derives the
// rest from the Load: how long the scenario starts iterations
// ([Load.Duration], from which [Plan.Duration] and the plan's limits are
// worked out), how many VUs it may need ([MaxVUs]), whether it is an open
// model, and each segment's share; it counts drops and keeps the
// accounting for any executor as for this package's.
type Executor interface {
	// Validate reports every problem with the configuration at once.
	Validate() error
	// String describes the executor in one line.
	String() string
	// Kind names the kind of executor in results ("constant-vus").
	Kind() string
	// Load returns the load to run, for the whole plan (the engine takes
	// a segment's share). It may be called more than once (to validate
	// the load, to work out the plan's duration, to describe the run, to
	// run it), each call returning a fresh schedule. A panic in it, or in
	// its VUs or Arrivals functions, is recovered: Validate reports it,
	// and during a run it is kept with the run's panics and the scenario
	// stops.
	Load() Load
}

// Load is what an [Executor] asks the engine to run: a closed model (VUs
// set) or an open one (Arrivals set), for the whole plan. The engine takes
// a segment's share of it: [Segment.Share] of every VU count and iteration
// budget, and every Count-th arrival.
type Load struct {
	// Duration is how long iterations may start, from the scenario's
	// start; an open model's scenario lasts all of it. > 0.
	Duration time.Duration
	// MaxVUs is the most VUs the load runs at once (VUs never returns
	// more; an open model starts no more). It sizes connection pools. > 0.
	MaxVUs int

	// VUs, for a closed model, returns how many VUs run at t from the
	// scenario's start, and when that may next change (< 0: never).
	VUs func(t time.Duration) (n int, next time.Duration)
	// GracefulRampDown is how long a VU that leaves (VUs went below it)
	// may finish its iteration before it is interrupted; 0 means 30s.
	GracefulRampDown time.Duration
	// Stagger is the span over which the VUs present at the start begin
	// their first iteration, evenly (VU k of n at k/n of it); 0 starts
	// them together. It must be shorter than Duration.
	Stagger time.Duration
	// IterationsPerVU ends each VU after that many iterations, and
	// Iterations ends the scenario after that many in all (0: no limit);
	// with either, VUs is read once, at the start, and the scenario ends
	// when every VU is done.
	IterationsPerVU, Iterations int64

	// Arrivals, for an open model, returns the offset from the scenario's
	// start at which the next iteration is due, in order; ok is false when
	// there are no more.
	Arrivals func() (at time.Duration, ok bool)
	// PreAllocatedVUs are started before the first arrival.
	PreAllocatedVUs int
}

// validate checks what the engine needs of a load.
func (l Load) validate(p *problems) {
	p.add("Load", (l.VUs == nil) != (l.Arrivals == nil), "either a closed model (VUs) or an open one (Arrivals), got %s", map[bool]string{true: "both", false: "neither"}[l.VUs != nil])
	p.duration("Load.Duration", l.Duration)
	p.add("Load.MaxVUs", l.MaxVUs > 0 && l.MaxVUs <= VULimit, "between 1 and %d (VULimit), got %d", VULimit, l.MaxVUs)
	p.add("Load.PreAllocatedVUs", l.PreAllocatedVUs >= 0 && l.PreAllocatedVUs <= l.MaxVUs, "between 0 and MaxVUs (%d), got %d", l.MaxVUs, l.PreAllocatedVUs)
	p.add("Load.GracefulRampDown", l.GracefulRampDown >= 0 && l.GracefulRampDown <= DurationLimit, "between 0 (30s) and %v, got %v", DurationLimit, l.GracefulRampDown)
	p.add("Load iterations", l.IterationsPerVU >= 0 && l.Iterations >= 0, ">= 0, got %d per VU and %d in all", l.IterationsPerVU, l.Iterations)
	p.add("Load.Stagger", l.Stagger >= 0 && (l.Stagger < l.Duration || l.Stagger == 0), "between 0 (together) and less than Duration (%v), got %v", l.Duration, l.Stagger)
}

// Stage is one stage of a ramp: over Duration, the VU count or rate moves
// linearly from where the previous stage ended to Target.
type Stage struct {
	Duration time.Duration `json:"duration_ns"` // must be > 0
	Target   int           `json:"target"`      // VUs or arrivals per Per at the end; must be >= 0
}

// Arrivals says how an open model spaces its arrivals.
type Arrivals int

const (
	// Even spaces arrivals evenly: the i-th is due at start + i/rate.
	Even Arrivals = iota
	// Poisson draws exponential gaps with the same mean rate, from a fixed
	// seed, so every run and every segment sees the same sequence.
	Poisson
)

// String returns "even" or "poisson".
func (a Arrivals) String() string {
	switch a {
	case Even:
		return "even"
	case Poisson:
		return "poisson"
	}
	return fmt.Sprintf("arrivals(%d)", int(a))
}

// ConstantVUs is a closed model: VUs virtual users loop over the iteration,
// each starting its next iteration when the last one ends, for Duration.
type ConstantVUs struct {
	VUs      int           `json:"vus"`         // must be > 0 and <= VULimit
	Duration time.Duration `json:"duration_ns"` // must be > 0 and <= DurationLimit
	// Stagger is the span over which the VUs begin, evenly (VU k of n
	// at k/n of it), so that journeys with a constant think time do not
	// march in lockstep, every VU sending at the same instant. 0 means
	// the smaller of 1 s and a tenth of Duration; < 0 starts every VU at
	// once. It must be shorter than Duration.
	Stagger time.Duration `json:"stagger_ns,omitempty"`
}

// RampingVUs is a closed model whose VU count follows Stages, starting from
// StartVUs. When the count falls, the VUs that leave finish their iteration
// within GracefulRampDown and are then interrupted.
type RampingVUs struct {
	StartVUs         int           `json:"start_vus"`             // must be >= 0 and <= VULimit
	Stages           []Stage       `json:"stages"`                // at least one; targets <= VULimit
	GracefulRampDown time.Duration `json:"graceful_ramp_down_ns"` // 0 means 30s; must be >= 0
}

// PerVUIterations is a closed model: each of VUs virtual users runs
// Iterations iterations, or stops when MaxDuration has passed.
type PerVUIterations struct {
	VUs         int           `json:"vus"`             // must be > 0 and <= VULimit
	Iterations  int           `json:"iterations"`      // per VU; must be > 0
	MaxDuration time.Duration `json:"max_duration_ns"` // 0 means 10 minutes; must be >= 0
}

// SharedIterations is a closed model: VUs virtual users share Iterations
// iterations, each taking the next until none is left or MaxDuration passed.
type SharedIterations struct {
	VUs         int           `json:"vus"`             // must be > 0 and <= VULimit
	Iterations  int           `json:"iterations"`      // in all; must be >= VUs
	MaxDuration time.Duration `json:"max_duration_ns"` // 0 means 10 minutes; must be >= 0
}

// ConstantRate is an open model: Rate iterations start every Per for
// Duration, whatever the response times. Each arrival takes a free VU; if
// none is free a new one is started, up to MaxVUs; past that the arrival is
// counted as dropped.
type ConstantRate struct {
	Rate            int           `json:"rate"`              // arrivals per Per; must be > 0 and at most RateLimit per second
	Per             time.Duration `json:"per_ns"`            // 0 means one second; else must be >= 1ms
	Duration        time.Duration `json:"duration_ns"`       // must be > 0 and <= DurationLimit
	PreAllocatedVUs int           `json:"pre_allocated_vus"` // VUs started up front; must be >= 0 and <= VULimit
	MaxVUs          int           `json:"max_vus"`           // 0 means PreAllocatedVUs; else must be >= PreAllocatedVUs and <= VULimit; and > 0 overall
	Arrivals        Arrivals      `json:"arrivals"`          // Even (default) or Poisson
}

// RampingRate is an open model whose arrival rate moves linearly through
// Stages (Target arrivals per Per), starting from StartRate.
type RampingRate struct {
	StartRate       int           `json:"start_rate"` // arrivals per Per; must be >= 0 and at most RateLimit per second
	Per             time.Duration `json:"per_ns"`     // 0 means one second; else must be >= 1ms
	Stages          []Stage       `json:"stages"`     // at least one; targets as StartRate
	PreAllocatedVUs int           `json:"pre_allocated_vus"`
	MaxVUs          int           `json:"max_vus"`
	Arrivals        Arrivals      `json:"arrivals"`
}

const (
	defaultGraceful    = 30 * time.Second
	defaultMaxDuration = 10 * time.Minute
)

// Limits beyond which a configuration is a mistake rather than a test: each
// is far past what one generator process can do, and a value past it is
// refused by Validate instead of exhausting the machine.
const (
	// VULimit is the most VUs one scenario may have (VUs, StartVUs, stage
	// targets of VU ramps, PreAllocatedVUs, MaxVUs).
	VULimit = 100_000
	// RateLimit is the highest arrival rate of an open model, per second
	// (Rate, StartRate and stage targets, each per Per).
	RateLimit = 1_000_000
	// SegmentLimit is the most segments a plan may be split into
	// ([Segment].Count).
	SegmentLimit = 100_000
	// DurationLimit is the longest a scenario may run, from the plan's
	// start to its end (StartAfter, stages and durations together).
	DurationLimit = 30 * 24 * time.Hour
)

// Kind returns "constant-vus".
func (ConstantVUs) Kind() string { return "constant-vus" }

// Kind returns "ramping-vus".
func (RampingVUs) Kind() string { return "ramping-vus" }

// Kind returns "per-vu-iterations".
func (PerVUIterations) Kind() string { return "per-vu-iterations" }

// Kind returns "shared-iterations".
func (SharedIterations) Kind() string { return "shared-iterations" }

// Kind returns "constant-rate".
func (ConstantRate) Kind() string { return "constant-rate" }

// Kind returns "ramping-rate".
func (RampingRate) Kind() string { return "ramping-rate" }

// constantVUs is a VU count that never changes.
func constantVUs(n int) func(time.Duration) (int, time.Duration) {
	return func(time.Duration) (int, time.Duration) { return n, -1 }
}

// Load returns VUs VUs for Duration.
func (c ConstantVUs) Load() Load {
	return Load{Duration: c.Duration, MaxVUs: c.VUs, VUs: constantVUs(c.VUs), Stagger: c.stagger()}
}

// stagger returns the span the VUs start over.
func (c ConstantVUs) stagger() time.Duration {
	switch {
	case c.Stagger < 0:
		return 0
	case c.Stagger == 0:
		return min(time.Second, c.Duration/10)
	}
	return c.Stagger
}

// Load returns the ramp of VUs, lasting the sum of the stages' durations.
func (c RampingVUs) Load() Load {
	peak := c.StartVUs
	for _, s := range c.Stages {
		peak = max(peak, s.Target)
	}
	return Load{Duration: stagesDuration(c.Stages), MaxVUs: max(peak, 1), GracefulRampDown: c.GracefulRampDown,
		VUs: func(t time.Duration) (int, time.Duration) { return rampAt(c.StartVUs, c.Stages, t) }}
}

// Load returns VUs VUs of Iterations iterations each, for at most
// MaxDuration (10 minutes when 0).
func (c PerVUIterations) Load() Load {
	return Load{Duration: c.maxDuration(), MaxVUs: c.VUs, VUs: constantVUs(c.VUs), IterationsPerVU: int64(c.Iterations)}
}

// Load returns VUs VUs sharing Iterations iterations, for at most
// MaxDuration (10 minutes when 0).
func (c SharedIterations) Load() Load {
	return Load{Duration: c.maxDuration(), MaxVUs: c.VUs, VUs: constantVUs(c.VUs), Iterations: int64(c.Iterations)}
}

// Load returns Rate arrivals per Per for Duration.
func (c ConstantRate) Load() Load {
	per := orDefault(c.Per, time.Second)
	ramp := rateRamp{start: float64(c.Rate) / float64(per), per: per, stages: []Stage{{Duration: c.Duration, Target: c.Rate}}}
	return Load{Duration: c.Duration, MaxVUs: max(c.MaxVUs, c.PreAllocatedVUs), PreAllocatedVUs: c.PreAllocatedVUs,
		Arrivals: wholeArrivals(ramp, c.Arrivals).next}
}

// Load returns the ramp of arrivals, lasting the sum of the stages'
// durations.
func (c RampingRate) Load() Load {
	per := orDefault(c.Per, time.Second)
	ramp := rateRamp{start: float64(c.StartRate) / float64(per), per: per, stages: c.Stages}
	return Load{Duration: stagesDuration(c.Stages), MaxVUs: max(c.MaxVUs, c.PreAllocatedVUs), PreAllocatedVUs: c.PreAllocatedVUs,
		Arrivals: wholeArrivals(ramp, c.Arrivals).next}
}

// problems collects validation errors with a common prefix.
type problems struct {
	prefix string
	errs   []error
}

func (p *problems) add(field string, cond bool, format string, args ...any) {
	if !cond {
		p.errs = append(p.errs, fmt.Errorf("loadgen: %s%s must be %s", p.prefix, field, fmt.Sprintf(format, args...)))
	}
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// validateStages checks a ramp's stages; target checks each stage's target.
func validateStages(p *problems, typ string, stages []Stage, target func(field string, v int)) {
	p.add(typ+".Stages", len(stages) > 0, "non-empty, got none")
	for i, s := range stages {
		p.add(fmt.Sprintf("%s.Stages[%d].Duration", typ, i), s.Duration > 0 && s.Duration <= DurationLimit, "> 0 and <= %v, got %v", DurationLimit, s.Duration)
		target(fmt.Sprintf("%s.Stages[%d].Target", typ, i), s.Target)
	}
	p.add(typ+" stages", stagesDuration(stages) <= DurationLimit, "%v at most in all, got %v", DurationLimit, stagesDuration(stages))
}

// vus checks a VU count that may be 0.
func (p *problems) vus(field string, n int) {
	p.add(field, n >= 0 && n <= VULimit, "between 0 and %d (VULimit), got %d", VULimit, n)
}

// rate checks an arrival rate, per Per, of at least least.
func (p *problems) rate(field string, n, least int, per time.Duration) {
	if per < 0 {
		return // Per's own check says so
	}
	per = orDefault(per, time.Second)
	perSec := float64(n) * float64(time.Second) / float64(max(per, 1))
	p.add(field, n >= least && perSec <= RateLimit, "between %d and %d per second (RateLimit), got %d per %v", least, RateLimit, n, per)
}

// per checks the time unit of a rate.
func (p *problems) per(field string, per time.Duration) {
	p.add(field, per == 0 || per >= time.Millisecond && per <= DurationLimit, "0 (one second) or between 1ms and %v, got %v", DurationLimit, per)
}

// duration checks a duration that must be > 0.
func (p *problems) duration(field string, d time.Duration) {
	p.add(field, d > 0 && d <= DurationLimit, "> 0 and <= %v (DurationLimit), got %v", DurationLimit, d)
}

func validateVUs(p *problems, typ string, pre, maxVUs int) {
	p.vus(typ+".PreAllocatedVUs", pre)
	if maxVUs < 0 || maxVUs > VULimit {
		p.vus(typ+".MaxVUs", maxVUs)
		return
	}
	p.add(typ+".MaxVUs", maxVUs == 0 || maxVUs >= pre, "0 (same as PreAllocatedVUs) or >= PreAllocatedVUs (%d), got %d", pre, maxVUs)
	p.add(typ+".MaxVUs", max(pre, maxVUs) > 0, "> 0 (or PreAllocatedVUs > 0), got %d", maxVUs)
}

// Validate reports every problem at once.
func (c ConstantVUs) Validate() error {
	p := &problems{}
	p.add("ConstantVUs.VUs", c.VUs > 0 && c.VUs <= VULimit, "between 1 and %d (VULimit), got %d", VULimit, c.VUs)
	p.duration("ConstantVUs.Duration", c.Duration)
	p.add("ConstantVUs.Stagger", c.Stagger < c.Duration || c.Duration <= 0, "shorter than Duration (%v), got %v", c.Duration, c.Stagger)
	return p.err()
}

// Validate reports every problem at once.
func (c RampingVUs) Validate() error {
	p := &problems{}
	p.vus("RampingVUs.StartVUs", c.StartVUs)
	validateStages(p, "RampingVUs", c.Stages, p.vus)
	p.add("RampingVUs.GracefulRampDown", c.GracefulRampDown >= 0, ">= 0, got %v", c.GracefulRampDown)
	return p.err()
}

// Validate reports every problem at once.
func (c PerVUIterations) Validate() error {
	p := &problems{}
	p.add("PerVUIterations.VUs", c.VUs > 0 && c.VUs <= VULimit, "between 1 and %d (VULimit), got %d", VULimit, c.VUs)
	p.add("PerVUIterations.Iterations", c.Iterations > 0, "> 0, got %d", c.Iterations)
	p.add("PerVUIterations.MaxDuration", c.MaxDuration >= 0 && c.MaxDuration <= DurationLimit, "between 0 (10m) and %v, got %v", DurationLimit, c.MaxDuration)
	return p.err()
}

// Validate reports every problem at once.
func (c SharedIterations) Validate() error {
	p := &problems{}
	p.add("SharedIterations.VUs", c.VUs > 0 && c.VUs <= VULimit, "between 1 and %d (VULimit), got %d", VULimit, c.VUs)
	p.add("SharedIterations.Iterations", c.Iterations >= max(c.VUs, 1), ">= VUs (%d), got %d", max(c.VUs, 1), c.Iterations)
	p.add("SharedIterations.MaxDuration", c.MaxDuration >= 0 && c.MaxDuration <= DurationLimit, "between 0 (10m) and %v, got %v", DurationLimit, c.MaxDuration)
	return p.err()
}

// Validate reports every problem at once.
func (c ConstantRate) Validate() error {
	p := &problems{}
	p.rate("ConstantRate.Rate", c.Rate, 1, c.Per)
	p.per("ConstantRate.Per", c.Per)
	p.duration("ConstantRate.Duration", c.Duration)
	validateVUs(p, "ConstantRate", c.PreAllocatedVUs, c.MaxVUs)
	p.add("ConstantRate.Arrivals", c.Arrivals == Even || c.Arrivals == Poisson, "Even or Poisson, got %v", c.Arrivals)
	return p.err()
}

// Validate reports every problem at once.
func (c RampingRate) Validate() error {
	p := &problems{}
	p.rate("RampingRate.StartRate", c.StartRate, 0, c.Per)
	p.per("RampingRate.Per", c.Per)
	validateStages(p, "RampingRate", c.Stages, func(f string, v int) { p.rate(f, v, 0, c.Per) })
	validateVUs(p, "RampingRate", c.PreAllocatedVUs, c.MaxVUs)
	p.add("RampingRate.Arrivals", c.Arrivals == Even || c.Arrivals == Poisson, "Even or Poisson, got %v", c.Arrivals)
	return p.err()
}

// stagesDuration sums the stages' durations, saturating rather than
// wrapping round to a negative duration.
func stagesDuration(s []Stage) time.Duration {
	var d time.Duration
	for _, st := range s {
		if st.Duration > math.MaxInt64-d {
			return math.MaxInt64
		}
		d += max(st.Duration, 0)
	}
	return d
}

// maxDuration is MaxDuration, 10 minutes when 0.
func (c PerVUIterations) maxDuration() time.Duration {
	return orDefault(c.MaxDuration, defaultMaxDuration)
}

// maxDuration is MaxDuration, 10 minutes when 0.
func (c SharedIterations) maxDuration() time.Duration {
	return orDefault(c.MaxDuration, defaultMaxDuration)
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func stagesString(s []Stage) string {
	out := ""
	for i, st := range s {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%d over %v", st.Target, st.Duration)
	}
	return out
}

// String describes the executor.
func (c ConstantVUs) String() string {
	return fmt.Sprintf("constant-vus: %d VUs for %v", c.VUs, c.Duration)
}

// String describes the executor.
func (c RampingVUs) String() string {
	return fmt.Sprintf("ramping-vus: from %d VUs: %s", c.StartVUs, stagesString(c.Stages))
}

// String describes the executor.
func (c PerVUIterations) String() string {
	return fmt.Sprintf("per-vu-iterations: %d VUs × %d iterations (max %v)", c.VUs, c.Iterations, c.maxDuration())
}

// String describes the executor.
func (c SharedIterations) String() string {
	return fmt.Sprintf("shared-iterations: %d iterations over %d VUs (max %v)", c.Iterations, c.VUs, c.maxDuration())
}

// String describes the executor.
func (c ConstantRate) String() string {
	return fmt.Sprintf("constant-rate: %d per %v for %v (%s, VUs %d..%d)", c.Rate, orDefault(c.Per, time.Second),
		c.Duration, c.Arrivals, c.PreAllocatedVUs, max(c.MaxVUs, c.PreAllocatedVUs))
}

// String describes the executor.
func (c RampingRate) String() string {
	return fmt.Sprintf("ramping-rate: from %d per %v: %s (%s, VUs %d..%d)", c.StartRate, orDefault(c.Per, time.Second),
		stagesString(c.Stages), c.Arrivals, c.PreAllocatedVUs, max(c.MaxVUs, c.PreAllocatedVUs))
}

// ---- schedules: pure functions of elapsed time, table-tested without a clock ----

// rampAt returns the value of a ramp at elapsed time t, and the next elapsed
// time at which it may change (-1 past the ramp's end). The value moves linearly
// from start through the stages, truncated toward the previous stage's value,
// so it reaches each stage's Target exactly at the stage's end.
func rampAt(start int, stages []Stage, t time.Duration) (v int, next time.Duration) {
	from := start
	var at time.Duration
	for _, s := range stages {
		if t < at+s.Duration {
			e := t - at
			diff := s.Target - from
			if diff == 0 {
				return from, at + s.Duration
			}
			// v = from + diff*e/D, truncated toward from.
			step := mulDiv(int64(abs(diff)), int64(e), int64(s.Duration))
			v = from + sign(diff)*int(step)
			// the next value is reached when |diff|*e/D >= step+1.
			n := ceilDiv(int64(step+1)*int64(s.Duration), int64(abs(diff)))
			if n >= int64(s.Duration) {
				return v, at + s.Duration
			}
			return v, at + time.Duration(n)
		}
		at += s.Duration
		from = s.Target
	}
	return from, -1
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func sign(x int) int {
	if x < 0 {
		return -1
	}
	return 1
}

// mulDiv returns a*b/c without overflow for non-negative a, b and positive c.
func mulDiv(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, _ := bits.Div64(hi%uint64(c), lo, uint64(c))
	return int64(q) + int64(hi/uint64(c))<<32<<32
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// Segment is this process's share of a plan run on several machines: of
// Count segments, this is number Index (0-based). Every executor runs the
// exact share of its load that belongs to the segment, so that Count
// processes together run exactly the plan's load: VU counts and iteration
// budgets are split so that the shares sum to the whole at every instant,
// and open-model arrivals are dealt out in turn (arrival i goes to segment
// i mod Count). The zero value is the whole plan.
type Segment struct {
	Index int `json:"index"` // must be in [0, Count)
	Count int `json:"count"` // 0 or 1 means the whole plan
}

func (s Segment) count() int { return max(s.Count, 1) }

// Share returns this segment's part of n: floor(n(i+1)/c) - floor(n·i/c).
// The shares of all segments sum to n.
func (s Segment) Share(n int) int {
	c := s.count()
	return int(mulDiv(int64(n), int64(s.Index+1), int64(c)) - mulDiv(int64(n), int64(s.Index), int64(c)))
}

// IsWhole reports whether s is the whole plan.
func (s Segment) IsWhole() bool { return s.count() == 1 }

// String returns "i/n" (1-based, "2/4" for Index 1 of 4).
func (s Segment) String() string { return fmt.Sprintf("%d/%d", s.Index+1, s.count()) }

// Validate checks the segment.
func (s Segment) Validate() error {
	p := &problems{}
	p.add("Segment.Count", s.Count >= 0 && s.Count <= SegmentLimit, "between 0 and %d (SegmentLimit), got %d", SegmentLimit, s.Count)
	p.add("Segment.Index", s.Index >= 0 && s.Index < s.count(), "in [0, %d), got %d", s.count(), s.Index)
	return p.err()
}

// arrivals yields the offsets (from the scenario's start) at which an open
// model's iterations are due, in order, for the whole plan.
type arrivals struct {
	ramp rateRamp
	rng  *rand.Rand // Poisson gaps; nil for even spacing
	i    int64      // next arrival number
	x    float64    // Poisson: cumulative expected arrivals at arrival i
}

// rateRamp is a rate (per ns) moving linearly through stages.
type rateRamp struct {
	start  float64 // arrivals per ns
	stages []Stage
	per    time.Duration
}

// offsetOf returns when the x-th arrival (x may be fractional) is due, i.e.
// the t at which the cumulative arrivals ∫rate reach x; ok is false past the
// end of the ramp. In a stage of constant rate, a whole x is placed with
// integer arithmetic (arrival i at i·Per/Rate, and only while that is
// before the stage's end), so that Rate × Duration arrivals start, never
// one more from rounding.
func (r rateRamp) offsetOf(x float64) (time.Duration, bool) {
	from := r.start
	var at time.Duration
	for _, s := range r.stages {
		to := float64(s.Target) / float64(r.per)
		d := float64(s.Duration)
		if from == to && s.Target > 0 && x == math.Trunc(x) && x < 1<<53 {
			// rate·d/per arrivals: i is in the stage while i·per < rate·d.
			i, rate := uint64(x), uint64(s.Target)
			ih, il := bits.Mul64(i, uint64(r.per))
			nh, nl := bits.Mul64(rate, uint64(s.Duration))
			if ih < nh || ih == nh && il < nl {
				return at + time.Duration(mulDiv(int64(i), int64(r.per), int64(rate))), true
			}
			// Past this stage: subtract its arrivals, exactly when whole.
			q, rem := bits.Div64(nh%uint64(r.per), nl, uint64(r.per))
			if rem == 0 && nh/uint64(r.per) == 0 {
				x -= float64(q)
			} else {
				x -= float64(s.Target) * d / float64(r.per)
			}
			at += s.Duration
			from = to
			continue
		}
		n := (from + to) / 2 * d // arrivals in this stage
		if x < n {
			var t float64
			if a := (to - from) / d; a == 0 {
				t = x / from
			} else {
				// from*t + a*t²/2 = x
				t = (-from + math.Sqrt(from*from+2*a*x)) / a
			}
			if t < d { // rounding can put the last one at the very end
				return at + time.Duration(t), true
			}
		}
		x -= n
		at += s.Duration
		from = to
	}
	return 0, false
}

// wholeArrivals returns the arrivals of a ramp, for the whole plan.
func wholeArrivals(ramp rateRamp, kind Arrivals) *arrivals {
	a := &arrivals{ramp: ramp}
	if kind == Poisson {
		a.rng = rand.New(rand.NewPCG(0x5eed, 0x57a3bede))
	}
	return a
}

// next returns when the next arrival is due; ok is false when the schedule
// is over.
func (a *arrivals) next() (at time.Duration, ok bool) {
	// Arrival i is due when the expected number of arrivals reaches x: i
	// for even spacing, a sum of i unit exponential gaps for Poisson.
	x := float64(a.i)
	a.i++
	if a.rng != nil {
		x = a.x
		a.x += a.rng.ExpFloat64()
	}
	return a.ramp.offsetOf(x)
}

// dealer deals a load's arrivals out to the segments in turn: arrival i
// of the whole plan goes to segment i mod Count.
type dealer struct {
	src        func() (time.Duration, bool)
	i          int64 // next arrival number of the whole plan
	idx, count int64
}

func deal(src func() (time.Duration, bool), seg Segment) *dealer {
	return &dealer{src: src, idx: int64(seg.Index), count: int64(seg.count())}
}

// next returns the next arrival of this segment: its number in the whole
// plan and its due offset; ok is false when the schedule is over.
func (d *dealer) next() (n int64, at time.Duration, ok bool) {
	for {
		at, ok := d.src()
		if !ok {
			return 0, 0, false
		}
		n := d.i
		d.i++
		if n%d.count == d.idx {
			return n, at, true
		}
	}
}

// newArrivals returns segment seg's arrivals of a ramp.
func newArrivals(ramp rateRamp, kind Arrivals, seg Segment) *dealer {
	return deal(wholeArrivals(ramp, kind).next, seg)
}

// loadOf calls x.Load, turning a panic into an error.
func loadOf(x Executor) (l Load, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Load panicked: %v", p)
		}
	}()
	return x.Load(), nil
}

// isOpen reports whether x is an open model: its Load has Arrivals.
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
