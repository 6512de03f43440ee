package scenario

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

var errStop = loadgen.ErrStopScenario

// StepFunc is what a step does. It returns nil on success, or an error whose
// outcome class [metrics.OutcomeOf] reads (wrap it with
// [metrics.WithOutcome] to choose the class).
type StepFunc func(ctx context.Context, vu *VU) error

// Part is one piece of a journey: a step, a think time, pacing, a feeder, a
// group, or a [Parts] list. Parts are made by this package's functions.
type Part interface{ part() }

// Parts is a list of parts; it is itself a part, so lists compose.
type Parts []Part

func (Parts) part() {}

type stepPart struct {
	name  string
	fn    StepFunc
	http  *httpStep  // set for HTTP steps: their phases are recorded too
	proto *protoStep // set for protocol steps
}

type thinkPart struct{ d Dist }
type pacingPart struct{ d time.Duration }
type feedPart struct{ f *Feeder }
type groupPart struct {
	name  string
	parts []Part
}
type providesPart struct{ keys []string }

func (stepPart) part()     {}
func (thinkPart) part()    {}
func (pacingPart) part()   {}
func (feedPart) part()     {}
func (groupPart) part()    {}
func (providesPart) part() {}

// Step is a named step: fn's latency and outcome are recorded under the
// step's name. When a step fails, the iteration's remaining steps are
// skipped (its think times and pacing are kept) and the iteration fails
// with the step's error.
func Step(name string, fn StepFunc) Part { return stepPart{name: name, fn: fn} }

// Think pauses between steps for a duration drawn from d (from the VU's own
// random source). Think time is not part of any step's latency.
func Think(d Dist) Part { return thinkPart{d} }

// Pacing makes every iteration take at least d: after the last step the VU
// waits out the rest (a closed model then runs at most one iteration per d
// per VU). At most one Pacing per journey.
func Pacing(d time.Duration) Part { return pacingPart{d} }

// Feed draws a row from f for the iteration, at the point where it stands
// in the journey (usually first); steps read it from [VU.Record].
func Feed(f *Feeder) Part { return feedPart{f} }

// Group names a group of steps: their metrics are named "group/step".
func Group(name string, parts ...Part) Part { return groupPart{name: name, parts: parts} }

// Provides declares values that the Go steps before it store with
// [VU.Set], such as a token from a login step, so that the placeholders
// after it may use them: [New] refuses a placeholder that nothing before
// it provides. Put it right after the step that stores the values:
//
//	Step("login", login), Provides("token"),
//	GET("me", base+"/me", Header("Authorization", "Bearer {{token}}")),
//
// It also declares values stored by another journey of a [Mix] (New
// checks each journey on its own). It does nothing when the journey runs:
// a value declared but not stored fails the step that uses it (outcome
// other).
func Provides(keys ...string) Part { return providesPart{slices.Clone(keys)} }

// VU is a virtual user as steps see it. One goroutine runs a VU; its fields
// are not safe for use by other goroutines.
type VU struct {
	// ID is the VU's id within its scenario.
	ID int
	// Iteration is the number of the VU's current iteration, from 0.
	Iteration int64
	// Rand is the VU's own random source, seeded from the journey's seed and
	// the VU's id: a run replays from its seed.
	Rand *rand.Rand
	// Record is the row drawn by the last Feed of this iteration.
	Record Record
	// HTTP is the VU's client for the journey it is running: its own
	// cookie jar over the connections the journey's [Client] sets up.
	HTTP *http.Client

	jar     *vuJar
	clients []*http.Client // per journey of the mix
	senders []sender       // per journey: what sends its HTTP steps
	send    sender         // of the journey being run
	client  *clientRun     // of the journey being run
	store   map[string]string
	cursors map[*Feeder]int
	shard   *metrics.Shard
	late    metrics.Handle // how late the VU woke from its pauses
	timer   *time.Timer
	http    httpState
	call    Call        // a protocol step's, reused
	locals  map[any]any // protocols' state of the VU
}

