package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/stampede-go/stampede/internal/jsonfmt"
)

// Version is the version of the JSON format written by [Snapshot.WriteJSON].
const Version = 1

// ErrVersion is returned (wrapped) when decoding JSON of another format version.
var ErrVersion = errors.New("metrics: unsupported format version")

// Snapshot is an immutable, self-contained copy of what a [Recorder] holds:
// plain data that merges exactly and round-trips through JSON losslessly.
//
// Every metric's series has one point per interval, the i-th starting at
// Start + i·Interval.
type Snapshot struct {
	// Version is the format version, [Version] for snapshots made here.
	Version int `json:"version"`
	// Start is the wall-clock start of the first interval.
	Start time.Time `json:"start"`
	// Interval is the length of one series interval.
	Interval time.Duration `json:"interval_ns"`
	// Warmup is the span from Start left out of the totals.
	Warmup time.Duration `json:"warmup_ns"`
	// Metrics holds one entry per key, in the order the keys were registered.
	Metrics []Metric `json:"metrics"`
	// Gauges holds the sampled gauges.
	Gauges []Gauge `json:"gauges,omitempty"`
}

// WarmupEnd returns Start + Warmup.
func (s *Snapshot) WarmupEnd() time.Time { return s.Start.Add(s.Warmup) }

// Intervals returns the number of intervals in the series.
func (s *Snapshot) Intervals() int {
	n := 0
	for _, m := range s.Metrics {
		n = max(n, len(m.Series))
	}
	for _, g := range s.Gauges {
		n = max(n, len(g.Points))
	}
	return n
}

// End returns the end of the last interval.
func (s *Snapshot) End() time.Time {
	return s.Start.Add(time.Duration(s.Intervals()) * s.Interval)
}

// Metric returns the metric with key k, or nil.
func (s *Snapshot) Metric(k Key) *Metric {
	for i := range s.Metrics {
		if s.Metrics[i].Key == k {
			return &s.Metrics[i]
		}
	}
	return nil
}

// Gauge returns the gauge called name, or nil.
func (s *Snapshot) Gauge(name string) *Gauge {
	for i := range s.Gauges {
		if s.Gauges[i].Name == name {
			return &s.Gauges[i]
		}
	}
	return nil
}

// Clone returns a deep copy of s.
func (s *Snapshot) Clone() *Snapshot {
	c := *s
	c.Metrics = make([]Metric, len(s.Metrics))
	for i, m := range s.Metrics {
		c.Metrics[i] = Metric{Key: m.Key, Total: m.Total.Clone(), Series: make([]Point, len(m.Series))}
		for j, p := range m.Series {
			c.Metrics[i].Series[j] = Point{Start: p.Start, Stats: p.Stats.Clone()}
		}
	}
	c.Gauges = make([]Gauge, len(s.Gauges))
	for i, g := range s.Gauges {
		c.Gauges[i] = Gauge{Name: g.Name, Points: slices.Clone(g.Points)}
	}
	return &c
}

