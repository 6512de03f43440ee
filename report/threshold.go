package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// Threshold is a pass/fail criterion on one figure of a run, such as
// "p95 < 500ms" or "apply: error_rate < 1%". Build one in Go with [P95],
// [ErrorRate] and friends, or parse one with [ParseThreshold].
type Threshold struct {
	// Selector picks what the threshold looks at: "" for every scenario's
	// iterations together, "scenario/step" for one step, a step name for
	// that step in every scenario, or a scenario name for its iterations.
	Selector string
	// Metric is "p50" … "p99.9" (any "pN"), "median", "mean", "min",
	// "max", "error_rate", "rate", "count" or "errors".
	Metric string
	// Op is "<", "<=", ">" or ">=".
	Op string
	// Value is the bound in the metric's unit: nanoseconds for latencies,
	// a fraction for error_rate, per second for rate, a count otherwise.
	Value float64
}

// String returns the threshold in the syntax ParseThreshold reads.
func (t Threshold) String() string {
	s := t.Metric + t.Op + formatValue(t.Metric, t.Value)
	if t.Selector != "" {
		s = t.Selector + ": " + s
	}
	return s
}

func formatValue(metric string, v float64) string {
	switch kindOf(metric) {
	case latencyMetric:
		return time.Duration(v).String()
	case ratioMetric:
		return strconv.FormatFloat(100*v, 'g', -1, 64) + "%"
	case rateMetric:
		return strconv.FormatFloat(v, 'g', -1, 64) + "/s"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

type metricKind int

const (
	unknownMetric metricKind = iota
	latencyMetric
	ratioMetric
	rateMetric
	countMetric
)

func kindOf(m string) metricKind {
	switch m {
	case "median", "mean", "min", "max":
		return latencyMetric
	case "error_rate":
		return ratioMetric
	case "rate":
		return rateMetric
	case "count", "errors":
		return countMetric
	}
	if q, ok := quantileOf(m); ok && q >= 0 && q <= 1 {
		return latencyMetric
	}
	return unknownMetric
}

// quantileOf reads "p95" as 0.95 and "p99.9" as 0.999.
func quantileOf(m string) (float64, bool) {
	if len(m) < 2 || m[0] != 'p' {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1:], 64)
	if err != nil || strings.ContainsAny(m[1:], "eE+-") {
		return 0, false
	}
	return v / 100, true
}

// LatencyMetric is a latency figure of a selection, to be bounded.
type LatencyMetric struct{ sel, metric string }

// Quantile selects the latency at quantile q (0.95 for p95) of sel.
func Quantile(q float64, sel string) LatencyMetric {
	return LatencyMetric{sel, "p" + strconv.FormatFloat(q*100, 'f', -1, 64)}
}

// P50 selects the median latency of sel, a selector as in
// [Threshold.Selector].
func P50(sel string) LatencyMetric { return LatencyMetric{sel, "p50"} }

// P90 selects the 90th percentile latency of sel.
func P90(sel string) LatencyMetric { return LatencyMetric{sel, "p90"} }

// P95 selects the 95th percentile latency of sel.
func P95(sel string) LatencyMetric { return LatencyMetric{sel, "p95"} }

// P99 selects the 99th percentile latency of sel.
func P99(sel string) LatencyMetric { return LatencyMetric{sel, "p99"} }

// P999 selects the 99.9th percentile latency of sel.
func P999(sel string) LatencyMetric { return LatencyMetric{sel, "p99.9"} }

// Median selects the median latency of sel.
func Median(sel string) LatencyMetric { return LatencyMetric{sel, "median"} }

// Mean selects the exact mean latency of sel.
func Mean(sel string) LatencyMetric { return LatencyMetric{sel, "mean"} }

// Max selects the exact maximum latency of sel.
func Max(sel string) LatencyMetric { return LatencyMetric{sel, "max"} }

// Below is the threshold "metric < d".
func (m LatencyMetric) Below(d time.Duration) Threshold {
	return Threshold{m.sel, m.metric, "<", float64(d)}
}

// AtMost is the threshold "metric <= d".
func (m LatencyMetric) AtMost(d time.Duration) Threshold {
	return Threshold{m.sel, m.metric, "<=", float64(d)}
}

// ValueMetric is a rate, ratio or count figure of a selection.
type ValueMetric struct{ sel, metric string }

// ErrorRate selects the error rate (a fraction: 0.01 is 1 %) of sel.
func ErrorRate(sel string) ValueMetric { return ValueMetric{sel, "error_rate"} }

// Throughput selects the rate (operations per second) of sel.
func Throughput(sel string) ValueMetric { return ValueMetric{sel, "rate"} }

// Count selects the number of operations of sel.
func Count(sel string) ValueMetric { return ValueMetric{sel, "count"} }

// Errors selects the number of failed operations of sel.
func Errors(sel string) ValueMetric { return ValueMetric{sel, "errors"} }

// Below is the threshold "metric < v".
func (m ValueMetric) Below(v float64) Threshold { return Threshold{m.sel, m.metric, "<", v} }

// AtMost is the threshold "metric <= v".
func (m ValueMetric) AtMost(v float64) Threshold { return Threshold{m.sel, m.metric, "<=", v} }

// Above is the threshold "metric > v".
func (m ValueMetric) Above(v float64) Threshold { return Threshold{m.sel, m.metric, ">", v} }

// AtLeast is the threshold "metric >= v".
func (m ValueMetric) AtLeast(v float64) Threshold { return Threshold{m.sel, m.metric, ">=", v} }

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
		t.Selector = strings.TrimSpace(s[:i])
		if t.Selector == "" {
			return fail(i, "empty selector before ':'")
		}
		body, off = s[i+1:], i+1
	}
	// metric
	p := skipSpace(body, 0)
	start := p
	for p < len(body) && (isAlnum(body[p]) || body[p] == '_' || body[p] == '.') {
		p++
	}
	t.Metric = body[start:p]
	if t.Metric == "" {
		return fail(off+start, "expected a metric (p95, median, mean, min, max, error_rate, rate, count, errors)")
	}
	kind := kindOf(t.Metric)
	if kind == unknownMetric {
		return fail(off+start, "unknown metric %q (want p<N> with 0 <= N <= 100, median, mean, min, max, error_rate, rate, count or errors)", t.Metric)
	}
	// operator
	p = skipSpace(body, p)
	switch {
	case strings.HasPrefix(body[p:], "<="), strings.HasPrefix(body[p:], ">="):
		t.Op = body[p : p+2]
		p += 2
	case p < len(body) && (body[p] == '<' || body[p] == '>'):
		t.Op = body[p : p+1]
		p++
	default:
		return fail(off+p, "expected an operator: <, <=, > or >=")
	}
	// value
	p = skipSpace(body, p)
	vs := strings.TrimSpace(body[p:])
	if vs == "" {
		return fail(off+p, "expected a value")
	}
	switch kind {
	case latencyMetric:
		d, err := time.ParseDuration(vs)
		if err != nil || d < 0 {
			return fail(off+p, "expected a duration such as 500ms or 1.5s, got %q", vs)
		}
		t.Value = float64(d)
	case ratioMetric:
		v, err := strconv.ParseFloat(strings.TrimSuffix(vs, "%"), 64)
		if err != nil || v < 0 || math.IsInf(v, 0) {
			return fail(off+p, "expected a percentage such as 1%% or a fraction such as 0.01, got %q", vs)
		}
		if strings.HasSuffix(vs, "%") {
			v /= 100
		}
		t.Value = v
	case rateMetric:
		num, ok := strings.CutSuffix(vs, "/s")
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if !ok || err != nil || v < 0 || math.IsInf(v, 0) {
			return fail(off+p, "expected a rate such as 100/s, got %q", vs)
		}
		t.Value = v
	case countMetric:
		v, err := strconv.ParseUint(vs, 10, 63)
		if err != nil {
			return fail(off+p, "expected a whole number, got %q", vs)
		}
		t.Value = float64(v)
	}
	return t, nil
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
	// NoData is set when the selector matched nothing or nothing was
	// recorded: the threshold fails, it is not silently passed.
	NoData bool
}