// Set stores a value for later steps of this VU (an id from a list, a
// token). Values persist across the VU's iterations.
func (vu *VU) Set(key, value string) { vu.store[key] = value }

// Get returns a stored value, or else the current row's column of that
// name; ok is false when neither has it.
func (vu *VU) Get(key string) (string, bool) {
	if v, ok := vu.store[key]; ok {
		return v, true
	}
	return vu.Record.Get(key)
}

// sleep waits d or until ctx is done, and records how late it woke
// (metrics.KindThinkLag): a VU that wakes late offers less load than its
// model.
func (vu *VU) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	start := time.Now()
	if vu.timer == nil {
		vu.timer = time.NewTimer(d)
	} else {
		vu.timer.Reset(d)
	}
	select {
	case <-vu.timer.C:
		end := time.Now()
		vu.shard.Record(vu.late, end, max(end.Sub(start)-d, 0), metrics.OK)
		return nil
	case <-ctx.Done():
		vu.timer.Stop()
		return ctx.Err()
	}
}

// op is one compiled operation of a journey.
type op struct {
	step   *stepPart
	key    string // full step name
	think  Dist
	feeder *Feeder
}

// Journey is what a virtual user does in one iteration: steps in order,
// with think times, pacing and data feeders. Build one with [New]; turn it
// into a loadgen scenario with [Journey.Scenario]. A Journey is immutable
// and may back several scenarios.
type Journey struct {
	name   string
	ops    []op
	pacing time.Duration
	seed   uint64
	client Client
}

// Option configures a Journey.
type Option func(*Journey)

// Seed sets the seed of the VUs' random sources (default 1): VU i draws
// from a source seeded with (seed, i).
func Seed(s uint64) Option { return func(j *Journey) { j.seed = s } }

// WithClient sets how the journey's HTTP steps connect: see [Client]. The
// journey keeps its own copy of c's maps, slices and HTTPClient; [New]
// reports the mistakes in c.
func WithClient(c Client) Option {
	c = c.clone()
	return func(j *Journey) { j.client = c }
}

