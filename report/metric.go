package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/metrics"
)

// Side says which operations a latency statistic covers.
type Side uint8

// The sides of a latency statistic.
const (
	Successes Side = iota // operations that succeeded: the default everywhere
	Failures              // operations that failed with an error class
	All                   // both together
)

// String returns "", "failed" or "all": the qualifier of a metric's name,
// as in p95(failed).
func (s Side) String() string {
	switch s {
	case Successes:
		return ""
	case Failures:
		return "failed"
	case All:
		return "all"
	}
	return fmt.Sprintf("side(%d)", uint8(s))
}

// stat is what a Metric computes.
type stat uint8

const (
	statNone         stat = iota
	statQuantile          // pN: latency
	statMean              // latency
	statMin               // latency
	statMax               // latency
	statCount             // operations started
	statRate              // operations started per second
	statErrors            // operations failed
	statErrorRate         // errors / count
	statStatus            // responses with one status code
	statDropped           // arrivals dropped
	statDroppedRate       // dropped per second
	statDroppedShare      // dropped / scheduled
)

var statNames = [...]string{
	statQuantile: "p", statMean: "mean", statMin: "min", statMax: "max",
	statCount: "count", statRate: "rate", statErrors: "errors", statErrorRate: "error_rate",
	statStatus: "status", statDropped: "dropped", statDroppedRate: "dropped_rate", statDroppedShare: "dropped_share",
}

// Unit is the kind of value a metric has.
type Unit uint8

// The units of metrics.
const (
	UnitDuration Unit = iota + 1 // a duration, in nanoseconds
	UnitCount                    // a count
	UnitRate                     // a rate
	UnitFraction                 // a share, 0 to 1
)

// Metric is one figure of a run that can be reported, bounded by a
// threshold, held to a budget and compared: a latency statistic (a
// quantile, mean, min or max, of successful operations unless another
// [Side] is chosen), a count, a rate, an error rate, the responses with one
// status code, or the arrivals an open model dropped. Build one with the
// functions below or [ParseMetric]; its zero value is not a metric.
// Metrics are comparable values: two metrics are == when they are the same
// figure.
type Metric struct {
	stat stat
	pct  float64 // the percentile of a quantile, 0 < pct < 100
	side Side
	code int          // the status code of a status metric
	kind metrics.Kind // the kind whose code it is: "" for HTTP's
}

// Quantile is the latency at quantile q (0 < q < 1) of successful
// operations; its name is "p" and the percentile: p50, p95, p99.9.
func Quantile(q float64) Metric {
	return Metric{stat: statQuantile, pct: math.Round(q*100*1e9) / 1e9}
}

// Mean is the exact mean latency of successful operations.
func Mean() Metric { return Metric{stat: statMean} }

// Min is the exact smallest latency of successful operations.
func Min() Metric { return Metric{stat: statMin} }

// Max is the exact largest latency of successful operations.
func Max() Metric { return Metric{stat: statMax} }

// Count is the number of operations that started (dropped arrivals never
// did), each counted in the interval in which it ended.
func Count() Metric { return Metric{stat: statCount} }

// Rate is the operations that ended within the run's load window per
// second of it (see [LoadWindow]): the graceful-stop tail is counted in
// [Count] but does not dilute the rate.
func Rate() Metric { return Metric{stat: statRate} }

// Errors is the number of operations that failed.
func Errors() Metric { return Metric{stat: statErrors} }

// ErrorRate is Errors / Count, a fraction.
func ErrorRate() Metric { return Metric{stat: statErrorRate} }

// Status is the number of responses with status code (HTTP's, 100 to
// 999, or a protocol's on a selector of its kind: Status(14) of
// "checkout[grpc]" counts gRPC's UNAVAILABLE). [Selector.ParseMetric]
// reads a code by the name its kind gives it.
func Status(code int) Metric { return Metric{stat: statStatus, code: code} }

// Dropped is the number of open-model arrivals that found no free VU and
// never started.
func Dropped() Metric { return Metric{stat: statDropped} }

// DroppedRate is the arrivals dropped within the run's load window per
// second of it (see [LoadWindow]).
func DroppedRate() Metric { return Metric{stat: statDroppedRate} }

