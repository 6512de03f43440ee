package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/internal/table"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// Threshold is a pass/fail criterion on one figure of a run, such as
// "p95 < 500ms" or "apply: error_rate < 1%". Parse one with
// [ParseThreshold], or build one in Go
// ([OnLatency]("apply", [Quantile](0.95)).Below(500*time.Millisecond)):
// both give the same value.
type Threshold struct {
	// Selector picks the rows the threshold looks at ("" for every
	// scenario's iterations).
	Selector Selector
	// Metric is the figure bounded.
	Metric Metric
	// Op compares the figure with Value.
	Op Op
	// Value is the bound in the metric's unit: nanoseconds for latencies,
	// per second for rates, a fraction for shares, a count otherwise.
	Value float64
}

// String returns the threshold in the syntax ParseThreshold reads back
// exactly.
func (t Threshold) String() string {
	s := t.Metric.String() + t.Op.String() + t.Metric.literal(t.Value)
	if t.Selector != "" {
		s = string(t.Selector) + ": " + s
	}
	return s
}

// Validate reports every problem with t at once: a selector that does not
// parse, a metric or operator that is not one, a bound that is not a
// finite number of the metric's unit or is beyond what ParseThreshold
// reads (a latency above the largest duration, a count above 2^53-1).
func (t Threshold) Validate() error {
	var errs []error
	if err := t.Selector.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := t.Metric.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := t.Op.validate(); err != nil {
		errs = append(errs, err)
	}
	u := t.Metric.Unit()
	switch {
	case math.IsNaN(t.Value) || math.IsInf(t.Value, 0) || t.Value < 0:
		errs = append(errs, fmt.Errorf("report: threshold bound must be a finite number >= 0, got %v", t.Value))
	case (u == UnitCount || u == UnitDuration) && t.Value != math.Trunc(t.Value):
		errs = append(errs, fmt.Errorf("report: a bound on %s must be a whole number, got %v", t.Metric, t.Value))
	case u == UnitDuration && t.Value > maxLatency:
		errs = append(errs, fmt.Errorf("report: a bound on %s must be at most %v (the largest duration), got %v ns",
			t.Metric, time.Duration(math.MaxInt64), strconv.FormatFloat(t.Value, 'f', -1, 64)))
	case u == UnitCount && t.Value > maxCount:
		errs = append(errs, fmt.Errorf("report: a bound on %s must be at most %d, got %v",
			t.Metric, uint64(maxCount), strconv.FormatFloat(t.Value, 'f', -1, 64)))
	}
	return errors.Join(errs...)
}

// The largest bounds: of a latency, the largest duration (2^63-1 ns,
// which is 2^63 as a float64); of a count, the largest whole number a
// float64 holds exactly along with every smaller one.
const (
	maxLatency = float64(math.MaxInt64)
	maxCount   = 1<<53 - 1
)

// Bound is a metric of a selection, waiting for its bound; see [On].
type Bound struct {
	sel Selector
	m   Metric
}

// LatencyBound is a latency metric of a selection, waiting for its bound
// as a duration; see [OnLatency].
type LatencyBound Bound

// On starts a threshold on metric m of what sel selects, bounded by a
// number in m's unit: On("", ErrorRate()).Below(0.01),
// On("checkout", Status(503)).AtMost(0). For a latency, [OnLatency] takes
// the bound as a duration.
func On(sel Selector, m Metric) Bound { return Bound{sel, m} }

// OnLatency starts a threshold on the latency metric m of what sel
// selects, bounded by a duration: OnLatency("apply", Quantile(0.95)).Below(500*time.Millisecond).
func OnLatency(sel Selector, m Metric) LatencyBound { return LatencyBound{sel, m} }

// Below is the threshold "metric < d".
func (b LatencyBound) Below(d time.Duration) Threshold {
	return Threshold{b.sel, b.m, Less, float64(d)}
}

// AtMost is the threshold "metric <= d".
func (b LatencyBound) AtMost(d time.Duration) Threshold {
	return Threshold{b.sel, b.m, LessOrEqual, float64(d)}
}

// Above is the threshold "metric > d".
func (b LatencyBound) Above(d time.Duration) Threshold {
	return Threshold{b.sel, b.m, Greater, float64(d)}
}

// AtLeast is the threshold "metric >= d".
func (b LatencyBound) AtLeast(d time.Duration) Threshold {
	return Threshold{b.sel, b.m, GreaterOrEqual, float64(d)}
}

// Below is the threshold "metric < v".
func (b Bound) Below(v float64) Threshold { return Threshold{b.sel, b.m, Less, v} }

// AtMost is the threshold "metric <= v".
func (b Bound) AtMost(v float64) Threshold { return Threshold{b.sel, b.m, LessOrEqual, v} }

