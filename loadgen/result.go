package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/stampede-go/stampede/internal/jsonfmt"
	"github.com/stampede-go/stampede/internal/save"
	"github.com/stampede-go/stampede/metrics"
)

// ResultVersion is the version of the Result JSON format. Version 5
// holds the metrics in their format version 3, each series' points in one
// compact block (see [metrics.Version]); version 4 records what a merged
// run is made of (Segments, Missing); version 3 the generator's health
// (see [Generator]); version 2 keeps the latency of failed operations
// apart. [ReadResult] reads versions 1 to 4 too.
const ResultVersion = 5

// Result is everything a run recorded. It is plain data: it encodes to
// versioned JSON ([Result.WriteJSON], [ReadResult]) and results of the
// segments of one plan merge exactly ([Merge]).
type Result struct {
	// Version is [ResultVersion].
	Version int `json:"version"`
	// Plan describes what ran.
	Plan PlanInfo `json:"plan"`
	// Segment is the share of the plan this result holds.
	Segment Segment `json:"segment"`
	// Start is when the run started (StartAt, if the plan set one); End is
	// when its last iteration ended.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// StartLate is how late this process reached the plan's StartAt (of
	// a merged run: the latest of its segments).
	StartLate time.Duration `json:"start_late_ns,omitempty"`
	// Segments are the segments a merged run is made of, by index (see
	// [Merge]); nil for the run of one process.
	Segments []SegmentRecord `json:"segments,omitempty"`
	// Missing are the segments a partial merge went without (see
	// [MergePartial]): their share of the load is in no figure.
	Missing []Segment `json:"missing,omitempty"`
	// Metrics holds every metric: per scenario the iterations
	// (metrics.KindIteration: completed, failed, interrupted and dropped
	// ones, latency from the intended start) and for open models the
	// schedule lag; per step whatever the iteration recorded.
	Metrics *metrics.Snapshot `json:"metrics"`
	// Events is the timeline, in plan order.
	Events []EventRecord `json:"events,omitempty"`
	// Errors holds a few example messages per scenario and outcome.
	Errors []ErrorSample `json:"errors,omitempty"`
	// Panics holds the first few panics recovered from user code.
	Panics []PanicSample `json:"panics,omitempty"`
	// MorePanics counts the distinct panics beyond those kept in Panics.
	MorePanics int64 `json:"more_panics,omitempty"`
	// GaugeNonFinite counts, per gauge, the samples that were NaN or
	// infinite: they are left out of the gauge's series.
	GaugeNonFinite map[string]int64 `json:"gauge_non_finite,omitempty"`
	// Aborted is set when Plan.AbortWhen stopped the run, with its reason.
	Aborted     bool   `json:"aborted,omitempty"`
	AbortReason string `json:"abort_reason,omitempty"`
	// Interrupted is set when the run's context was cancelled, with the cause.
	Interrupted bool   `json:"interrupted,omitempty"`
	Cause       string `json:"cause,omitempty"`
	// Generators describes the processes that generated the load, one per
	// segment; empty in results of format version 2 and before, which did
	// not record the generator's health.
	Generators []Generator `json:"generators,omitempty"`
}

// PlanInfo describes a plan as data.
type PlanInfo struct {
	Name      string         `json:"name,omitempty"`
	Interval  time.Duration  `json:"interval_ns"`
	Warmup    time.Duration  `json:"warmup_ns"`
	Duration  time.Duration  `json:"duration_ns"`
	Scenarios []ScenarioInfo `json:"scenarios"`
	Events    []string       `json:"events,omitempty"`
	Gauges    []string       `json:"gauges,omitempty"`
}

// ScenarioInfo describes one scenario and its executor.
type ScenarioInfo struct {
	Name         string          `json:"name"`
	Executor     string          `json:"executor"`    // its kind, e.g. "constant-rate"
	Description  string          `json:"description"` // its String()
	Config       json.RawMessage `json:"config"`      // its fields
	StartAfter   time.Duration   `json:"start_after_ns"`
	GracefulStop time.Duration   `json:"graceful_stop_ns"`
	Open         bool            `json:"open"`
}