// DroppedShare is the share of the scheduled arrivals that were dropped:
// Dropped / (Count + Dropped).
func DroppedShare() Metric { return Metric{stat: statDroppedShare} }

// Of returns the latency statistic m over the operations of side s. It is
// meaningful for latency metrics only; [Metric.Validate] reports others.
func (m Metric) Of(s Side) Metric {
	m.side = s
	return m
}

// Side returns the operations a latency metric covers.
func (m Metric) Side() Side { return m.side }

// Q returns the quantile of a quantile metric (0.95 for p95), else 0.
func (m Metric) Q() float64 {
	if m.stat != statQuantile {
		return 0
	}
	return m.pct / 100
}

// Unit returns the kind of value m has.
func (m Metric) Unit() Unit {
	switch m.stat {
	case statQuantile, statMean, statMin, statMax:
		return UnitDuration
	case statRate, statDroppedRate:
		return UnitRate
	case statErrorRate, statDroppedShare:
		return UnitFraction
	case statNone:
		return 0
	}
	return UnitCount
}

// HigherIsBetter reports whether a larger value of m is an improvement
// (the count and rate of operations, throughput), rather than a regression.
func (m Metric) HigherIsBetter() bool { return m.stat == statRate || m.stat == statCount }

// String returns the metric's name, as ParseMetric reads it: p95,
// p99.9(failed), mean(all), error_rate, status(503), dropped_share.
func (m Metric) String() string {
	var s string
	switch m.stat {
	case statNone:
		return "(no metric)"
	case statQuantile:
		s = "p" + strconv.FormatFloat(m.pct, 'f', -1, 64)
	case statStatus:
		return "status(" + metrics.CodeName(m.kind, m.code) + ")"
	default:
		if int(m.stat) >= len(statNames) {
			return fmt.Sprintf("metric(%d)", m.stat)
		}
		s = statNames[m.stat]
	}
	if m.side != Successes {
		s += "(" + m.side.String() + ")"
	}
	return s
}

// metricNames lists the metric names for error messages.
const metricNames = "p<N> (0 < N < 100), mean, min, max (each optionally (failed) or (all)), count, rate, errors, error_rate, status(<code or name>), dropped, dropped_rate, dropped_share"

// Validate reports whether m is a metric, and a well-formed one.
func (m Metric) Validate() error {
	switch {
	case m.stat == statNone || int(m.stat) >= len(statNames):
		return fmt.Errorf("report: not a metric (want %s)", metricNames)
	case m.stat == statQuantile && !(m.pct > 0 && m.pct < 100):
		return fmt.Errorf("report: quantile p%v must be above p0 and below p100 (use min or max)", strconv.FormatFloat(m.pct, 'f', -1, 64))
	case m.stat == statStatus && m.kind == "" && (m.code < 100 || m.code > 999):
		return fmt.Errorf("report: status code must be 100..999, got %d (another protocol's codes are counted on a selector of its kind, such as checkout[grpc]: status(14))", m.code)
	case m.stat == statStatus && (m.code < metrics.MinStatus || m.code > metrics.MaxStatus):
		return fmt.Errorf("report: status code of %s must be %d..%d, got %d", m.kind, metrics.MinStatus, metrics.MaxStatus, m.code)
	case m.side > All:
		return fmt.Errorf("report: side must be Successes, Failures or All, got %d", m.side)
	case m.side != Successes && m.Unit() != UnitDuration:
		return fmt.Errorf("report: %s is not a latency: only p<N>, mean, min and max take (failed) or (all)", statNames[m.stat])
	}
	return nil
}

// ParseMetric reads a metric's name (see [Metric.String]); a status code
// is a number (status(503)). [Selector.ParseMetric] reads the codes of
// other protocols by name.
func ParseMetric(s string) (Metric, error) { return parseMetric(s, "") }

// ParseMetric reads the name of a metric of the rows s selects: as
// [ParseMetric] does, and, when s names a kind of metric whose status
// codes have names (metrics.RegisterCodes), a status code by its name:
// Selector("checkout[grpc]").ParseMetric("status(UNAVAILABLE)").
func (s Selector) ParseMetric(name string) (Metric, error) {
	p, err := s.parse()
	if err != nil {
		return Metric{}, err
	}
	return parseMetric(name, p.kind)
}