// Above is the threshold "metric > v".
func (b Bound) Above(v float64) Threshold { return Threshold{b.sel, b.m, Greater, v} }

// AtLeast is the threshold "metric >= v".
func (b Bound) AtLeast(v float64) Threshold { return Threshold{b.sel, b.m, GreaterOrEqual, v} }

// SyntaxError is a threshold expression that does not parse; Pos is the
// byte offset of the offending character.
type SyntaxError struct {
	Input string
	Pos   int
	Msg   string
}

// Error quotes the input and points at the character.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("report: threshold %q: at column %d: %s\n\t%s\n\t%s^", e.Input, e.Pos+1, e.Msg, e.Input, strings.Repeat(" ", e.Pos))
}

// ParseThreshold parses a threshold expression; see the package
// documentation for the grammar.
func ParseThreshold(s string) (Threshold, error) {
	fail := func(pos int, format string, args ...any) (Threshold, error) {
		return Threshold{}, &SyntaxError{Input: s, Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
	var t Threshold
	body, off := s, 0
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		sel := strings.TrimSpace(s[:i])
		if sel == "" {
			return fail(i, "empty selector before ':' (leave out the ':' for every scenario)")
		}
		t.Selector = Selector(sel)
		if err := t.Selector.Validate(); err != nil {
			return fail(strings.Index(s, sel), "%s", strings.TrimPrefix(err.Error(), "report: "))
		}
		body, off = s[i+1:], i+1
	}
	p := skipSpace(body, 0)
	start := p
	for p < len(body) && (isAlnum(body[p]) || body[p] == '_' || body[p] == '.' || body[p] == '(' || body[p] == ')') {
		p++
	}
	name := body[start:p]
	if name == "" {
		return fail(off+start, "expected a metric (%s)", metricNames)
	}
	m, err := t.Selector.ParseMetric(name)
	if err != nil {
		return fail(off+start, "%s", strings.TrimPrefix(err.Error(), "report: "))
	}
	t.Metric = m
	p = skipSpace(body, p)
	switch {
	case strings.HasPrefix(body[p:], "<="):
		t.Op, p = LessOrEqual, p+2
	case strings.HasPrefix(body[p:], ">="):
		t.Op, p = GreaterOrEqual, p+2
	case strings.HasPrefix(body[p:], "<"):
		t.Op, p = Less, p+1
	case strings.HasPrefix(body[p:], ">"):
		t.Op, p = Greater, p+1
	default:
		return fail(off+p, "expected an operator: <, <=, > or >=")
	}
	p = skipSpace(body, p)
	vs := strings.TrimSpace(body[p:])
	if vs == "" {
		return fail(off+p, "expected a value")
	}
	v, err := parseValue(m, vs)
	if err != nil {
		return fail(off+p, "%s", err)
	}
	t.Value = v
	if err := t.Validate(); err != nil {
		return fail(off+p, "%s", strings.TrimPrefix(err.Error(), "report: "))
	}
	return t, nil
}

// parseValue reads a bound in the unit of m.
func parseValue(m Metric, vs string) (float64, error) {
	finite := func(v float64, err error) bool { return err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }
	switch m.Unit() {
	case UnitDuration:
		d, err := time.ParseDuration(vs)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("expected a duration such as 500ms or 1.5s, got %q", vs)
		}
		return float64(d), nil
	case UnitFraction:
		num, pct := strings.CutSuffix(vs, "%")
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if !finite(v, err) {
			return 0, fmt.Errorf("expected a percentage such as 1%% or a fraction such as 0.01, got %q", vs)
		}
		if pct {
			v /= 100
		}
		return v, nil
	case UnitRate:
		num, ok := strings.CutSuffix(vs, "/s")
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if !ok || !finite(v, err) {
			return 0, fmt.Errorf("expected a rate such as 100/s, got %q", vs)
		}
		return v, nil
	}
	v, err := strconv.ParseUint(vs, 10, 53) // up to maxCount
	if err != nil {
		return 0, fmt.Errorf("expected a whole number, got %q", vs)
	}
	return float64(v), nil
}

// MustParseThresholds parses expressions known at compile time; it panics
// on a syntax error.
func MustParseThresholds(exprs ...string) []Threshold {
	ts, err := ParseThresholds(exprs...)
	if err != nil {
		panic(err)
	}
	return ts
}