// EventRecord is one timeline event as it happened.
type EventRecord struct {
	Name    string        `json:"name"`
	Offset  time.Duration `json:"offset_ns"`         // planned offset from the start
	At      time.Time     `json:"at"`                // when it ran
	Took    time.Duration `json:"took_ns"`           // how long Do took
	Error   string        `json:"error,omitempty"`   // Do's error or panic
	Skipped bool          `json:"skipped,omitempty"` // the run ended before its offset
}

// ErrorSample is an example error message.
type ErrorSample struct {
	Scenario string `json:"scenario"`
	Outcome  string `json:"outcome"`
	Message  string `json:"message"`
}

// PanicSample is a recovered panic with its stack.
type PanicSample struct {
	// Scenario is the scenario whose code panicked, "" for the plan's own
	// hooks, gauges and events.
	Scenario string `json:"scenario"`
	// Where names the code: "iteration", "teardown", "gauge NAME",
	// "event NAME", "OnInterval" or "AbortWhen" ("" in older files).
	Where string `json:"where,omitempty"`
	Value string `json:"value"`
	Stack string `json:"stack"`
	// Count is how many times code there panicked with this value (the
	// stack is the first one's); 0 in older files means once.
	Count int64 `json:"count,omitempty"`
}

func describe(p *Plan) PlanInfo {
	info := PlanInfo{
		Name:     p.Name,
		Interval: orDefault(p.Interval, time.Second),
		Warmup:   p.Warmup,
		Duration: p.Duration(),
	}
	for _, s := range p.Scenarios {
		cfg, err := json.Marshal(s.Executor) // this package's executors are plain numbers
		if err != nil {
			cfg = nil // an executor of the user's that is not data: its description says what it was
		}
		info.Scenarios = append(info.Scenarios, ScenarioInfo{
			Name: s.Name, Executor: s.Executor.Kind(), Description: s.Executor.String(), Config: cfg,
			StartAfter: s.StartAfter, GracefulStop: s.gracefulStop(), Open: isOpen(s.Executor),
		})
	}
	for _, e := range p.Events {
		info.Events = append(info.Events, e.Name)
	}
	for _, g := range p.Gauges {
		info.Gauges = append(info.Gauges, g.Name)
	}
	return info
}

// Scenario returns the info of the scenario called name, or nil.
func (p *PlanInfo) Scenario(name string) *ScenarioInfo {
	for i := range p.Scenarios {
		if p.Scenarios[i].Name == name {
			return &p.Scenarios[i]
		}
	}
	return nil
}

// Iterations returns the totals of a scenario's iterations (warm-up
// excluded): Outcomes counts completed (ok), failed (error classes),
// interrupted and dropped ones.
func (r *Result) Iterations(scenario string) metrics.Stats {
	if m := r.Metrics.SeriesOf(metrics.Key{Scenario: scenario, Kind: metrics.KindIteration}); m != nil {
		return m.Total
	}
	return metrics.Stats{}
}

// Duration returns End - Start.
func (r *Result) Duration() time.Duration { return r.End.Sub(r.Start) }

// WriteJSON writes the result in its versioned JSON format: the fields of
// [Result] with the metrics in the format of [metrics.Snapshot.WriteJSON].
func (r *Result) WriteJSON(w io.Writer) error {
	c := *r
	c.Version = ResultVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(&c); err != nil {
		return fmt.Errorf("loadgen: writing result: %w", err)
	}
	return nil
}

// SaveJSON writes the result to a file in its JSON format (see
// [Result.WriteJSON]); [LoadResult] reads it back.
func (r *Result) SaveJSON(path string) error {
	if err := save.File(path, r.WriteJSON); err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	return nil
}

