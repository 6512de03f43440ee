package scenario

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// Protocol is a kind of step this package does not speak itself: gRPC,
// WebSocket, a message queue, a database. A protocol's package implements
// it, and [ProtocolStep] makes a step of it that fits a journey as an HTTP
// step does: the journey times it and records its latency and outcome under
// the step's name (metrics.KindStep), with the class of the error the call
// returns ([metrics.OutcomeOf]; wrap it with [metrics.WithOutcome] to say
// which), counts a panic in it, skips the rest of the iteration after it
// fails, and counts it as interrupted when the run's hard stop cuts it off.
// What only the protocol knows it records through the [Call] it is given:
// phases, the latency of each message of a stream, status codes in the
// protocol's own space, payload bytes.
type Protocol interface {
	// Describe tells [New] what the step records and which values it reads
	// and stores; New calls it once, when the journey is built.
	Describe() StepInfo
	// Open readies the step for one run of a scenario, before any load
	// starts (a pool dialled, a method resolved), and returns what makes
	// its calls. An error stops the run before any load. What must not
	// outlive the run is closed by a function given to [Run.OnClose];
	// what several steps share (one pool for every step of a service)
	// comes from [Run.Shared]; what the run should sample over time (the
	// connections held open) is a gauge given to [Run.Gauge].
	Open(ctx context.Context, r *Run) (Caller, error)
}

// Caller makes a protocol step's calls in one run. Its Call is called by
// every VU that runs the step, at once from as many goroutines.
type Caller interface {
	// Call makes the step's call for vu. Its duration, from the step's
	// start, is the step's latency; the error it returns, the step's
	// outcome. c records the rest and is valid only during the call.
	Call(ctx context.Context, vu *VU, c *Call) error
}

// CallerFunc is a function that is a [Caller].
type CallerFunc func(ctx context.Context, vu *VU, c *Call) error

// Call calls f.
func (f CallerFunc) Call(ctx context.Context, vu *VU, c *Call) error { return f(ctx, vu, c) }

// StepInfo is what a protocol step tells [New] about itself.
type StepInfo struct {
	// Kinds lists the metrics the step records under its name beside its
	// own latency: phases, message latencies, the protocol's status codes
	// (gRPC's on a kind "grpc", say, named with metrics.RegisterCodes).
	// Each must be non-empty, at most once, and not one of the kinds the
	// engine records (metrics.KindStep, metrics.KindIteration ...) or an
	// HTTP one (those start with http_). [Call] records only under these.
	// Reports show each as a row of the step's ("watch[grpc_msg]"), its
	// status codes by the names metrics.RegisterCodes gave them.
	Kinds []metrics.Kind
	// Uses lists the values the step reads with [VU.Get] (placeholders of
	// its templates, values it builds its request from). New checks that
	// something before the step provides each, as for an HTTP step's
	// placeholders.
	Uses []string
	// Stores lists the values the step stores with [VU.Set], for the
	// placeholders and values of later steps.
	Stores []string
	// Err is what was wrong with the step when it was built (a bad option,
	// a template that does not parse); New reports it with the step's
	// name, beside every other mistake of the journey.
	Err error
}

// ProtocolStep returns a step of protocol p: see [Protocol]. New reports a
// nil p, and any mistake in what p describes.
func ProtocolStep(name string, p Protocol) Part {
	return stepPart{name: name, proto: &protoStep{p: p}}
}

// protoStep is a protocol step as New checked it.
type protoStep struct {
	p    Protocol
	info StepInfo
}

// describe asks the protocol what it records and uses and checks it.
func (s *protoStep) describe() []error {
	if s.p == nil {
		return []error{errors.New("ProtocolStep needs a protocol, got nil")}
	}
	s.info = s.p.Describe()
	s.info.Kinds = slices.Clone(s.info.Kinds)
	s.info.Uses = slices.Clone(s.info.Uses)
	s.info.Stores = slices.Clone(s.info.Stores)
	var errs []error
	if s.info.Err != nil {
		errs = append(errs, s.info.Err)
	}
	for i, k := range s.info.Kinds {
		switch {
		case k == "":
			errs = append(errs, fmt.Errorf("kind %d is empty", i))
		case slices.Contains(s.info.Kinds[:i], k):
			errs = append(errs, fmt.Errorf("kind %q is given twice", k))
		case reservedKind(k):
			errs = append(errs, fmt.Errorf("kind %q is one the engine or the HTTP steps record (they own every kind that starts with http_); a protocol's kinds are its own (such as %q)", k, "grpc"))
		}
	}
	for _, list := range []struct {
		what  string
		names []string
	}{{"Uses", s.info.Uses}, {"Stores", s.info.Stores}} {
		for i, k := range list.names {
			if k == "" || strings.ContainsAny(k, "{} \t\r\n") {
				errs = append(errs, fmt.Errorf("%s: value %d is %q; a value's name is non-empty, without spaces or braces", list.what, i, k))
			}
		}
	}
	return errs
}

