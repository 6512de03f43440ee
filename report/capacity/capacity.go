package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
)

// Options configure a [Search] or [Steps].
type Options struct {
	// Plan returns the plan to run at one load level: an arrival rate per
	// second, or a number of VUs. [OpenLoad] and [ClosedLoad] make one
	// from a scenario.
	Plan func(level int) (*loadgen.Plan, error)
	// SLO are the thresholds every level must pass. One that cannot be
	// checked on a level's run (its selector names no step or scenario
	// of the plan) makes the search an error, naming what there is.
	SLO []report.Threshold
	// MaxDropped is the share of arrivals a level of an open model may
	// drop and still count as run at its rate; 0 means 1 %.
	MaxDropped float64
	// MaxErrorRate is the share of iterations a level may fail and still
	// hold, whatever the SLO says (an SLO of latencies alone would
	// otherwise pass a level where half the requests fail fast); 0 means
	// 1 %, 1 means no limit.
	MaxErrorRate float64
	// Budget bounds the whole search; 0 means none. A level that would not
	// fit in what is left is not started.
	Budget time.Duration
	// OnLevel, if set, is called after each level (for a progress line).
	OnLevel func(Level)
	// Rows are the rows a level's figures are of, as a report.Selector
	// names them: a step ("apply" or "signup/apply"), every scenario's
	// iterations ("[iteration]"), every step merged ("[step]"). "" means
	// every step merged, or the iterations when a run records no step: a
	// step's time is the service's answer, while an iteration's holds the
	// think times and pacing the VUs wait, which no change to the service
	// shortens (a step's p95 down by 70 % can read as 2 % on iterations
	// that think for half a second). The SLO's thresholds name their own
	// rows.
	Rows report.Selector
	// Runs is how many times each level runs, one run after another; 0
	// means 1. A level holds only when every one of its runs holds; its
	// figures merge the runs, and with 5 or more a side [CompareSteps]
	// tests each level's change for significance (4 are too few for a
	// family of five metrics; see compare.Correction.RunsFor).
	Runs int

	// Search only: levels run from Start, adding Step (or multiplying by
	// Factor, a finite number > 1, and rounding up), until a level breaks
	// the SLO or passes Max (0: no limit but the budget and the largest
	// int: a next level beyond it is an error). Then, when Resolution > 0,
	// the levels between the last good and the first bad one are bisected
	// until they are at most Resolution apart.
	Start, Step int
	Factor      float64
	Max         int
	Resolution  int
}

// Limit is what stopped a level from passing.
type Limit int

// The limits.
const (
	// LimitNone: the level passed.
	LimitNone Limit = iota
	// LimitLatency: a latency threshold of the SLO failed.
	LimitLatency
	// LimitErrors: an error threshold of the SLO failed (error_rate, errors,
	// status).
	LimitErrors
	// LimitDrops: arrivals were dropped, or a throughput threshold failed,
	// while the target slowed down: it held the VUs.
	LimitDrops
	// LimitGenerator: arrivals were dropped (or throughput fell short) while
	// the target stayed fast, or a latency threshold failed while the
	// report warned that the generator may have made the numbers and
	// would have held without the delay the generator may have added (see
	// report.GeneratorSummary): the generator's VUs or CPU were the limit,
	// not the service (raise MaxVUs, or use more generators).
	LimitGenerator
)

// String returns "none", "latency", "errors", "drops" or "generator".
func (l Limit) String() string {
	switch l {
	case LimitNone:
		return "none"
	case LimitLatency:
		return "latency"
	case LimitErrors:
		return "errors"
	case LimitDrops:
		return "drops"
	case LimitGenerator:
		return "generator"
	}
	return fmt.Sprintf("limit(%d)", int(l))
}

// Level is one load level that ran.
type Level struct {
	// Load is the level: arrivals per second (Open) or VUs.
	Load int
	Open bool
	// Result is the level's first run; Runs holds every run, in order
	// ([Options.Runs] of them).
	Result *loadgen.Result
	Runs   []*loadgen.Result
	// Rate is the iterations (of every scenario) per second of the runs'
	// load windows, the achieved rate (see report.LoadWindow); Dropped
	// counts the arrivals that found no VU, and DroppedShare is their
	// share of all arrivals, over every run.
	Rate         float64
	Dropped      int64
	DroppedShare float64
	// Rows are what Figures are of: [Options.Rows], or what it defaulted
	// to ("[step]" or "[iteration]").
	Rows report.Selector
	// Figures are the rows' figures over every run merged: latencies from
	// the merged histograms, counts summed, rates over the summed load
	// windows. RunFigures are each run's own, in order: the samples a
	// comparison tests.
	Figures    report.Figures
	RunFigures []report.Figures
	// Verdicts are the SLO's thresholds checked on the run that decided
	// the level: the first that failed, or else the last.
	Verdicts report.Verdicts
	// Pass is set when every run passed every threshold and stayed
	// within MaxErrorRate and MaxDropped; otherwise Limit says what broke
	// and Why how (naming the run when there are several).
	Pass  bool
	Limit Limit
	Why   string
}