// LoadResult reads a result file written by [Result.SaveJSON] (see
// [ReadResult]).
func LoadResult(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	defer f.Close()
	res, err := ReadResult(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// ErrResultVersion is returned (wrapped) by ReadResult for JSON of another
// format version.
var ErrResultVersion = errors.New("loadgen: unsupported result format version")

// ReadResult reads a Result written by WriteJSON, checking it.
func ReadResult(rd io.Reader) (*Result, error) {
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("loadgen: reading result: %w", err)
	}
	if _, err := jsonfmt.Version(b, ErrResultVersion, 1, 2, 3, 4, ResultVersion); err != nil {
		if errors.Is(err, ErrResultVersion) {
			return nil, err
		}
		return nil, fmt.Errorf("loadgen: reading result: %w", err)
	}
	var r Result
	if err := jsonfmt.StrictBytes(b, &r); err != nil {
		return nil, fmt.Errorf("loadgen: reading result: %w", err)
	}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("loadgen: reading result: %w", err)
	}
	r.Version = ResultVersion
	return &r, nil
}

// validate checks what a decoded Result must satisfy for reports and
// merges to work on it.
func (r *Result) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if r.Metrics == nil {
		return errors.New("no metrics")
	}
	if err := r.Segment.Validate(); err != nil {
		errs = append(errs, err)
	}
	if r.End.Before(r.Start) {
		bad("end %v is before start %v", r.End, r.Start)
	}
	if r.StartLate < 0 {
		bad("start_late_ns must be >= 0, got %d", r.StartLate)
	}
	if len(r.Segments)+len(r.Missing) > 0 {
		// A merge: its segments and those missing are the whole of one
		// split, each once, and the merge itself is the whole plan.
		n := 0
		if len(r.Segments) > 0 {
			n = r.Segments[0].Segment.Count
		}
		if len(r.Segments) == 0 || n < 2 || !r.Segment.IsWhole() {
			bad("segments: a merge lists at least one segment of a split into 2 or more, and is itself the whole plan (segment %v)", r.Segment)
		}
		seen := map[int]bool{}
		check := func(field string, i int, s Segment) {
			switch {
			case s.Count != n || s.Validate() != nil:
				bad("%s[%d] must be a segment of %d, got %v", field, i, n, s)
			case seen[s.Index]:
				bad("%s[%d] (%v) is listed twice", field, i, s)
			}
			seen[s.Index] = true
		}
		for i, s := range r.Segments {
			check("segments", i, s.Segment)
			if s.StartLate < 0 {
				bad("segments[%d].start_late_ns must be >= 0, got %d", i, s.StartLate)
			}
		}
		for i, s := range r.Missing {
			check("missing", i, s)
		}
		if n >= 2 && len(seen) != n {
			bad("segments and missing must cover all %d segments, got %d", n, len(seen))
		}
	}
	p := r.Plan
	if p.Interval != r.Metrics.Interval {
		bad("plan interval_ns %d differs from the metrics' %d", p.Interval, r.Metrics.Interval)
	}
	if p.Warmup != r.Metrics.Warmup {
		bad("plan warmup_ns %d differs from the metrics' %d", p.Warmup, r.Metrics.Warmup)
	}
	if p.Duration < 0 {
		bad("plan duration_ns must be >= 0, got %d", p.Duration)
	}
	names := map[string]bool{}
	for i, s := range p.Scenarios {
		if s.Name == "" || names[s.Name] {
			bad("plan scenario %d: name %q must be non-empty and unique", i, s.Name)
		}
		names[s.Name] = true
		if s.StartAfter < 0 || s.GracefulStop < 0 {
			bad("plan scenario %q: start_after_ns and graceful_stop_ns must be >= 0", s.Name)
		}
	}
	for i, e := range r.Events {
		if e.Offset < 0 || e.Took < 0 {
			bad("event %d (%q): offset_ns and took_ns must be >= 0", i, e.Name)
		}
	}
	for i, pn := range r.Panics {
		if pn.Count < 0 {
			bad("panic %d: count must be >= 0, got %d", i, pn.Count)
		}
	}
	if r.MorePanics < 0 {
		bad("more_panics must be >= 0, got %d", r.MorePanics)
	}
	for i, g := range r.Generators {
		if g.Procs < 0 || g.CPUs < 0 || g.ClockResolution < 0 || g.TimerLateness < 0 || g.CPUTime < 0 {
			bad("generator %d: gomaxprocs, cpus and the durations must be >= 0", i)
		}
	}
	for name, n := range r.GaugeNonFinite {
		if n < 0 {
			bad("gauge_non_finite[%q] must be >= 0, got %d", name, n)
		}
	}
	return errors.Join(errs...)
}