func reservedKind(k metrics.Kind) bool {
	switch k {
	case metrics.KindStep, metrics.KindIteration, metrics.KindScheduleLag, metrics.KindThinkLag,
		metrics.KindGoSched, metrics.KindGCPause:
		return true
	}
	return strings.HasPrefix(string(k), "http_")
}

// Run is one run of a scenario as a protocol step sees it when it is
// opened.
type Run struct {
	// Scenario is the scenario's name, and Step the step's name as its
	// metrics are recorded ("journey/step" in a mix of several journeys).
	Scenario, Step string
	// MaxVUs is the most VUs this process runs of the scenario at once:
	// how many connections one each would take.
	MaxVUs int

	res *runResources
}

// runResources is what the protocol steps of one run opened.
type runResources struct {
	mu      sync.Mutex // guards shared, held while a shared value opens
	shared  map[any]any
	cmu     sync.Mutex // guards closers and gauges: an open may add them
	closers []func()
	gauges  []loadgen.Gauge
}

// Shared returns the value that open made for key in this run, calling
// open only the first time key is asked for: a pool or a client that every
// step of one service shares. An error is returned to every step that asks
// for key, and open is not called again. Keys are compared as map keys; use
// a pointer or a type of the package's own. Shared and OnClose are safe to
// call during the run's calls too (a connection dialled at a VU's first
// call); a Caller may keep r for that.
func (r *Run) Shared(key any, open func() (any, error)) (any, error) {
	r.res.mu.Lock()
	defer r.res.mu.Unlock()
	if r.res.shared == nil {
		r.res.shared = map[any]any{}
	}
	if v, ok := r.res.shared[key]; ok {
		if err, isErr := v.(sharedErr); isErr {
			return nil, err.error
		}
		return v, nil
	}
	v, err := open()
	if err != nil {
		r.res.shared[key] = sharedErr{err}
		return nil, err
	}
	r.res.shared[key] = v
	return v, nil
}

type sharedErr struct{ error }

// OnClose has f called when the run ends, after the scenario's last VU has
// returned (or when the run fails to start): to close connections. The
// functions run in the reverse order of their OnClose calls.
func (r *Run) OnClose(f func()) {
	if f != nil {
		r.res.cmu.Lock()
		r.res.closers = append(r.res.closers, f)
		r.res.cmu.Unlock()
	}
}

// Gauge has the run sample f once per interval as the gauge
// "scenario.name" of the run's metrics (a report's gauges, a Prometheus
// gauge): the connections a protocol's steps hold open, say. Call it from
// Open, once per name in a run (through [Run.Shared], for a gauge that
// several steps feed); f is called from another goroutine than the calls'.
// A name used twice in one run is an error.
func (r *Run) Gauge(name string, f func() float64) error {
	if name == "" || f == nil {
		return errors.New("a gauge needs a name and a function")
	}
	full := r.Scenario + "." + name
	r.res.cmu.Lock()
	defer r.res.cmu.Unlock()
	if slices.ContainsFunc(r.res.gauges, func(g loadgen.Gauge) bool { return g.Name == full }) {
		return fmt.Errorf("the gauge %q is added twice in the run", full)
	}
	r.res.gauges = append(r.res.gauges, loadgen.Gauge{Name: full, Sample: f})
	return nil
}

