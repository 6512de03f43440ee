package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind says what a metric measures. The kinds below are the ones this
// module records; other packages may add their own (the scenario package
// adds the HTTP phases).
type Kind string

// Kinds recorded by the engine and by steps.
const (
	KindStep        Kind = "step"         // one step of a journey: its latency and outcome
	KindIteration   Kind = "iteration"    // one whole iteration of a scenario
	KindScheduleLag Kind = "schedule_lag" // how late an iteration started after its intended time

	// The generator's own health, recorded by the engine under the
	// scenario name [Generator]: how long its goroutines waited,
	// runnable, for a processor (the Go runtime's scheduling latency),
	// and its garbage collector's stop-the-world pauses.
	KindGoSched Kind = "go_sched"
	KindGCPause Kind = "gc_pause"
	// KindThinkLag, under [Generator] too, is how late virtual users woke
	// from their pauses (a journey's think times and pacing): time they
	// spent beyond the pause their model asked for, recorded by the code
	// that pauses (the scenario package's journeys). A closed model's VUs
	// that wake late offer less load than the model.
	KindThinkLag Kind = "think_lag"
)

// Generator is the scenario name under which the engine records the
// generator's own health ([KindGoSched], [KindGCPause], [KindThinkLag]); its gauges are
// named with the prefix "generator." (see loadgen's Result.Generators). It
// is a name, not a scenario of the plan: a scenario of that name records
// under other kinds.
const Generator = "generator"

// GeneratorGaugePrefix starts the names of the generator's own gauges;
// a plan's gauges may not use it.
const GeneratorGaugePrefix = Generator + "."

// IsGeneratorGauge reports whether a gauge is one of the generator's own.
func IsGeneratorGauge(name string) bool { return strings.HasPrefix(name, GeneratorGaugePrefix) }

// Key names a metric: the scenario, the step ("" for scenario-wide metrics
// such as iterations) and the kind.
type Key struct {
	Scenario string `json:"scenario"`
	Step     string `json:"step,omitempty"`
	Kind     Kind   `json:"kind"`
}

// String names the key for people, as every report does: "scenario/step"
// for a step, "scenario (iterations)", "scenario (schedule lag)", and
// "scenario/step (kind)" for any other kind, such as an HTTP phase.
func (k Key) String() string {
	switch {
	case k.Kind == KindStep && k.Step != "":
		return k.Scenario + "/" + k.Step
	case k.Kind == KindIteration && k.Step == "":
		return k.Scenario + " (iterations)"
	case k.Kind == KindScheduleLag && k.Step == "":
		return k.Scenario + " (schedule lag)"
	case k.Step == "":
		return fmt.Sprintf("%s (%s)", k.Scenario, k.Kind)
	}
	return fmt.Sprintf("%s/%s (%s)", k.Scenario, k.Step, k.Kind)
}

// Distribution is a latency distribution: a [Histogram] with the exact
// minimum, maximum and sum of its values beside it. Its zero value is empty
// and ready to use; it is plain data, not safe for concurrent mutation.
type Distribution struct {
	// Hist holds every value to 3 significant digits.
	Hist Histogram `json:"hist"`
	// Min, Max and Sum are exact (0 when empty).
	Min time.Duration `json:"min_ns"`
	Max time.Duration `json:"max_ns"`
	Sum time.Duration `json:"sum_ns"`
	// Clamped counts values above MaxValue that were recorded as MaxValue.
	Clamped int64 `json:"clamped,omitempty"`
}

// Count returns the number of values.
func (d *Distribution) Count() int64 { return d.Hist.Count() }

// IsZero reports whether d holds no values.
func (d Distribution) IsZero() bool { return d.Hist.Count() == 0 }

// Record adds one value (negative ones as 0; above MaxValue as MaxValue,
// counted in Clamped, with the exact value in Sum and Max). It is meant for
// building distributions outside the hot path; see [Shard.Record].
func (d *Distribution) Record(v time.Duration) {
	v = max(v, 0)
	if d.Hist.Count() == 0 || v < d.Min {
		d.Min = v
	}
	d.Max = max(d.Max, v)
	d.Sum = satAdd(d.Sum, v)
	if d.Hist.Record(v) {
		d.Clamped++
	}
}