// Report is the outcome of a [Search] or [Steps].
type Report struct {
	// Levels are in the order they ran.
	Levels []Level
	// Ceiling is the highest level that passed with no failing level
	// below it (0 when the first failed); Limit and Why are those of the
	// lowest failing level above it (None when every level passed).
	Ceiling int
	Limit   Limit
	Why     string
	// Stopped says why a search or steps ended early: "budget" or
	// "cancelled" (before finding a failing level, or while bisecting
	// after one: the ceiling is then coarser than the resolution), or
	// "reached Max" with no level failing; "" otherwise.
	Stopped string
}

// OpenLoad returns a Plan function for Options: at level r, the scenario
// built by scenario (a journey's Scenario method fits) runs r arrivals per
// second, evenly spaced, for duration, of which warmup is left out of the
// figures; an arrival finding all maxVUs busy is dropped.
func OpenLoad(scenario func(loadgen.Executor) loadgen.Scenario, duration, warmup time.Duration, maxVUs int) func(int) (*loadgen.Plan, error) {
	return func(rate int) (*loadgen.Plan, error) {
		if rate <= 0 {
			return nil, fmt.Errorf("capacity: an open level must be > 0 arrivals per second, got %d", rate)
		}
		ex := loadgen.ConstantRate{Rate: rate, Duration: duration, PreAllocatedVUs: min(maxVUs, max(rate/10, 1)), MaxVUs: maxVUs}
		return &loadgen.Plan{Name: fmt.Sprintf("%d/s", rate), Warmup: warmup, Scenarios: []loadgen.Scenario{scenario(ex)}}, nil
	}
}

// ClosedLoad returns a Plan function for Options: at level n, n VUs run
// the scenario built by scenario for duration, of which warmup is left
// out of the figures. The VUs begin over a short span, as a
// loadgen.ConstantVUs's do (see its Stagger).
func ClosedLoad(scenario func(loadgen.Executor) loadgen.Scenario, duration, warmup time.Duration) func(int) (*loadgen.Plan, error) {
	return func(vus int) (*loadgen.Plan, error) {
		if vus <= 0 {
			return nil, fmt.Errorf("capacity: a closed level must be > 0 VUs, got %d", vus)
		}
		ex := loadgen.ConstantVUs{VUs: vus, Duration: duration}
		return &loadgen.Plan{Name: fmt.Sprintf("%d VUs", vus), Warmup: warmup, Scenarios: []loadgen.Scenario{scenario(ex)}}, nil
	}
}

func (o *Options) validate(search bool) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("capacity: "+format, args...)) }
	if o.Plan == nil {
		bad("Options.Plan must be set (OpenLoad or ClosedLoad make one)")
	}
	if o.MaxDropped < 0 || o.MaxDropped >= 1 || math.IsNaN(o.MaxDropped) {
		bad("Options.MaxDropped must be in [0, 1) (0 means 1%%), got %v", o.MaxDropped)
	}
	if !(o.MaxErrorRate >= 0 && o.MaxErrorRate <= 1) {
		bad("Options.MaxErrorRate must be in [0, 1] (0 means 1%%, 1 means no limit), got %v", o.MaxErrorRate)
	}
	if o.Budget < 0 {
		bad("Options.Budget must be >= 0 (0 means none), got %v", o.Budget)
	}
	for _, t := range o.SLO {
		if err := t.Validate(); err != nil {
			bad("Options.SLO: %v", err)
		}
	}
	if err := o.Rows.Validate(); err != nil {
		bad("Options.Rows: %v", err)
	}
	if o.Runs < 0 {
		bad("Options.Runs must be >= 0 (0 means 1), got %d", o.Runs)
	}
	if search {
		if o.Start <= 0 {
			bad("Options.Start must be > 0, got %d", o.Start)
		}
		if o.Factor != 0 && !(o.Factor > 1 && !math.IsInf(o.Factor, 1)) {
			bad("Options.Factor must be 0 (use Step) or a finite number > 1, got %v", o.Factor)
		}
		if o.Factor == 0 && o.Step <= 0 {
			bad("Options.Step must be > 0 when Factor is 0, got %d", o.Step)
		}
		if o.Max < 0 || o.Max > 0 && o.Max < o.Start {
			bad("Options.Max must be 0 (no limit) or >= Start (%d), got %d", o.Start, o.Max)
		}
		if o.Resolution < 0 {
			bad("Options.Resolution must be >= 0, got %d", o.Resolution)
		}
	}
	return errors.Join(errs...)
}