func (rs *runResources) close() {
	rs.mu.Lock()
	rs.shared = nil
	rs.mu.Unlock()
	rs.cmu.Lock()
	cs := rs.closers
	rs.closers = nil
	rs.cmu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// protoRun is a protocol step opened for one run.
type protoRun struct {
	caller  Caller
	kinds   []metrics.Kind
	handles []metrics.Handle
}

// Call is what a protocol step records of one call beside the step's
// latency and outcome, which the journey records itself. Recordings go to
// the kinds the step declared in [StepInfo.Kinds]; recording under another
// kind panics, which counts the step as a panic and says which kind. A
// Call is reused: keep it only during the call it was given to.
type Call struct {
	vu         *VU
	run        *protoRun
	step       string
	start      time.Time
	phases     []pendingRecord
	status     []pendingRecord
	sent, recv int64
}

// pendingRecord is a phase or a status code kept for the step's end.
type pendingRecord struct {
	kind int
	d    time.Duration
	code int
}

func (c *Call) reset(vu *VU, r *protoRun, step string, start time.Time) {
	*c = Call{vu: vu, run: r, step: step, start: start, phases: c.phases[:0], status: c.status[:0]}
}

// Start returns when the step started: the origin of its latency.
func (c *Call) Start() time.Time { return c.start }

func (c *Call) kind(k metrics.Kind) int {
	for i, have := range c.run.kinds {
		if have == k {
			return i
		}
	}
	panic(fmt.Sprintf("scenario: step %q records kind %q, which its StepInfo.Kinds does not list", c.step, k))
}

// Record records one operation of kind k that ended at instant at, with
// latency d and outcome o: a message of a stream, say, the moment its
// answer arrived, timed from when it was sent. It counts at once.
func (c *Call) Record(k metrics.Kind, at time.Time, d time.Duration, o metrics.Outcome) {
	c.vu.shard.Record(c.run.handles[c.kind(k)], at, d, o)
}

// Count counts n operations of kind k with outcome o and no latency at
// instant at: messages sent on a stream, say.
func (c *Call) Count(k metrics.Kind, at time.Time, o metrics.Outcome, n int64) {
	c.vu.shard.Count(c.run.handles[c.kind(k)], at, o, n)
}

// Phase records d as a phase of the call under kind k, as HTTP steps
// record their connect and time to first byte: at the step's end, with its
// outcome, unless the run's hard stop interrupted it.
func (c *Call) Phase(k metrics.Kind, d time.Duration) {
	c.phases = append(c.phases, pendingRecord{kind: c.kind(k), d: d})
}

// Status counts the call's status code on kind k, at the step's end: a
// protocol's codes have a kind of their own (see metrics.RegisterCodes),
// as gRPC's 14 is not HTTP's 14.
func (c *Call) Status(k metrics.Kind, code int) {
	c.status = append(c.status, pendingRecord{kind: c.kind(k), code: code})
}

// AddBytes adds payload bytes sent and received to the step, at its end.
func (c *Call) AddBytes(sent, received int64) {
	c.sent += sent
	c.recv += received
}

// finish records what was kept for the step's end.
func (c *Call) finish(h metrics.Handle, end time.Time, o metrics.Outcome) {
	sh := c.vu.shard
	if c.sent != 0 || c.recv != 0 {
		sh.AddBytes(h, end, c.sent, c.recv)
	}
	for _, s := range c.status {
		sh.Status(c.run.handles[s.kind], end, s.code)
	}
	if o != metrics.Interrupted {
		for _, p := range c.phases {
			sh.Record(c.run.handles[p.kind], end, p.d, o)
		}
	}
	c.vu = nil
}

// Local returns the value stored for this VU under key with SetLocal, or
// nil: a protocol's state of the VU (a connection it holds across steps
// and iterations). Keys are compared as map keys; use a pointer or a type of
// the protocol's own.
func (vu *VU) Local(key any) any { return vu.locals[key] }

// SetLocal stores v for this VU under key (nil removes it). The VU keeps it
// across iterations and the run forgets it when it ends: close what it
// holds with [Run.OnClose].
func (vu *VU) SetLocal(key, v any) {
	if v == nil {
		delete(vu.locals, key)
		return
	}
	if vu.locals == nil {
		vu.locals = map[any]any{}
	}
	vu.locals[key] = v
}

// Template is a text with placeholders, as an HTTP step's header values and
// bodies have, for protocol steps to build what they send from a VU's
// values: {{name}} is the VU's stored value or the row's column of that
// name, {{vu.id}} and {{vu.iteration}} the VU's id and iteration. List
// [Template.Uses] in [StepInfo.Uses] so that New checks that each is
// provided before the step.
type Template struct{ t template }

// ParseText parses a template of text, such as a metadata value, whose
// values are inserted as they are; a value holding a control character
// (CR, LF …) fails the fill, and so does such a character in s itself,
// when it is parsed. what names the text in errors ("metadata x-user").
func ParseText(what, s string) (*Template, error) {
	t, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	if t.forHeader(what) != nil {
		return nil, fmt.Errorf("%s: the text %q holds a control character (CR, LF …)", what, s)
	}
	t.where = what
	return &Template{t}, nil
}

// ParseJSON parses a template of JSON, such as a request message in its
// JSON form: a placeholder inside a JSON string is escaped as string
// content, and one outside strings must fill in a number, true, false or
// null ({{raw name}} inserts a piece of JSON as it is); New's checks of an
// HTTP step's JSON body apply.
func ParseJSON(what, s string) (*Template, error) {
	t, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	if err := t.forBody("application/json"); err != nil {
		return nil, err
	}
	t.where = what
	return &Template{t}, nil
}

// Uses returns the names of the values the template reads, the built-in
// ones left out, in order, each once.
func (t *Template) Uses() []string {
	var names []string
	t.t.names(func(n string) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	})
	return names
}

// String returns the template as it was written.
func (t *Template) String() string { return t.t.src }

// Fill returns the template filled from vu's values; an error names the
// placeholder with no value or a value that cannot stand where it is.
func (t *Template) Fill(vu *VU) (string, error) {
	b, err := t.t.fill(nil, vu)
	return string(b), err
}

// AppendFill appends the filled template to dst, for a step that reuses
// its buffer.
func (t *Template) AppendFill(dst []byte, vu *VU) ([]byte, error) { return t.t.fill(dst, vu) }

func builtin(name string) bool { return name == builtinVUID || name == builtinVUIteration }