// Quantile returns the value at quantile q in [0, 1] from the histogram,
// bounded by the exact Min and Max: Quantile(0) is Min, Quantile(1) is Max,
// and no quantile lies outside them. It returns 0 when empty.
func (d *Distribution) Quantile(q float64) time.Duration {
	if d.Hist.Count() == 0 {
		return 0
	}
	return min(max(d.Hist.Quantile(q), d.Min), d.Max)
}

// Quantiles returns the values at each of qs (see [Distribution.Quantile]).
func (d *Distribution) Quantiles(qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	for i, q := range qs {
		out[i] = d.Quantile(q)
	}
	return out
}

// Mean returns the exact mean (Sum / Count), or 0 when empty.
func (d *Distribution) Mean() time.Duration {
	n := d.Hist.Count()
	if n == 0 {
		return 0
	}
	return d.Sum / time.Duration(n)
}

// StdDev returns the standard deviation, computed from the histogram's
// bucket midpoints (to HDR precision, not exact).
func (d *Distribution) StdDev() time.Duration { return d.Hist.StdDev() }

// Merge adds o into d exactly.
func (d *Distribution) Merge(o *Distribution) {
	if o.Hist.Count() == 0 {
		return
	}
	d.mergeExact(d.Hist.Count(), o)
	d.Hist.Merge(&o.Hist)
}

// mergeExact adds the exact figures of o, which holds values, into those
// of d, which held n values: the minimum, maximum, sum and clamped count,
// not the histogram.
func (d *Distribution) mergeExact(n int64, o *Distribution) {
	if n == 0 {
		d.Min, d.Max = o.Min, o.Max
	} else {
		d.Min, d.Max = min(d.Min, o.Min), max(d.Max, o.Max)
	}
	d.Sum = satAdd(d.Sum, o.Sum)
	d.Clamped = satAdd(d.Clamped, o.Clamped)
}

// Clone returns an independent copy of d.
func (d *Distribution) Clone() Distribution {
	c := *d
	c.Hist = d.Hist.Clone()
	return c
}

func (d *Distribution) freeze() { d.Hist.freeze() }

func (d *Distribution) validate() error {
	n := d.Hist.Count()
	switch {
	case d.Min < 0 || d.Max < 0 || d.Sum < 0 || d.Clamped < 0:
		return fmt.Errorf("negative min, max, sum or clamped")
	case n == 0 && (d.Min != 0 || d.Max != 0 || d.Sum != 0 || d.Clamped != 0):
		return fmt.Errorf("min, max, sum or clamped set for an empty histogram")
	case n > 0 && d.Min > d.Max:
		return fmt.Errorf("min %v > max %v", d.Min, d.Max)
	case d.Clamped > n:
		return fmt.Errorf("clamped %d > histogram count %d", d.Clamped, n)
	case n > 0 && !d.Hist.spans(d.Min, d.Max):
		return fmt.Errorf("min %v or max %v lies outside the histogram's buckets", d.Min, d.Max)
	}
	return nil
}

// StatusCount is the number of responses with one status code.
type StatusCount struct {
	Code  int
	Count int64
}

// StatusCounts counts responses by status code, sorted by code, zero counts
// left out: HTTP statuses (200, 404, 503 …) on a step's own series, another
// protocol's codes on a series of that protocol's kind (gRPC's 0 to 16 on
// kind "grpc", say; see [RegisterCodes]). Its JSON form is an object from
// code to count: {"200": 980, "503": 20}.
type StatusCounts []StatusCount

// Get returns the count of code.
func (s StatusCounts) Get(code int) int64 {
	if i, ok := slices.BinarySearchFunc(s, code, func(c StatusCount, code int) int { return c.Code - code }); ok {
		return s[i].Count
	}
	return 0
}

// add adds n responses of code to s, which stays sorted, and returns it.
func (s StatusCounts) add(code int, n int64) StatusCounts {
	i, ok := slices.BinarySearchFunc(s, code, func(c StatusCount, code int) int { return c.Code - code })
	if ok {
		s[i].Count = satAdd(s[i].Count, n)
		return s
	}
	return slices.Insert(s, i, StatusCount{code, n})
}