// Search raises the load level by level until one breaks the SLO, then
// bisects to the stated resolution; see [Options]. The report's Ceiling
// is the highest level that held, with what limited the next. Cancelling
// ctx or running out of budget ends the search with what it found; a
// level cut short is not judged. An error is returned only for bad
// options, a plan that does not run (or is nil), an SLO that cannot be
// checked on it, or a next level beyond the largest int; the report then
// holds the levels that ran.
func Search(ctx context.Context, o Options) (*Report, error) {
	if err := o.validate(true); err != nil {
		return nil, err
	}
	s := newSearch(ctx, &o)
	defer s.cancel()
	good, bad := 0, 0
	var badLevel *Level
	for level := o.Start; ; {
		if o.Max > 0 && level > o.Max {
			s.rep.Stopped = "reached Max"
			break
		}
		l, err := s.run(level)
		if err != nil || l == nil {
			return s.finish(), err
		}
		if !l.Pass {
			bad, badLevel = level, l
			break
		}
		good = level
		next, err := o.next(level)
		if err != nil {
			if o.Max > 0 { // the next level would pass Max anyway
				s.rep.Stopped = "reached Max"
				break
			}
			return s.finish(), err
		}
		level = next
	}
	for badLevel != nil && o.Resolution > 0 && bad-good > o.Resolution && good > 0 {
		mid := good + (bad-good)/2
		l, err := s.run(mid)
		if err != nil || l == nil {
			return s.finish(), err
		}
		if l.Pass {
			good = mid
		} else {
			bad, badLevel = mid, l
		}
	}
	return s.finish(), nil
}

// next returns the level a search runs after level passed: level + Step,
// or level × Factor rounded up (and at least level + 1). A level beyond
// the largest int is an error.
func (o *Options) next(level int) (int, error) {
	if o.Factor > 1 {
		// float64(math.MaxInt) is 2^63, the first value no int holds.
		if f := math.Ceil(float64(level) * o.Factor); f < float64(math.MaxInt) {
			return max(int(f), level+1), nil
		}
		return 0, fmt.Errorf("capacity: the level after %d, %d × Options.Factor %v, is beyond the largest level, %d; set Options.Max",
			level, level, o.Factor, math.MaxInt)
	}
	if level > math.MaxInt-o.Step {
		return 0, fmt.Errorf("capacity: the level after %d, %d + Options.Step %d, is beyond the largest level, %d; set Options.Max",
			level, level, o.Step, math.MaxInt)
	}
	return level + o.Step, nil
}

// Steps runs the given levels in order, all of them (the "100, 200 and 300
// users" question), each judged against the SLO; see [CompareSteps] to set
// two services side by side.
func Steps(ctx context.Context, o Options, levels ...int) (*Report, error) {
	if err := o.validate(false); err != nil {
		return nil, err
	}
	if len(levels) == 0 {
		return nil, errors.New("capacity: Steps needs at least one level")
	}
	s := newSearch(ctx, &o)
	defer s.cancel()
	for _, level := range levels {
		l, err := s.run(level)
		if err != nil || l == nil {
			return s.finish(), err
		}
	}
	return s.finish(), nil
}

type search struct {
	ctx    context.Context
	cancel context.CancelFunc
	o      *Options
	rep    *Report
	until  time.Time // the budget's end; zero for none
}

func newSearch(ctx context.Context, o *Options) *search {
	s := &search{o: o, rep: &Report{}}
	if o.Budget > 0 {
		s.until = time.Now().Add(o.Budget)
		s.ctx, s.cancel = context.WithDeadline(ctx, s.until)
	} else {
		s.ctx, s.cancel = context.WithCancel(ctx)
	}
	return s
}