// New builds a journey, reporting every problem at once, each with the
// journey's and the step's name: steps without a name or function,
// duplicate step names, bad think-time parameters, more than one Pacing, a
// nil feeder, no steps at all, a bad HTTP step (see [HTTP]), and
// placeholders that nothing provides.
//
// A placeholder {{name}} must be provided before the step that uses it,
// in the order the journey runs (Groups and Parts lists flattened): by a
// column of the feeder fed last ([Feed]; a later Feed replaces the row),
// by an extractor of an earlier step ([ExtractJSON], [ExtractHeader],
// [ExtractRegexp]; a step's own extractors run after its request and its
// checks), by [Provides], or built in ({{vu.id}}, {{vu.iteration}}). The
// error lists what is available there. Values persist across a VU's
// iterations, but the first iteration must work too, so a value provided
// only later in the journey does not count. Each journey is checked on
// its own: values stored by the other journeys of a [Mix] count only when
// declared with Provides.
func New(name string, parts []Part, opts ...Option) (*Journey, error) {
	j := &Journey{name: name, seed: 1}
	for _, o := range opts {
		o(j)
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("scenario: journey %q: "+format, append([]any{name}, args...)...))
	}
	if name == "" {
		errs = append(errs, errors.New("scenario: journey name must be non-empty"))
	}
	seen := map[string]bool{}
	var seq []seqItem
	pacings := 0
	var walk func(prefix string, parts []Part)
	walk = func(prefix string, parts []Part) {
		for _, p := range parts {
			switch p := p.(type) {
			case Parts:
				walk(prefix, p)
			case groupPart:
				if p.name == "" {
					bad("a group has an empty name")
				}
				walk(prefix+p.name+"/", p.parts)
			case badPart:
				for _, err := range p.errs {
					bad("step %q: %v", prefix+p.name, err)
				}
				seen[prefix+p.name] = true // a step, if a broken one
			case stepPart:
				full := prefix + p.name
				switch {
				case p.name == "":
					bad("a step has an empty name")
				case seen[full]:
					bad("step %q appears twice; step names must be unique", full)
				case p.fn == nil && p.http == nil && p.proto == nil:
					bad("step %q has no function", full)
				}
				seen[full] = true
				if p.proto != nil {
					p.proto = &protoStep{p: p.proto.p} // described afresh for this journey
					for _, err := range p.proto.describe() {
						bad("step %q: %v", full, err)
					}
					seq = append(seq, seqItem{step: full, uses: p.proto.info.Uses, stores: p.proto.info.Stores})
				}
				j.ops = append(j.ops, op{step: &p, key: full})
				if p.http != nil {
					seq = append(seq, seqItem{step: full, http: p.http})
				}
			case thinkPart:
				if p.d == nil {
					bad("Think needs a distribution, got nil")
				} else if err := p.d.validate(); err != nil {
					bad("Think %v", err)
				}
				j.ops = append(j.ops, op{think: p.d})
			case pacingPart:
				pacings++
				if p.d <= 0 {
					bad("Pacing must be > 0, got %v", p.d)
				}
				j.pacing = p.d
			case feedPart:
				if p.f == nil {
					bad("Feed needs a feeder, got nil")
				} else {
					seq = append(seq, seqItem{feeder: p.f})
				}
				j.ops = append(j.ops, op{feeder: p.f})
			case providesPart:
				if len(p.keys) == 0 {
					bad("Provides needs at least one key")
				}
				for i, k := range p.keys {
					if k == "" || strings.ContainsAny(k, "{} \t\r\n") {
						bad("Provides: key %d is %q; a key is a placeholder's name: non-empty, without spaces or braces", i, k)
					}
				}
				seq = append(seq, seqItem{provides: p.keys})
			case nil:
				bad("a part is nil")
			default:
				bad("unknown part %T", p)
			}
		}
	}
	walk("", parts)
	checkPlaceholders(seq, bad)
	if pacings > 1 {
		bad("Pacing is given %d times; at most once", pacings)
	}
	if len(seen) == 0 {
		bad("needs at least one step")
	}
	for _, err := range j.client.validate() {
		bad("%v", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return j, nil
}

// seqItem is what a part provides to, or asks of, the placeholders of the
// parts after it.
type seqItem struct {
	step         string // an HTTP or protocol step's full name
	http         *httpStep
	uses, stores []string // a protocol step's values
	feeder       *Feeder
	provides     []string
}

// checkPlaceholders reports every placeholder of an HTTP step that
// nothing before the step provides, saying what would and what is
// available there.
func checkPlaceholders(seq []seqItem, bad func(format string, args ...any)) {
	stored := map[string]bool{}
	var row *Feeder
	for i, it := range seq {
		switch {
		case it.feeder != nil:
			row = it.feeder
		case it.provides != nil:
			for _, k := range it.provides {
				stored[k] = true
			}
		case it.http != nil:
			reported := map[string]bool{}
			for _, t := range it.http.templates() {
				t.names(func(name string) {
					if _, inRow := row.column(name); stored[name] || inRow || reported[name] {
						return
					}
					reported[name] = true
					bad("step %q: {{%s}} in the %s %q %s; available here: %s", it.step, name, t.where, t.src,
						missing(seq, i, row, name), available(stored, row))
				})
			}
			for _, k := range it.http.keys {
				stored[k.key] = true
			}
		case it.step != "":
			for _, name := range it.uses {
				if _, inRow := row.column(name); !stored[name] && !inRow && !builtin(name) {
					bad("step %q uses the value %q, which %s; available here: %s", it.step, name,
						missing(seq, i, row, name), available(stored, row))
				}
			}
			for _, k := range it.stores {
				stored[k] = true
			}
		}
	}
}

// missing says why nothing provides name at seq[at], where row is the
// feeder fed last.
func missing(seq []seqItem, at int, row *Feeder, name string) string {
	for _, it := range seq[:at] {
		if _, ok := it.feeder.column(name); ok && it.feeder != row {
			return fmt.Sprintf("is a column of feeder %q, but Feed(%q) replaces the row before this step", it.feeder.name, row.name)
		}
	}
	for i, it := range seq[at:] {
		by := ""
		switch {
		case it.http != nil:
			for _, k := range it.http.keys {
				if k.key == name {
					by = fmt.Sprintf("%s in step %q", k.by, it.step)
				}
			}
		case it.step != "":
			if slices.Contains(it.stores, name) {
				by = fmt.Sprintf("step %q", it.step)
			}
		case slices.Contains(it.provides, name):
			by = "a Provides"
		default:
			if _, ok := it.feeder.column(name); ok {
				by = fmt.Sprintf("the feeder %q", it.feeder.name)
			}
		}
		switch {
		case by == "":
		case i == 0:
			return fmt.Sprintf("is stored by %s, after its request; only values provided before a step reach its placeholders", by)
		default:
			return fmt.Sprintf("is provided only after this step, by %s; a value must be provided before the step that uses it", by)
		}
	}
	return "is provided by nothing before it (a feeder's column, an extractor of an earlier step, or a value a Go step stores, declared with Provides)"
}

// available lists what a placeholder may use at a point of the journey.
func available(stored map[string]bool, row *Feeder) string {
	var names []string
	for k := range stored {
		names = append(names, k)
	}
	if row != nil {
		for _, c := range row.Columns() {
			if !stored[c] {
				names = append(names, c)
			}
		}
	}
	slices.Sort(names)
	return strings.Join(append(names, builtinVUID, builtinVUIteration), ", ")
}

// Must is New that panics on error, for journeys fixed in source code.
func Must(name string, parts []Part, opts ...Option) *Journey {
	j, err := New(name, parts, opts...)
	if err != nil {
		panic(err)
	}
	return j
}

// Name returns the journey's name.
func (j *Journey) Name() string { return j.name }

// Steps returns the full names of the journey's steps, in order.
func (j *Journey) Steps() []string {
	var s []string
	for _, o := range j.ops {
		if o.step != nil {
			s = append(s, o.key)
		}
	}
	return s
}

// Scenario returns a loadgen scenario named after the journey that runs it
// under exec. Each run of it gets fresh state: the journey's HTTP
// transport (sized for exec's VUs and closed when the scenario ends), its
// feeders' cursors and its VUs.
func (j *Journey) Scenario(exec loadgen.Executor) loadgen.Scenario {
	return Mix(j.name, exec, Weighted{Weight: 1, Journey: j})
}

// Weighted is a journey with its share of a [Mix].
type Weighted struct {
	Weight  int // > 0
	Journey *Journey
}

// Mix returns a scenario whose every iteration runs one of the journeys,
// picked at random by weight (for example 80 % browse, 20 % sign up). In a
// mix of several journeys, steps are named "journey/step". Bad weights are
// reported when the plan runs, before any load starts.
func Mix(name string, exec loadgen.Executor, journeys ...Weighted) loadgen.Scenario {
	js := slices.Clone(journeys) // later changes to the caller's slice do not reach the scenario
	return loadgen.Scenario{Name: name, Executor: exec, Setup: func(ctx context.Context, env *loadgen.Env) (loadgen.Instance, error) {
		m, err := newMixRun(ctx, name, js, env)
		if err != nil {
			return loadgen.Instance{}, err
		}
		return loadgen.Instance{Iteration: m.iterate, Teardown: m.teardown, Gauges: m.res.gauges}, nil
	}}
}

// mixRun is one run of a mix: everything that must not outlive the run.
type mixRun struct {
	name     string
	journeys []Weighted
	total    int
	handles  [][]metrics.Handle // per journey, per op: the step's handle
	phases   [][][numPhases]metrics.Handle
	protos   [][]*protoRun // per journey, per op: a protocol step opened
	res      runResources  // what the protocol steps opened
	clients  []*clientRun  // per journey
	feeds    map[*Feeder]*feedRun
	late     metrics.Handle // the generator's think lag, if a journey pauses
}

func newMixRun(ctx context.Context, name string, journeys []Weighted, env *loadgen.Env) (*mixRun, error) {
	m := &mixRun{name: name, journeys: journeys, feeds: map[*Feeder]*feedRun{}}
	var errs []error
	if len(journeys) == 0 {
		errs = append(errs, fmt.Errorf("scenario: mix %q needs at least one journey", name))
	}
	for i, w := range journeys {
		if w.Weight <= 0 {
			errs = append(errs, fmt.Errorf("scenario: mix %q: journey %d weight must be > 0, got %d", name, i, w.Weight))
		} else if m.total > math.MaxInt-w.Weight {
			errs = append(errs, fmt.Errorf("scenario: mix %q: the weights add up to more than %d", name, math.MaxInt))
		} else {
			m.total += w.Weight
		}
		if w.Journey == nil {
			errs = append(errs, fmt.Errorf("scenario: mix %q: journey %d is nil", name, i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rec := env.Recorder
	for _, w := range journeys {
		j := w.Journey
		m.clients = append(m.clients, j.client.build(env.MaxVUs))
		hs := make([]metrics.Handle, len(j.ops))
		ph := make([][numPhases]metrics.Handle, len(j.ops))
		pr := make([]*protoRun, len(j.ops))
		if j.pacing > 0 {
			m.late = rec.Handle(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindThinkLag})
		}
		for i, o := range j.ops {
			if o.feeder != nil && m.feeds[o.feeder] == nil {
				m.feeds[o.feeder] = newFeedRun(o.feeder, env.Segment)
			}
			if o.think != nil {
				m.late = rec.Handle(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindThinkLag})
			}
			if o.step == nil {
				continue
			}
			step := o.key
			if len(journeys) > 1 {
				step = j.name + "/" + o.key
			}
			hs[i] = rec.Handle(metrics.Key{Scenario: name, Step: step, Kind: metrics.KindStep})
			if o.step.http != nil {
				for p := range numPhases {
					ph[i][p] = rec.Handle(metrics.Key{Scenario: name, Step: step, Kind: phaseKinds[p]})
				}
			}
			if ps := o.step.proto; ps != nil {
				r := &protoRun{kinds: ps.info.Kinds}
				for _, k := range r.kinds {
					r.handles = append(r.handles, rec.Handle(metrics.Key{Scenario: name, Step: step, Kind: k}))
				}
				c, err := ps.p.Open(ctx, &Run{Scenario: name, Step: step, MaxVUs: env.MaxVUs, res: &m.res})
				if err == nil && c == nil {
					err = errors.New("Open returned no Caller")
				}
				if err != nil {
					m.teardown()
					return nil, fmt.Errorf("scenario %q: step %q: %w", name, step, err)
				}
				r.caller = c
				pr[i] = r
			}
		}
		m.handles = append(m.handles, hs)
		m.phases = append(m.phases, ph)
		m.protos = append(m.protos, pr)
	}
	return m, nil
}

func (m *mixRun) teardown() {
	m.res.close()
	for _, c := range m.clients {
		c.close()
	}
}

func (m *mixRun) vu(it *loadgen.Iteration) *VU {
	if vu, ok := it.VU.State.(*VU); ok {
		return vu
	}
	seed := m.journeys[0].Journey.seed
	vu := &VU{
		ID:      it.VU.ID,
		Rand:    rand.New(rand.NewPCG(seed, uint64(it.VU.ID))),
		jar:     newVUJar(),
		store:   map[string]string{},
		cursors: map[*Feeder]int{},
		shard:   it.Shard,
		late:    m.late,
	}
	vu.clients = make([]*http.Client, len(m.clients))
	vu.senders = make([]sender, len(m.clients))
	for i, c := range m.clients {
		vu.senders[i], vu.clients[i] = c.forVU(vu)
	}
	vu.HTTP, vu.client, vu.send = vu.clients[0], m.clients[0], vu.senders[0]
	vu.http.init()
	it.VU.State = vu
	return vu
}

func (m *mixRun) iterate(ctx context.Context, it *loadgen.Iteration) error {
	vu := m.vu(it)
	vu.Iteration = it.Number
	ji := 0
	if len(m.journeys) > 1 {
		x := vu.Rand.IntN(m.total)
		for x >= m.journeys[ji].Weight {
			x -= m.journeys[ji].Weight
			ji++
		}
	}
	j := m.journeys[ji].Journey
	vu.HTTP, vu.client, vu.send = vu.clients[ji], m.clients[ji], vu.senders[ji]
	var start time.Time
	if j.pacing > 0 {
		start = time.Now()
	}
	err := m.runOps(ctx, vu, ji)
	if j.pacing > 0 && ctx.Err() == nil {
		// A failed iteration is paced as any other: a VU does not hammer
		// a service that is failing.
		if serr := vu.sleep(ctx, j.pacing-time.Since(start)); err == nil {
			err = serr
		}
	}
	return err
}

// runOps runs the operations of journey ji and then, with
// PoolPerIteration, closes the iteration's connections (even after a
// panic), so that the next iteration connects again. After a step fails,
// the remaining steps and feeds are skipped but the think times are kept,
// as a user pauses after an error page too: a closed model's offered load
// stays what it models through an outage. It returns the failed step's
// error.
func (m *mixRun) runOps(ctx context.Context, vu *VU, ji int) error {
	defer vu.senders[ji].endIteration()
	j := m.journeys[ji].Journey
	var failed error
	for i := range j.ops {
		o := &j.ops[i]
		switch {
		case failed != nil && o.think == nil:
			// skipped after the failure
		case o.step != nil:
			if err := m.runStep(ctx, vu, o, m.handles[ji][i], &m.phases[ji][i], m.protos[ji][i]); err != nil {
				failed = fmt.Errorf("step %q: %w", o.key, err)
				if ctx.Err() != nil {
					return failed // the hard stop: no more waiting
				}
			}
		case o.think != nil:
			if err := vu.sleep(ctx, o.think.Draw(vu.Rand)); err != nil {
				return cmp.Or(failed, err)
			}
		case o.feeder != nil:
			row, err := m.feeds[o.feeder].draw(vu)
			if err != nil {
				return err
			}
			vu.Record = row
		}
	}
	return failed
}

// runStep runs one step and records it, with everything an HTTP step's
// request got, at one instant and with one outcome. A step cut off by the
// run's hard stop (ctx cancelled) is counted as interrupted, with no
// latency.
func (m *mixRun) runStep(ctx context.Context, vu *VU, o *op, h metrics.Handle, ph *[numPhases]metrics.Handle, pr *protoRun) (err error) {
	start := time.Now()
	returned := false
	defer func() {
		end := time.Now()
		p := recover()
		out := metrics.OutcomeOf(err)
		switch {
		case p != nil:
			out = metrics.Panic
		case !returned:
			out = metrics.Other // runtime.Goexit (t.FailNow in a step): the engine counts the iteration so
		case err != nil && ctx.Err() != nil:
			out = metrics.Interrupted
		}
		if out == metrics.Interrupted {
			vu.shard.Count(h, end, out, 1)
		} else {
			vu.shard.Record(h, end, end.Sub(start), out)
		}
		switch {
		case o.step.http != nil:
			o.step.http.record(vu, h, ph, end, out)
		case pr != nil:
			vu.call.finish(h, end, out)
		}
		if p != nil {
			panic(p) // the engine counts the iteration and keeps the stack
		}
	}()
	switch {
	case o.step.http != nil:
		err = vu.send.send(ctx, o.step.http, vu, start)
	case pr != nil:
		vu.call.reset(vu, pr, o.key, start)
		err = pr.caller.Call(ctx, vu, &vu.call)
	default:
		err = o.step.fn(ctx, vu)
	}
	returned = true
	return err
}