// parseMetric reads a metric of rows of kind k.
func parseMetric(s string, k metrics.Kind) (Metric, error) {
	name, qual, hasQual := strings.Cut(s, "(")
	if hasQual {
		var ok bool
		if qual, ok = strings.CutSuffix(qual, ")"); !ok {
			return Metric{}, fmt.Errorf("report: metric %q: unclosed (", s)
		}
	}
	var m Metric
	switch {
	case name == "status":
		if !hasQual || qual == "" {
			return Metric{}, fmt.Errorf("report: metric %q: want status(<code>), such as status(503)", s)
		}
		if k == metrics.KindStep || strings.HasPrefix(string(k), "http_") {
			k = "" // HTTP's codes
		}
		code, err := strconv.Atoi(qual)
		if err != nil || strconv.Itoa(code) != qual {
			if !metrics.HasCodeNames(k) {
				return Metric{}, fmt.Errorf("report: metric %q: want status(<code>), such as status(503); a protocol's codes are named on a selector of its kind, such as checkout[grpc]: status(UNAVAILABLE)", s)
			}
			if code, err = metrics.ParseCode(k, qual); err != nil {
				return Metric{}, fmt.Errorf("report: metric %q: %w", s, err)
			}
		}
		m = Metric{stat: statStatus, code: code, kind: k}
		return m, m.Validate()
	case len(name) > 1 && name[0] == 'p' && name[1] >= '0' && name[1] <= '9':
		pct, err := strconv.ParseFloat(name[1:], 64)
		if err != nil || strings.ContainsAny(name[1:], "eE+-_") || math.IsInf(pct, 0) || math.IsNaN(pct) {
			return Metric{}, fmt.Errorf("report: unknown metric %q (want %s)", s, metricNames)
		}
		m = Metric{stat: statQuantile, pct: pct}
	default:
		i := slices.Index(statNames[:], name)
		if i <= int(statQuantile) || stat(i) == statStatus {
			return Metric{}, fmt.Errorf("report: unknown metric %q (want %s)", s, metricNames)
		}
		m = Metric{stat: stat(i)}
	}
	if hasQual {
		switch qual {
		case "failed":
			m.side = Failures
		case "all":
			m.side = All
		default:
			return Metric{}, fmt.Errorf("report: metric %q: unknown qualifier %q (want failed or all)", s, qual)
		}
	}
	return m, m.Validate()
}

// Format renders a value of m for people (12.3ms, 1.20%, 95.0/s, 42).
func (m Metric) Format(v float64) string {
	switch m.Unit() {
	case UnitDuration:
		return format.Duration(time.Duration(v))
	case UnitRate:
		return format.Rate(v)
	case UnitFraction:
		return format.Percent(v)
	}
	return format.Number(v)
}