// run runs one level, its Runs runs one after another; it returns nil
// (and no error) when the search must stop: cancelled, or out of budget.
func (s *search) run(level int) (*Level, error) {
	var runs []*loadgen.Result
	for range max(s.o.Runs, 1) {
		if s.ctx.Err() != nil {
			s.rep.Stopped = s.why()
			return nil, nil
		}
		plan, err := s.o.Plan(level)
		if err != nil {
			return nil, fmt.Errorf("capacity: level %d: %w", level, err)
		}
		if plan == nil {
			return nil, fmt.Errorf("capacity: level %d: Options.Plan returned neither a plan nor an error", level)
		}
		if !s.until.IsZero() && time.Until(s.until) < plan.Duration() {
			s.rep.Stopped = "budget"
			return nil, nil
		}
		res, err := loadgen.Run(s.ctx, plan)
		if res == nil {
			return nil, fmt.Errorf("capacity: level %d: %w", level, err)
		}
		if res.Interrupted {
			s.rep.Stopped = s.why()
			return nil, nil
		}
		runs = append(runs, res)
	}
	l, err := s.judge(level, runs)
	if err != nil {
		return nil, fmt.Errorf("capacity: level %d: %w", level, err)
	}
	s.rep.Levels = append(s.rep.Levels, l)
	if s.o.OnLevel != nil {
		s.o.OnLevel(l)
	}
	return &s.rep.Levels[len(s.rep.Levels)-1], nil
}

func (s *search) why() string {
	if errors.Is(s.ctx.Err(), context.DeadlineExceeded) && !s.until.IsZero() {
		return "budget"
	}
	return "cancelled"
}

// judge computes a level's figures and verdict from its runs. An SLO or
// Rows that does not fit the plan is an error.
func (s *search) judge(level int, runs []*loadgen.Result) (Level, error) {
	l := Level{Load: level, Result: runs[0], Runs: runs, Rows: s.o.Rows}
	if l.Rows == "" {
		l.Rows = "[step]"
		if _, _, err := report.Select(runs[0], l.Rows); err != nil {
			l.Rows = "[iteration]" // no step recorded
		}
	}
	var rows, it metrics.Stats
	var rowsRate, itRate report.RateBasis
	decided := false
	for i, res := range runs {
		st, b, err := report.Select(res, l.Rows)
		if err != nil {
			return l, fmt.Errorf("Options.Rows does not fit the plan: %w", err)
		}
		l.RunFigures = append(l.RunFigures, report.FiguresOf(&st, b))
		rows.Merge(&st)
		rowsRate.Outcomes.Add(&b.Outcomes)
		rowsRate.Span += b.Span

		var run metrics.Stats
		var runRate report.RateBasis
		for _, sc := range res.Plan.Scenarios {
			l.Open = l.Open || sc.Open
			st, b, ok := report.RowStats(res, report.Row{Scenario: sc.Name, Kind: metrics.KindIteration})
			if !ok {
				continue
			}
			run.Merge(st)
			runRate.Outcomes.Add(&b.Outcomes)
			runRate.Span = b.Span
		}
		it.Merge(&run)
		itRate.Outcomes.Add(&runRate.Outcomes)
		itRate.Span += runRate.Span

		v := s.verdict(res, &run, l.RunFigures[i])
		if v.err != nil {
			return l, v.err
		}
		// A level holds only when every run does: the first that failed
		// decides it.
		if !decided && (!v.pass || i == len(runs)-1) {
			decided = true
			l.Verdicts, l.Pass, l.Limit, l.Why = v.verdicts, v.pass, v.limit, v.why
			if !v.pass && len(runs) > 1 {
				l.Why = fmt.Sprintf("run %d of %d: %s", i+1, len(runs), l.Why)
			}
		}
	}
	l.Figures = report.FiguresOf(&rows, rowsRate)
	l.Rate = itRate.Rate()
	l.Dropped = it.Outcomes[metrics.Dropped]
	if all := it.Count() + l.Dropped; all > 0 {
		l.DroppedShare = float64(l.Dropped) / float64(all)
	}
	return l, nil
}

// runVerdict is the verdict on one run of a level.
type runVerdict struct {
	verdicts report.Verdicts
	pass     bool
	limit    Limit
	why      string
	err      error
}