// Merge returns the counts of s and o together; it does not modify either.
func (s StatusCounts) Merge(o StatusCounts) StatusCounts {
	if len(o) == 0 {
		return s
	}
	if len(s) == 0 {
		return o
	}
	out := make(StatusCounts, 0, len(s)+len(o))
	i, j := 0, 0
	for i < len(s) || j < len(o) {
		switch {
		case j == len(o) || i < len(s) && s[i].Code < o[j].Code:
			out = append(out, s[i])
			i++
		case i == len(s) || o[j].Code < s[i].Code:
			out = append(out, o[j])
			j++
		default:
			out = append(out, StatusCount{s[i].Code, satAdd(s[i].Count, o[j].Count)})
			i++
			j++
		}
	}
	return out
}

// MarshalJSON writes {"200": 980, "503": 20}.
func (s StatusCounts) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, c := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(c.Code), 10)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, c.Count, 10)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the form MarshalJSON writes; codes must be in
// [MinStatus]..[MaxStatus] and counts > 0.
func (s *StatusCounts) UnmarshalJSON(b []byte) error {
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*s = nil
	for k, v := range m {
		code, err := strconv.Atoi(k)
		if err != nil || code < MinStatus || code > MaxStatus || strconv.Itoa(code) != k {
			return fmt.Errorf("metrics: status code %q must be a number in %d..%d", k, MinStatus, MaxStatus)
		}
		if v <= 0 {
			return fmt.Errorf("metrics: count of status %s must be > 0, got %d", k, v)
		}
		*s = append(*s, StatusCount{code, v})
	}
	slices.SortFunc(*s, func(a, b StatusCount) int { return a.Code - b.Code })
	return nil
}

// The status codes a [Shard] counts; others are ignored. HTTP's are 100 to
// 999; other protocols' codes start at 0 (gRPC's OK) and some go past 999
// (WebSocket's close codes, 1000 to 4999).
const (
	MinStatus = 0
	MaxStatus = 65535
)

// Stats is what was recorded for one metric over some span of time: counts
// by outcome, the latency of successful operations and, apart, that of
// failed ones (as Gatling's OK and KO), status codes and payload bytes.
// Operations counted without a latency (interrupted, dropped) are only in
// Outcomes. Stats is plain data; its methods only read it, except Merge.
type Stats struct {
	// Outcomes counts operations by outcome.
	Outcomes Counts `json:"outcomes"`
	// Latency is the latency of the successful operations (outcome OK).
	Latency Distribution `json:"latency,omitzero"`
	// Failed is the latency of the failed ones (an error class).
	Failed Distribution `json:"failed,omitzero"`
	// Status counts responses by status code, where a step reports them.
	Status StatusCounts `json:"status,omitempty"`
	// BytesSent and BytesReceived count payload bytes, where a step reports them.
	BytesSent     int64 `json:"bytes_sent,omitempty"`
	BytesReceived int64 `json:"bytes_received,omitempty"`
	// VUs is the number of active virtual users at the end of an interval
	// (set on the iteration metric's series points; 0 elsewhere).
	VUs int64 `json:"vus,omitempty"`
}

// Count returns the number of operations that started ([Counts.Total]).
// Each is counted in the interval in which it ended.
func (s Stats) Count() int64 { return s.Outcomes.Total() }

// Errors returns the number of operations that ended in an error class.
func (s Stats) Errors() int64 { return s.Outcomes.Errors() }

// ErrorRate returns Errors / Count, or 0 when nothing was counted.
func (s Stats) ErrorRate() float64 {
	n := s.Count()
	if n == 0 {
		return 0
	}
	return float64(s.Errors()) / float64(n)
}

// Rate returns [Stats.Count] per second over a window of the given length
// (0 for a window <= 0).
func (s Stats) Rate(window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return float64(s.Count()) / window.Seconds()
}

// Quantile returns the latency of successful operations at quantile q (see
// [Distribution.Quantile]).
func (s *Stats) Quantile(q float64) time.Duration { return s.Latency.Quantile(q) }

// Mean returns the exact mean latency of successful operations.
func (s *Stats) Mean() time.Duration { return s.Latency.Mean() }