// ActualString formats Actual in the metric's unit.
func (v Verdict) ActualString() string {
	if v.NoData {
		return "no data"
	}
	switch kindOf(v.Threshold.Metric) {
	case latencyMetric:
		return Duration(time.Duration(v.Actual))
	case ratioMetric:
		return Percent(v.Actual)
	case rateMetric:
		return Rate(v.Actual)
	}
	return num(v.Actual)
}

// source is what thresholds read: stats by key over a window.
type source struct {
	keys   []metrics.Key
	stats  func(i int) metrics.Stats
	window time.Duration
}

func resultSource(res *loadgen.Result) source {
	snap := res.Metrics
	src := source{window: max(res.End.Sub(snap.WarmupEnd()), 0)}
	for _, m := range snap.Metrics {
		src.keys = append(src.keys, m.Key)
	}
	src.stats = func(i int) metrics.Stats { return snap.Metrics[i].Total }
	return src
}

func progressSource(p *loadgen.Progress, warmup time.Duration) source {
	src := source{window: max(p.Elapsed-warmup, 0)}
	for _, m := range p.Metrics {
		src.keys = append(src.keys, m.Key)
	}
	src.stats = func(i int) metrics.Stats { return p.Metrics[i].Total }
	return src
}

// selectStats merges the stats the selector picks.
func (src source) selectStats(sel string) (metrics.Stats, bool) {
	var out metrics.Stats
	found := false
	add := func(i int) {
		st := src.stats(i)
		out.Merge(&st)
		found = true
	}
	scen, step, hasSlash := strings.Cut(sel, "/")
	for i, k := range src.keys {
		switch {
		case sel == "":
			if k.Kind == metrics.KindIteration {
				add(i)
			}
		case hasSlash && k.Kind == metrics.KindStep && k.Scenario == scen && k.Step == step:
			add(i)
		case !hasSlash && k.Kind == metrics.KindStep && k.Step == sel:
			add(i)
		}
	}
	if !found && !hasSlash && sel != "" {
		for i, k := range src.keys {
			if k.Kind == metrics.KindIteration && k.Scenario == sel {
				add(i)
			}
		}
	}
	return out, found
}