// literal renders a valid bound v of m (see [Threshold.Validate]) in the
// syntax ParseThreshold reads back exactly: 1.5s, 100/s, 1%, 1000000.
func (m Metric) literal(v float64) string {
	switch m.Unit() {
	case UnitDuration:
		if v >= maxLatency {
			// 2^63 ns, what the largest duration becomes as a float64:
			// time.Duration(v) would wrap to the most negative one.
			return time.Duration(math.MaxInt64).String()
		}
		return time.Duration(v).String()
	case UnitRate:
		return strconv.FormatFloat(v, 'f', -1, 64) + "/s"
	case UnitFraction:
		// A percentage when dividing it by 100 gives v back; otherwise
		// the fraction itself (1e-100: its percentage, divided, is not).
		if pct := 100 * v; pct/100 == v {
			return strconv.FormatFloat(pct, 'f', -1, 64) + "%"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Value computes m over the stats of one row, or of several rows merged,
// with rates from b (see [RateBasis]). ok is false when
// there is no data: a latency statistic with no latencies of its side.
// The dropped metrics need a scenario's iteration row.
func (m Metric) Value(s *metrics.Stats, b RateBasis) (v float64, ok bool) {
	switch m.stat {
	case statQuantile, statMean, statMin, statMax:
		var d *metrics.Distribution
		switch m.side {
		case Successes:
			d = &s.Latency
		case Failures:
			d = &s.Failed
		default:
			all := s.All()
			d = &all
		}
		if d.Count() == 0 {
			return 0, false
		}
		switch m.stat {
		case statQuantile:
			return float64(d.Quantile(m.pct / 100)), true
		case statMean:
			return float64(d.Mean()), true
		case statMin:
			return float64(d.Min), true
		}
		return float64(d.Max), true
	case statCount:
		return float64(s.Count()), true
	case statRate:
		return b.Rate(), true
	case statErrors:
		return float64(s.Errors()), true
	case statErrorRate:
		return s.ErrorRate(), true
	case statStatus:
		if len(s.Status) == 0 {
			return 0, false // no status codes recorded: not an HTTP row
		}
		return float64(s.Status.Get(m.code)), true
	case statDropped:
		return float64(s.Outcomes[metrics.Dropped]), true
	case statDroppedRate:
		return b.PerSecond(b.Outcomes[metrics.Dropped]), true
	case statDroppedShare:
		n := s.Count() + s.Outcomes[metrics.Dropped]
		if n == 0 {
			return 0, true
		}
		return float64(s.Outcomes[metrics.Dropped]) / float64(n), true
	}
	return 0, false
}

// Op compares a metric's value with a bound.
type Op uint8

// The operators of thresholds.
const (
	Less Op = iota + 1
	LessOrEqual
	Greater
	GreaterOrEqual
)

// String returns "<", "<=", ">" or ">=".
func (o Op) String() string {
	switch o {
	case Less:
		return "<"
	case LessOrEqual:
		return "<="
	case Greater:
		return ">"
	case GreaterOrEqual:
		return ">="
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Holds reports whether "v op bound" is true.
func (o Op) Holds(v, bound float64) bool {
	switch o {
	case Less:
		return v < bound
	case LessOrEqual:
		return v <= bound
	case Greater:
		return v > bound
	case GreaterOrEqual:
		return v >= bound
	}
	return false
}

func (o Op) validate() error {
	if o < Less || o > GreaterOrEqual {
		return fmt.Errorf("report: unknown operator %d (want <, <=, > or >=)", o)
	}
	return nil
}

// Selector picks the rows of a run that a threshold, a budget or a
// comparison looks at. Its grammar:
//
//	selector := [ name ] [ "[" kind "]" ]
//	name     := scenario "/" step   that step of that scenario (the first "/" separates)
//	          | step                the steps of that name in every scenario,
//	                                or, if there is none, the scenario of that name
//	          | (empty)             every scenario
//	kind     := a metric kind: step (the default for a step), iteration (the
//	            default for a scenario), schedule_lag, http_ttfb …
//
// So "apply" is the apply step wherever it is, "signup/apply" the apply
// step of signup, "signup" the iterations of signup (unless a step is
// called signup), "" every scenario's iterations, "[schedule_lag]" every
// open scenario's schedule lag and "apply[http_ttfb]" the time to first
// byte of apply. A selector that matches no row of a run is an error, not
// an empty pass.
type Selector string

// parsed is a selector taken apart.
type parsed struct {
	scenario, step string // scenario "" with step "": every scenario
	name           string // a bare name: a step, or else a scenario
	kind           metrics.Kind
}

func (s Selector) parse() (parsed, error) {
	str := string(s)
	var p parsed
	if i := strings.IndexByte(str, '['); i >= 0 {
		k, ok := strings.CutSuffix(str[i+1:], "]")
		if !ok || k == "" || strings.ContainsAny(k, "[]") {
			return p, fmt.Errorf("report: selector %q: want name[kind], such as apply[http_ttfb]", str)
		}
		p.kind = metrics.Kind(k)
		str = str[:i]
	}
	if strings.ContainsAny(str, "[]") {
		return p, fmt.Errorf("report: selector %q: unexpected bracket", string(s))
	}
	if sc, step, ok := strings.Cut(str, "/"); ok {
		if sc == "" || step == "" {
			return p, fmt.Errorf("report: selector %q: want scenario/step with both parts", string(s))
		}
		p.scenario, p.step = sc, step
		return p, nil
	}
	p.name = str
	return p, nil
}

// Validate reports a selector that does not parse.
func (s Selector) Validate() error {
	_, err := s.parse()
	return err
}

// Match returns the indexes of the keys s selects, or an error naming the
// scenarios, steps and kinds there are when it selects nothing.
func (s Selector) Match(keys []metrics.Key) ([]int, error) {
	p, err := s.parse()
	if err != nil {
		return nil, err
	}
	pick := func(ok func(k metrics.Key) bool) []int {
		var out []int
		for i, k := range keys {
			if ok(k) {
				out = append(out, i)
			}
		}
		return out
	}
	kindOr := func(def metrics.Kind) metrics.Kind {
		if p.kind != "" {
			return p.kind
		}
		return def
	}
	var out []int
	switch {
	case p.scenario != "":
		kind := kindOr(metrics.KindStep)
		out = pick(func(k metrics.Key) bool { return k.Scenario == p.scenario && k.Step == p.step && k.Kind == kind })
	case p.name == "":
		kind := kindOr(metrics.KindIteration)
		out = pick(func(k metrics.Key) bool {
			return k.Kind == kind && (k.Step == "" || kind != metrics.KindIteration && kind != metrics.KindScheduleLag)
		})
	default:
		kind := kindOr(metrics.KindStep)
		out = pick(func(k metrics.Key) bool { return k.Step == p.name && k.Kind == kind })
		if len(out) == 0 {
			kind := kindOr(metrics.KindIteration)
			out = pick(func(k metrics.Key) bool { return k.Scenario == p.name && k.Step == "" && k.Kind == kind })
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("report: selector %q matches nothing in this run (%s)", string(s), inventory(keys))
	}
	return out, nil
}

// inventory lists the scenarios, steps and kinds of keys, for errors.
func inventory(keys []metrics.Key) string {
	var scs, steps, kinds []string
	add := func(list *[]string, s string) {
		if s != "" && !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	for _, k := range keys {
		add(&scs, k.Scenario)
		if k.Step != "" {
			add(&steps, k.Scenario+"/"+k.Step)
		}
		add(&kinds, string(k.Kind))
	}
	return fmt.Sprintf("scenarios: %s; steps: %s; kinds: %s", orNone(scs), orNone(steps), orNone(kinds))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// checkApplies reports a metric that has no meaning for the selected rows
// (see [Row.Applies]).
func checkApplies(m Metric, keys []metrics.Key, idx []int) error {
	for _, i := range idx {
		k := keys[i]
		if (Row{Scenario: k.Scenario, Step: k.Step, Kind: k.Kind}).Applies(m) {
			continue
		}
		if k.Kind == metrics.KindScheduleLag {
			return fmt.Errorf("report: %s does not apply to the schedule lag, which has latencies only (its count is its scenario's iterations): select the scenario for counts, not %v", m, k)
		}
		return fmt.Errorf("report: %s counts a scenario's arrivals: select a scenario (or nothing), not %v", m, k)
	}
	return nil
}

// rowSource is what metrics are computed from: a run's keys, their stats
// and their rate bases.
type rowSource struct {
	keys  []metrics.Key
	stats func(i int) *metrics.Stats
	basis func(i int) RateBasis
}

// eval computes the valid metric m over what sel selects. ok is false for
// no data; err is set for a selector that matches nothing or a metric that
// cannot apply.
func (src rowSource) eval(sel Selector, m Metric) (v float64, ok bool, err error) {
	idx, err := sel.Match(src.keys)
	if err != nil {
		return 0, false, err
	}
	if err := checkApplies(m, src.keys, idx); err != nil {
		return 0, false, err
	}
	st, b := src.merge(idx)
	v, ok = m.Value(&st, b)
	return v, ok, nil
}

// merge returns the stats and rate basis of the rows idx, merged.
func (src rowSource) merge(idx []int) (metrics.Stats, RateBasis) {
	if len(idx) == 1 {
		return *src.stats(idx[0]), src.basis(idx[0])
	}
	var st metrics.Stats
	var b RateBasis
	for _, i := range idx {
		st.Merge(src.stats(i))
		bi := src.basis(i)
		b.Outcomes.Add(&bi.Outcomes)
		b.Span = bi.Span // the rows of one run share its window
	}
	return st, b
}