// verdict judges one run of a level: its SLO, the error rate and drops of
// its iterations (it), and whether the limit was the generator's, from
// the latency of the level's rows (rows).
func (s *search) verdict(res *loadgen.Result, it *metrics.Stats, rows report.Figures) runVerdict {
	v := runVerdict{verdicts: report.Check(res, s.o.SLO...)}
	if err := v.verdicts.Err(); err != nil {
		// A selector that names no step or scenario of the plan (a typo,
		// say) would fail every level, on the metric's account.
		v.err = fmt.Errorf("Options.SLO does not fit the plan: %w", err)
		return v
	}
	maxDropped := s.o.MaxDropped
	if maxDropped == 0 {
		maxDropped = 0.01
	}
	var errs, lat, thin []string
	var latFailed report.Verdicts
	for _, f := range v.verdicts.Failed() {
		what := f.Threshold.String() + " (" + f.ActualString() + ")"
		name := f.Threshold.Metric.String()
		switch {
		case strings.HasPrefix(name, "error") || strings.HasPrefix(name, "status"):
			errs = append(errs, what)
		case f.Threshold.Metric.Unit() == report.UnitDuration:
			lat = append(lat, what)
			latFailed = append(latFailed, f)
		default: // count, rate, dropped: the load did not get through
			thin = append(thin, what)
		}
	}
	maxErr := s.o.MaxErrorRate
	if maxErr == 0 {
		maxErr = 0.01
	}
	if er := it.ErrorRate(); er > maxErr {
		errs = append(errs, fmt.Sprintf("%.1f%% of iterations failed (more than %.1f%%, MaxErrorRate)", 100*er, 100*maxErr))
	}
	dropped := it.Outcomes[metrics.Dropped]
	if all := it.Count() + dropped; all > 0 && float64(dropped)/float64(all) > maxDropped {
		thin = append(thin, fmt.Sprintf("%d of %d arrivals dropped (%.1f%%, more than %.1f%%)", dropped, all, 100*float64(dropped)/float64(all), 100*maxDropped))
	}
	switch {
	case len(errs) > 0:
		v.limit, v.why = LimitErrors, strings.Join(errs, "; ")
	case len(lat) > 0:
		v.limit, v.why = LimitLatency, strings.Join(lat, "; ")
		if sum := report.Summarize(res); len(sum.GeneratorWarnings()) > 0 && generatorMade(latFailed, sum) {
			// Without what the generator may have added, the latency
			// would have held: the generator's, as much as the service's.
			v.limit, v.why = LimitGenerator, v.why+"; but "+strings.Join(sum.GeneratorWarnings(), "; ")
		}
	case len(thin) > 0:
		v.limit, v.why = LimitDrops, strings.Join(thin, "; ")
		if base, ok := s.healthy(); ok && rows.Latency.Count > 0 && rows.Latency.P95 <= 2*base {
			v.limit = LimitGenerator
			v.why += fmt.Sprintf(" while p95 stayed at %s (%s at the lowest level): the generator, not the service (raise MaxVUs or add generators)", format.Duration(rows.Latency.P95), format.Duration(base))
		}
	default:
		v.pass = true
	}
	return v
}

// generatorMade reports whether every failed latency bound would hold
// once the largest delay the generator may have added (at p99, see
// report.GeneratorSummary) is taken off its value.
func generatorMade(failed report.Verdicts, s *report.Summary) bool {
	var d time.Duration
	for _, sc := range s.Scenarios {
		if sc.Generator != nil {
			d = max(d, sc.Generator.P99)
		}
	}
	for _, v := range failed {
		if op := v.Threshold.Op; (op != report.Less && op != report.LessOrEqual) || v.NoData || v.Err != nil ||
			!op.Holds(v.Actual-float64(d), v.Threshold.Value) {
			return false
		}
	}
	return true
}

// healthy returns the p95 of the rows of the lowest level that passed,
// the service's latency when it is not loaded.
func (s *search) healthy() (time.Duration, bool) {
	var best *Level
	for i := range s.rep.Levels {
		l := &s.rep.Levels[i]
		if l.Pass && l.Figures.Latency.Count > 0 && (best == nil || l.Load < best.Load) {
			best = l
		}
	}
	if best == nil {
		return 0, false
	}
	return best.Figures.Latency.P95, true
}

// finish sets the ceiling: the highest passing level below the lowest
// failing one.
func (s *search) finish() *Report {
	r := s.rep
	for _, l := range r.byLoad() {
		if !l.Pass {
			r.Limit, r.Why = l.Limit, l.Why
			break
		}
		r.Ceiling = l.Load
	}
	return r
}