// Merge returns a new snapshot holding the recordings of all the given
// snapshots together, as one recorder would have recorded them: histograms
// and counts add, series line up on wall-clock interval starts, and the result
// starts at the earliest start. The snapshots must share Interval and Warmup,
// and their interval grids must line up (their starts differ by whole
// intervals); otherwise Merge returns an error saying which does not.
// Metrics keep the order of the first snapshot that has them. Merge does not
// modify its arguments.
func Merge(snaps ...*Snapshot) (*Snapshot, error) {
	if len(snaps) == 0 {
		return nil, errors.New("metrics: Merge needs at least one snapshot")
	}
	first := snaps[0]
	start := first.Start
	for i, s := range snaps {
		if s.Interval != first.Interval {
			return nil, fmt.Errorf("metrics: snapshot %d has interval %v, snapshot 0 has %v", i, s.Interval, first.Interval)
		}
		if s.Warmup != first.Warmup {
			return nil, fmt.Errorf("metrics: snapshot %d has warm-up %v, snapshot 0 has %v", i, s.Warmup, first.Warmup)
		}
		if d := s.Start.Sub(first.Start); d%first.Interval != 0 {
			return nil, fmt.Errorf("metrics: snapshot %d starts %v after snapshot 0, not a whole number of %v intervals", i, d, first.Interval)
		}
		if s.Start.Before(start) {
			start = s.Start
		}
	}
	n := 0
	for _, s := range snaps {
		n = max(n, int(s.End().Sub(start)/first.Interval))
	}
	out := &Snapshot{Version: Version, Start: start, Interval: first.Interval, Warmup: first.Warmup}
	grid := func() []Point {
		p := make([]Point, n)
		for i := range p {
			p[i].Start = start.Add(time.Duration(i) * first.Interval)
		}
		return p
	}
	idx := map[Key]int{}
	gidx := map[string]int{}
	for _, s := range snaps {
		off := int(s.Start.Sub(start) / first.Interval)
		for _, m := range s.Metrics {
			j, ok := idx[m.Key]
			if !ok {
				j = len(out.Metrics)
				idx[m.Key] = j
				out.Metrics = append(out.Metrics, Metric{Key: m.Key, Series: grid()})
			}
			o := &out.Metrics[j]
			o.Total.Merge(&m.Total)
			for i := range m.Series {
				o.Series[off+i].Stats.Merge(&m.Series[i].Stats)
			}
		}
		for _, g := range s.Gauges {
			j, ok := gidx[g.Name]
			if !ok {
				j = len(out.Gauges)
				gidx[g.Name] = j
				pts := make([]GaugePoint, n)
				for i := range pts {
					pts[i].Start = start.Add(time.Duration(i) * first.Interval)
				}
				out.Gauges = append(out.Gauges, Gauge{Name: g.Name, Points: pts})
			}
			for i, p := range g.Points {
				out.Gauges[j].Points[off+i].add(p)
			}
		}
	}
	return out, nil
}

// WriteJSON writes s in the versioned JSON format described in the package
// documentation.
func (s *Snapshot) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(s)
}

// ReadJSON reads a snapshot written by WriteJSON and checks it. Malformed or
// inconsistent input is an error (never a panic); another format version is
// an error wrapping [ErrVersion].
func ReadJSON(r io.Reader) (*Snapshot, error) {
	var s Snapshot
	if err := jsonfmt.Strict(r, &s); err != nil {
		return nil, fmt.Errorf("metrics: decoding JSON: %w", err)
	}
	return &s, nil
}

// UnmarshalJSON decodes and validates a snapshot.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	type plain Snapshot
	if err := jsonfmt.CheckVersion(b, Version, ErrVersion); err != nil {
		return err
	}
	var p plain
	if err := jsonfmt.StrictBytes(b, &p); err != nil {
		return err
	}
	if err := (*Snapshot)(&p).validate(); err != nil {
		return err
	}
	*s = Snapshot(p)
	return nil
}

func (s *Snapshot) validate() error {
	if s.Interval <= 0 {
		return fmt.Errorf("metrics: interval_ns must be > 0, got %d", s.Interval)
	}
	if s.Warmup < 0 {
		return fmt.Errorf("metrics: warmup_ns must be >= 0, got %d", s.Warmup)
	}
	seen := map[Key]bool{}
	for i, m := range s.Metrics {
		if m.Scenario == "" || m.Kind == "" {
			return fmt.Errorf("metrics: metric %d: scenario and kind must not be empty", i)
		}
		if seen[m.Key] {
			return fmt.Errorf("metrics: metric %v appears twice", m.Key)
		}
		seen[m.Key] = true
		if err := m.Total.validate(); err != nil {
			return fmt.Errorf("metrics: %v total: %w", m.Key, err)
		}
		for j, p := range m.Series {
			if want := s.Start.Add(time.Duration(j) * s.Interval); !p.Start.Equal(want) {
				return fmt.Errorf("metrics: %v point %d starts at %v, want %v", m.Key, j, p.Start, want)
			}
			if err := p.Stats.validate(); err != nil {
				return fmt.Errorf("metrics: %v point %d: %w", m.Key, j, err)
			}
		}
	}
	gseen := map[string]bool{}
	for _, g := range s.Gauges {
		if gseen[g.Name] {
			return fmt.Errorf("metrics: gauge %q appears twice", g.Name)
		}
		gseen[g.Name] = true
		for j, p := range g.Points {
			if want := s.Start.Add(time.Duration(j) * s.Interval); !p.Start.Equal(want) {
				return fmt.Errorf("metrics: gauge %q point %d starts at %v, want %v", g.Name, j, p.Start, want)
			}
			if p.N < 0 {
				return fmt.Errorf("metrics: gauge %q point %d: n must be >= 0, got %d", g.Name, j, p.N)
			}
		}
	}
	return nil
}