// SegmentRecord is one segment of a merged run: which it was, how late
// its process reached the plan's StartAt (the clock skew between the
// processes shows here), and when its last iteration ended.
type SegmentRecord struct {
	Segment   Segment       `json:"segment"`
	StartLate time.Duration `json:"start_late_ns,omitempty"`
	End       time.Time     `json:"end"`
}

// Partial reports whether the result is a merge that went without some
// of its segments (see [MergePartial]).
func (r *Result) Partial() bool { return len(r.Missing) > 0 }

// Merge combines the results of the segments of one run into the result
// the whole plan would have produced: metrics merge exactly (see
// [metrics.Merge]), events, errors and panics are gathered. It refuses
// results of different plans, segment counts that do not match, segments
// given twice, missing segments and segments of different runs, saying
// which. The merged result lists its segments (Segments), each with how
// late it started and when it ended.
//
// The segments of one run start together: each sets the same
// [Plan.StartAt], and its Result starts at StartAt even when the process
// reached it late (StartLate says by how much). So their starts must be
// equal, to the nanosecond, with no tolerance: processes that each
// started when they were launched, without a StartAt, start a fraction of
// an interval apart and their series do not line up; started whole
// intervals apart, they are different runs.
func Merge(results ...*Result) (*Result, error) { return merge(results, false) }

// MergePartial is [Merge] for a run some of whose segments are lost (a
// pod that died, a file not copied out): it merges those given, at least
// one, and records the others as Missing. The figures then hold only the
// given segments' share of the load; every report of it says so, and a
// comparison with it warns. Everything
// else Merge refuses, MergePartial refuses too.
func MergePartial(results ...*Result) (*Result, error) { return merge(results, true) }

func merge(results []*Result, partial bool) (*Result, error) {
	if len(results) == 0 {
		return nil, errors.New("loadgen: Merge needs at least one result")
	}
	if results[0] == nil {
		return nil, errors.New("loadgen: result 0 is nil")
	}
	n := results[0].Segment.count()
	if len(results) != n && !(partial && len(results) < n) {
		return nil, fmt.Errorf("loadgen: results are segments of %d, got %d results", n, len(results))
	}
	var m Merger
	for _, r := range results {
		if err := m.Add(r); err != nil {
			return nil, err
		}
	}
	if partial {
		return m.PartialResult()
	}
	return m.Result()
}

// A Merger merges the results of a run's segments one at a time into the
// result [Merge] would make of them all, holding only the merge so far
// (see [metrics.Merger]): a program merging the files of many processes
// reads one, adds it and lets it go. It checks each result as Merge does
// when it is added; what it refuses leaves the merge as it was. The zero
// Merger is ready to use; a Merger is not safe for concurrent use.
type Merger struct {
	tried   int       // results given to Add: errors number them so
	added   int       // results added
	plan    []byte    // the first's plan, encoded
	start   time.Time // the first's start
	first   Segment   // the first's segment
	seen    []bool    // by segment index
	out     Result    // the merge so far, but its metrics
	records []SegmentRecord
	metrics metrics.Merger
}