func (src source) check(t Threshold) Verdict {
	v := Verdict{Threshold: t}
	st, ok := src.selectStats(t.Selector)
	if !ok || st.Count() == 0 && t.Metric != "count" && t.Metric != "errors" && t.Metric != "rate" {
		v.NoData = true
		return v
	}
	f := FiguresOf(st, src.window)
	switch t.Metric {
	case "median":
		v.Actual = float64(f.Median)
	case "mean":
		v.Actual = float64(f.Mean)
	case "min":
		v.Actual = float64(f.Min)
	case "max":
		v.Actual = float64(f.Max)
	case "error_rate":
		v.Actual = f.ErrorRate
	case "rate":
		v.Actual = f.Rate
	case "count":
		v.Actual = float64(f.Count)
	case "errors":
		v.Actual = float64(f.Errors)
	default:
		q, _ := quantileOf(t.Metric)
		v.Actual = float64(st.Quantile(q))
	}
	switch t.Op {
	case "<":
		v.Pass = v.Actual < t.Value
	case "<=":
		v.Pass = v.Actual <= t.Value
	case ">":
		v.Pass = v.Actual > t.Value
	case ">=":
		v.Pass = v.Actual >= t.Value
	}
	return v
}

// Check checks thresholds against a finished run (the measured window,
// warm-up excluded) and returns one verdict per threshold, in order.
func Check(res *loadgen.Result, ts ...Threshold) []Verdict {
	src := resultSource(res)
	out := make([]Verdict, len(ts))
	for i, t := range ts {
		out[i] = src.check(t)
	}
	return out
}

// Passed reports whether every verdict passed.
func Passed(vs []Verdict) bool {
	for _, v := range vs {
		if !v.Pass {
			return false
		}
	}
	return true
}

// WriteVerdicts writes the verdicts as an aligned table.
func WriteVerdicts(w io.Writer, vs []Verdict) error {
	var b strings.Builder
	verdictTable(vs, false).text(&b, "  ")
	_, err := io.WriteString(w, b.String())
	return err
}

func verdictTable(vs []Verdict, onlyFailed bool) *table {
	t := &table{head: []string{"threshold", "actual", "result"}, right: []bool{false, true, false}}
	for _, v := range vs {
		if onlyFailed && v.Pass {
			continue
		}
		r := "pass"
		if !v.Pass {
			r = "FAIL"
		}
		t.add(v.Threshold.String(), v.ActualString(), r)
	}
	return t
}

// AbortOn returns a [loadgen.Plan.AbortWhen] hook that stops a run as soon
// as one of the thresholds fails on the running totals (warm-up excluded),
// but not before delay has passed since the start, so that early noise does
// not end a run. Set warmup to the plan's Warmup. A threshold with no data
// yet does not abort.
func AbortOn(delay, warmup time.Duration, ts ...Threshold) func(*loadgen.Progress) string {
	return func(p *loadgen.Progress) string {
		if p.Elapsed < delay || p.Warmup {
			return ""
		}
		src := progressSource(p, warmup)
		for _, t := range ts {
			if v := src.check(t); !v.Pass && !v.NoData {
				return fmt.Sprintf("threshold %s failed: %s", t, v.ActualString())
			}
		}
		return ""
	}
}
