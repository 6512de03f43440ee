package metrics

import (
	"fmt"
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
)

// Key names a metric: the scenario, the step ("" for scenario-wide metrics
// such as iterations) and the kind.
type Key struct {
	Scenario string `json:"scenario"`
	Step     string `json:"step,omitempty"`
	Kind     Kind   `json:"kind"`
}

// String returns "scenario/step (kind)", or "scenario (kind)" without a step.
func (k Key) String() string {
	if k.Step == "" {
		return fmt.Sprintf("%s (%s)", k.Scenario, k.Kind)
	}
	return fmt.Sprintf("%s/%s (%s)", k.Scenario, k.Step, k.Kind)
}

// Stats is what was recorded for one metric over some span of time: outcome
// counts, the latency distribution and its exact minimum, maximum and sum.
// Stats is plain data; its methods only read it, except Merge.
type Stats struct {
	// Outcomes counts operations by outcome.
	Outcomes Counts `json:"outcomes"`
	// Latency holds every recorded latency (operations counted without a
	// latency, such as dropped or interrupted ones, are not in it).
	Latency Histogram `json:"latency"`
	// Min, Max and Sum are exact over the values in Latency (0 when empty).
	Min time.Duration `json:"min_ns"`
	Max time.Duration `json:"max_ns"`
	Sum time.Duration `json:"sum_ns"`
	// Clamped counts values above MaxValue that were recorded as MaxValue.
	Clamped int64 `json:"clamped,omitempty"`
	// BytesSent and BytesReceived count payload bytes, where a step reports them.
	BytesSent     int64 `json:"bytes_sent,omitempty"`
	BytesReceived int64 `json:"bytes_received,omitempty"`
	// VUs is the number of active virtual users at the end of an interval
	// (set on the iteration metric's series points; 0 elsewhere).
	VUs int64 `json:"vus,omitempty"`
}

// Count returns the number of operations that started ([Counts.Total]).
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

// Mean returns the exact mean latency (Sum / number of latency values).
func (s Stats) Mean() time.Duration {
	n := s.Latency.Count()
	if n == 0 {
		return 0
	}
	return s.Sum / time.Duration(n)
}

// StdDev returns the standard deviation of the latencies, computed from the
// histogram's bucket midpoints (to HDR precision, not exact).
func (s Stats) StdDev() time.Duration { return s.Latency.StdDev() }

// Rate returns the operations started per second over a window of the
// given length (0 for a window <= 0).
func (s Stats) Rate(window time.Duration) float64 {
	if window <= 0 {
		return 0
	}
	return float64(s.Count()) / window.Seconds()
}

// Quantile returns the latency at quantile q in [0, 1] from the histogram,
// bounded by the exact Min and Max: Quantile(0) is Min and Quantile(1) is Max.
func (s Stats) Quantile(q float64) time.Duration {
	if s.Latency.Count() == 0 {
		return 0
	}
	v := s.Latency.Quantile(q)
	return min(max(v, s.Min), s.Max)
}

// Merge adds o into s. Counts and sums add; histograms add exactly; Min and
// Max take the smaller and larger; VUs add (two machines' VUs together).
func (s *Stats) Merge(o *Stats) {
	if o.Latency.Count() > 0 {
		if s.Latency.Count() == 0 {
			s.Min, s.Max = o.Min, o.Max
		} else {
			s.Min, s.Max = min(s.Min, o.Min), max(s.Max, o.Max)
		}
	}
	s.Outcomes.Add(&o.Outcomes)
	s.Latency.Merge(&o.Latency)
	s.Sum += o.Sum
	s.Clamped += o.Clamped
	s.BytesSent += o.BytesSent
	s.BytesReceived += o.BytesReceived
	s.VUs += o.VUs
}

// Clone returns a deep copy of s.
func (s *Stats) Clone() Stats {
	c := *s
	c.Latency = *s.Latency.Clone()
	return c
}

func (s *Stats) validate() error {
	n := s.Latency.Count()
	if s.Min < 0 || s.Max < 0 || s.Sum < 0 || s.Clamped < 0 || s.BytesSent < 0 || s.BytesReceived < 0 || s.VUs < 0 {
		return fmt.Errorf("negative min, max, sum, clamped, bytes or vus")
	}
	if n == 0 && (s.Min != 0 || s.Max != 0 || s.Sum != 0) {
		return fmt.Errorf("min/max/sum set for an empty histogram")
	}
	if n > 0 && s.Min > s.Max {
		return fmt.Errorf("min %v > max %v", s.Min, s.Max)
	}
	if s.Clamped > n {
		return fmt.Errorf("clamped %d > histogram count %d", s.Clamped, n)
	}
	return nil
}

// Point is one interval of a metric's series.
type Point struct {
	// Start is the wall-clock start of the interval; it lasts
	// [Snapshot.Interval].
	Start time.Time `json:"start"`
	Stats
}

// Metric is everything recorded for one key: the totals over the measured
// window (warm-up excluded) and the per-interval series (warm-up included).
type Metric struct {
	Key
	Total  Stats   `json:"total"`
	Series []Point `json:"series"`
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
	g.N += o.N
}

// Gauge is the series of a sampled value, such as the target's heap size.
type Gauge struct {
	Name   string       `json:"name"`
	Points []GaugePoint `json:"points"`
}