// Add merges r into the merge so far, or returns an error saying why it
// does not belong: a different plan or split, a segment given twice, a
// result that is itself a merge, a different start. Errors number the
// results in the order they were given to Add, refused ones too.
func (m *Merger) Add(r *Result) error {
	i := m.tried
	m.tried++
	if r == nil || r.Metrics == nil {
		return fmt.Errorf("loadgen: result %d is nil or has no metrics", i)
	}
	if err := r.Segment.Validate(); err != nil {
		return fmt.Errorf("%w (result %d)", err, i)
	}
	if len(r.Segments) > 0 || len(r.Missing) > 0 {
		return fmt.Errorf("loadgen: result %d is itself a merge of segments: merge the segments' own results", i)
	}
	plan, _ := json.Marshal(r.Plan)
	if m.added > 0 {
		n := len(m.seen)
		switch {
		case !bytes.Equal(plan, m.plan):
			return fmt.Errorf("loadgen: result %d (segment %v) ran a different plan than the first (segment %v)", i, r.Segment, m.first)
		case r.Segment.count() != n:
			return fmt.Errorf("loadgen: result %d is segment %v, the first is of %d segments", i, r.Segment, n)
		case m.seen[r.Segment.Index]:
			return fmt.Errorf("loadgen: segment %v appears twice", r.Segment)
		case !r.Start.Equal(m.start):
			return fmt.Errorf("loadgen: result %d (segment %v) started at %s, the first (segment %v) at %s: segments of one run start together (give every segment the same Plan.StartAt)",
				i, r.Segment, r.Start.UTC().Format(time.RFC3339Nano), m.first, m.start.UTC().Format(time.RFC3339Nano))
		}
	}
	if err := m.metrics.Add(r.Metrics); err != nil {
		return fmt.Errorf("loadgen: result %d: %w", i, err)
	}
	if m.added == 0 {
		m.plan, m.start, m.first, m.seen = plan, r.Start, r.Segment, make([]bool, r.Segment.count())
		m.out = Result{Version: ResultVersion, Plan: r.Plan, Start: r.Start, End: r.End}
	}
	m.seen[r.Segment.Index] = true
	m.added++
	out := &m.out
	if r.End.After(out.End) {
		out.End = r.End
	}
	out.StartLate = max(out.StartLate, r.StartLate)
	out.Events = append(out.Events, r.Events...)
	out.Errors = append(out.Errors, r.Errors...)
	out.Panics = append(out.Panics, r.Panics...)
	out.MorePanics += r.MorePanics
	out.Generators = append(out.Generators, r.Generators...)
	for name, n := range r.GaugeNonFinite {
		if out.GaugeNonFinite == nil {
			out.GaugeNonFinite = map[string]int64{}
		}
		out.GaugeNonFinite[name] += n
	}
	if r.Aborted {
		out.Aborted = true
		out.AbortReason = joinReason(out.AbortReason, fmt.Sprintf("segment %v: %s", r.Segment, r.AbortReason))
	}
	if r.Interrupted {
		out.Interrupted = true
		out.Cause = joinReason(out.Cause, fmt.Sprintf("segment %v: %s", r.Segment, r.Cause))
	}
	m.records = append(m.records, SegmentRecord{Segment: r.Segment, StartLate: r.StartLate, End: r.End})
	return nil
}

// Result returns the merge of the results added (see [Merge]); a segment
// not added is an error naming it.
func (m *Merger) Result() (*Result, error) { return m.result(false) }

// PartialResult returns the merge of the results added, at least one,
// recording the segments not added as Missing (see [MergePartial]).
func (m *Merger) PartialResult() (*Result, error) { return m.result(true) }

func (m *Merger) result(partial bool) (*Result, error) {
	if m.added == 0 {
		return nil, errors.New("loadgen: Merge needs at least one result")
	}
	out := m.out // its slices grow only by append: the Merger can go on
	out.Missing = nil
	n := len(m.seen)
	for i, ok := range m.seen {
		switch {
		case ok:
		case partial:
			out.Missing = append(out.Missing, Segment{Index: i, Count: n})
		default:
			return nil, fmt.Errorf("loadgen: segment %v is missing (MergePartial merges without it)", Segment{Index: i, Count: n})
		}
	}
	if n > 1 {
		out.Segments = slices.Clone(m.records)
		slices.SortFunc(out.Segments, func(a, b SegmentRecord) int { return a.Segment.Index - b.Segment.Index })
	}
	out.Events = slices.Clone(out.Events)
	out.Errors, out.Panics, out.Generators = slices.Clone(out.Errors), slices.Clone(out.Panics), slices.Clone(out.Generators)
	slices.SortStableFunc(out.Events, func(a, b EventRecord) int { return int(a.Offset - b.Offset) })
	out.GaugeNonFinite = maps.Clone(out.GaugeNonFinite)
	mt, err := m.metrics.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	out.Metrics = mt
	return &out, nil
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