// ParseThresholds parses every expression, reporting every error at once.
func ParseThresholds(exprs ...string) ([]Threshold, error) {
	var ts []Threshold
	var errs []error
	for _, e := range exprs {
		t, err := ParseThreshold(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ts = append(ts, t)
	}
	return ts, errors.Join(errs...)
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Verdict is the outcome of checking one threshold.
type Verdict struct {
	Threshold Threshold
	// Actual is the measured value, in the metric's unit.
	Actual float64
	Pass   bool
	// NoData is set when nothing was recorded for the metric (a latency
	// of steps that never succeeded, say): the threshold fails, it is not
	// silently passed.
	NoData bool
	// Err is set when the threshold cannot be checked on this run: it does
	// not validate, its selector matches nothing, or its metric does not
	// apply to what it selects. The threshold fails.
	Err error
}

// ActualString formats Actual in the metric's unit.
func (v Verdict) ActualString() string {
	switch {
	case v.Err != nil:
		return "error"
	case v.NoData:
		return "no data"
	}
	return v.Threshold.Metric.Format(v.Actual)
}

// Verdicts are the outcomes of a set of thresholds.
type Verdicts []Verdict

// Passed reports whether every verdict passed.
func (vs Verdicts) Passed() bool {
	for _, v := range vs {
		if !v.Pass {
			return false
		}
	}
	return true
}

// Failed returns the verdicts that did not pass.
func (vs Verdicts) Failed() Verdicts {
	var out Verdicts
	for _, v := range vs {
		if !v.Pass {
			out = append(out, v)
		}
	}
	return out
}

// Err joins the errors of the thresholds that could not be checked.
func (vs Verdicts) Err() error {
	var errs []error
	for _, v := range vs {
		if v.Err != nil {
			errs = append(errs, fmt.Errorf("threshold %s: %w", v.Threshold, v.Err))
		}
	}
	return errors.Join(errs...)
}

func (vs Verdicts) table() *table.Table {
	return table.Verdicts(len(vs), func(i int) (string, string, bool, error) {
		return vs[i].Threshold.String(), vs[i].ActualString(), vs[i].Pass, vs[i].Err
	})
}

// WriteText writes the verdicts as an aligned table.
func (vs Verdicts) WriteText(w io.Writer) error {
	var b strings.Builder
	vs.table().Text(&b, "  ")
	return format.WriteText(w, b.String())
}

// WriteMarkdown writes the verdicts as a Markdown table.
func (vs Verdicts) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	vs.table().Markdown(&b)
	return format.WriteMarkdown(w, b.String())
}

// resultSource reads a finished run: every key's totals over the measured
// window (the warm-up left out), with its rates over the load window.
func resultSource(res *loadgen.Result) rowSource {
	snap := res.Metrics
	var src rowSource
	from, to, whole := loadWindow(res)
	for _, m := range snap.Series {
		src.keys = append(src.keys, m.Key)
	}
	src.stats = func(i int) *metrics.Stats { return &snap.Series[i].Total }
	src.basis = func(i int) RateBasis { return rateBasis(&snap.Series[i], snap.Interval, from, to, whole) }
	return src
}

func (src rowSource) check(t Threshold) Verdict {
	v := Verdict{Threshold: t}
	if err := t.Validate(); err != nil {
		v.Err = err
		return v
	}
	actual, ok, err := src.eval(t.Selector, t.Metric)
	switch {
	case err != nil:
		v.Err = err
	case !ok:
		v.NoData = true
	default:
		v.Actual = actual
		v.Pass = t.Op.Holds(actual, t.Value)
	}
	return v
}

// Check checks thresholds against a finished run (the measured window,
// warm-up excluded; rates over the load window, see [LoadWindow]) and
// returns one verdict per threshold, in order. A
// threshold that cannot be checked fails, with its reason in Verdict.Err
// (see [Verdicts.Err]).
func Check(res *loadgen.Result, ts ...Threshold) Verdicts {
	src := resultSource(res)
	out := make(Verdicts, len(ts))
	for i, t := range ts {
		out[i] = src.check(t)
	}
	return out
}

// AbortOn returns a [loadgen.Plan.AbortWhen] hook that stops a run as soon
// as one of the thresholds fails on the running totals (warm-up excluded),
// but not before delay has passed since the start, so that early noise does
// not end a run. A threshold with no data yet does not abort; one that
// cannot be checked (a selector that matches nothing) aborts at once,
// saying why.
func AbortOn(delay time.Duration, ts ...Threshold) func(*loadgen.Progress) string {
	return func(p *loadgen.Progress) string {
		if p.Elapsed < delay || p.Warmup {
			return ""
		}
		var src rowSource
		for _, m := range p.Series {
			src.keys = append(src.keys, m.Key)
		}
		src.stats = func(i int) *metrics.Stats { return &p.Series[i].Total }
		// The running totals' rates are over the time measured so far.
		src.basis = func(i int) RateBasis { return RateBasis{Outcomes: p.Series[i].Total.Outcomes, Span: p.Measured} }
		for _, t := range ts {
			v := src.check(t)
			switch {
			case v.Err != nil:
				return fmt.Sprintf("threshold %s cannot be checked: %v", t, v.Err)
			case !v.Pass && !v.NoData:
				return fmt.Sprintf("threshold %s failed: %s", t, v.ActualString())
			}
		}
		return ""
	}
}