// All returns the latency of successful and failed operations together.
func (s *Stats) All() Distribution {
	d := s.Latency.Clone()
	d.Merge(&s.Failed)
	return d
}

// Merge adds o into s. Counts and sums add (saturating at the largest
// int64 rather than wrapping); histograms add exactly; minima and maxima
// take the smaller and larger; VUs add (two machines' VUs together).
func (s *Stats) Merge(o *Stats) {
	s.mergeCounts(o)
	s.Latency.Merge(&o.Latency)
	s.Failed.Merge(&o.Failed)
	s.Status = s.Status.Merge(o.Status)
}

// mergeCounts adds o's outcomes, bytes and VUs into s: what Merge adds but
// the distributions and status codes.
func (s *Stats) mergeCounts(o *Stats) {
	s.Outcomes.Add(&o.Outcomes)
	s.BytesSent = satAdd(s.BytesSent, o.BytesSent)
	s.BytesReceived = satAdd(s.BytesReceived, o.BytesReceived)
	s.VUs = satAdd(s.VUs, o.VUs)
}

// Clone returns a deep copy of s.
func (s *Stats) Clone() Stats {
	c := *s
	c.Latency = s.Latency.Clone()
	c.Failed = s.Failed.Clone()
	c.Status = slices.Clone(s.Status)
	return c
}

func (s *Stats) freeze() {
	s.Latency.freeze()
	s.Failed.freeze()
}

// validate checks s; mixed says that Latency may hold failed operations
// too (format version 1).
func (s *Stats) validate(mixed bool) error {
	if s.BytesSent < 0 || s.BytesReceived < 0 || s.VUs < 0 {
		return fmt.Errorf("negative bytes or vus")
	}
	if err := s.Latency.validate(); err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	if err := s.Failed.validate(); err != nil {
		return fmt.Errorf("failed latency: %w", err)
	}
	ok := s.Outcomes[OK]
	if mixed {
		ok = satAdd(ok, s.Outcomes.Errors())
	}
	if n := s.Latency.Count(); n > ok {
		return fmt.Errorf("latency holds %d values but only %d operations succeeded", n, ok)
	}
	if n := s.Failed.Count(); n > s.Outcomes.Errors() {
		return fmt.Errorf("failed latency holds %d values but only %d operations failed", n, s.Outcomes.Errors())
	}
	return nil
}

// satAdd adds non-negative values, saturating at the largest value of T.
func satAdd[T ~int64](a, b T) T {
	if b > 0 && a > T(math.MaxInt64)-b {
		return T(math.MaxInt64)
	}
	return a + b
}

// satMul multiplies two non-negative values, saturating at the largest
// int64.
func satMul(a, b int64) int64 {
	if a > 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// Point is one interval of a metric's series.
type Point struct {
	// Start is the wall-clock start of the interval; it lasts
	// [Snapshot.Interval].
	Start time.Time `json:"start"`
	Stats
}

// Series is everything recorded for one key: the totals over the measured
// window (warm-up excluded) and the per-interval series (warm-up included).
type Series struct {
	Key
	Total  Stats   `json:"total"`
	Points []Point `json:"series"`
}

// GaugePoint summarises the samples of a gauge in one interval.
type GaugePoint struct {
	Start time.Time `json:"start"`
	Min   float64   `json:"min"`
	Max   float64   `json:"max"`
	Sum   float64   `json:"sum"`
	N     int64     `json:"n"`
}

// Mean returns Sum / N, or 0 without samples.
func (g GaugePoint) Mean() float64 {
	if g.N == 0 {
		return 0
	}
	return g.Sum / float64(g.N)
}

func (g *GaugePoint) add(o GaugePoint) {
	if o.N == 0 {
		return
	}
	if g.N == 0 {
		g.Min, g.Max = o.Min, o.Max
	} else {
		g.Min, g.Max = min(g.Min, o.Min), max(g.Max, o.Max)
	}
	g.Sum += o.Sum
	g.N = satAdd(g.N, o.N)
}

// GaugeSeries is the series of a sampled value, such as the target's heap size.
type GaugeSeries struct {
	Name   string       `json:"name"`
	Points []GaugePoint `json:"points"`
}
