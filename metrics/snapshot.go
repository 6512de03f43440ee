package metrics

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/stampede-go/stampede/internal/jsonfmt"
)

// Version is the version of the JSON format written by [Snapshot.WriteJSON].
// [ReadSnapshot] also reads version 2, whose points were JSON objects, and
// version 1, whose latencies mixed successful and failed operations: it
// reads them as the latency of successes.
const Version = 3

// ErrVersion is returned (wrapped) when decoding JSON of another format version.
var ErrVersion = errors.New("metrics: unsupported format version")

// Snapshot is an immutable, self-contained copy of what a [Recorder] holds:
// plain data that merges exactly and round-trips through JSON losslessly.
//
// Every metric's series has one point per interval, the i-th starting at
// Start + i·Interval.
type Snapshot struct {
	// Version is the format version: [Version] for snapshots made here, or
	// the version of the file a snapshot was read from (1 means its
	// latencies include failed operations; see [Version]).
	Version int `json:"version"`
	// Start is the wall-clock start of the first interval.
	Start time.Time `json:"start"`
	// Interval is the length of one series interval.
	Interval time.Duration `json:"interval_ns"`
	// Warmup is the span from Start left out of the totals.
	Warmup time.Duration `json:"warmup_ns"`
	// Series holds one entry per key, in the order the keys were registered.
	Series []Series `json:"metrics"`
	// Gauges holds the sampled gauges.
	Gauges []GaugeSeries `json:"gauges,omitempty"`
	// LatencyIncludesFailures is set when the latency distributions hold
	// failed operations too: in snapshots read from format version 1,
	// which did not keep them apart, and in merges that include one.
	LatencyIncludesFailures bool `json:"latency_includes_failures,omitempty"`
}

// WarmupEnd returns Start + Warmup.
func (s *Snapshot) WarmupEnd() time.Time { return s.Start.Add(s.Warmup) }

// Intervals returns the number of intervals in the series.
func (s *Snapshot) Intervals() int {
	n := 0
	for _, m := range s.Series {
		n = max(n, len(m.Points))
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

// SeriesOf returns the series of key k, or nil.
func (s *Snapshot) SeriesOf(k Key) *Series {
	for i := range s.Series {
		if s.Series[i].Key == k {
			return &s.Series[i]
		}
	}
	return nil
}

// Gauge returns the gauge called name, or nil.
func (s *Snapshot) Gauge(name string) *GaugeSeries {
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
	c.Series = make([]Series, len(s.Series))
	for i, m := range s.Series {
		c.Series[i] = Series{Key: m.Key, Total: m.Total.Clone(), Points: make([]Point, len(m.Points))}
		for j, p := range m.Points {
			c.Series[i].Points[j] = Point{Start: p.Start, Stats: p.Stats.Clone()}
		}
	}
	c.Gauges = make([]GaugeSeries, len(s.Gauges))
	for i, g := range s.Gauges {
		c.Gauges[i] = GaugeSeries{Name: g.Name, Points: slices.Clone(g.Points)}
	}
	return &c
}

// mergeSlack is how many points a merge may make beyond twice those of its
// parts (see Merge).
const mergeSlack = 10_000

// Merge returns a new snapshot holding the recordings of all the given
// snapshots together, as one recorder would have recorded them: histograms
// and counts add, series line up on wall-clock interval starts, and the result
// starts at the earliest start. The snapshots must share Interval and Warmup,
// and their interval grids must line up (their starts differ by whole
// intervals), and lie close enough in time that the merge is not mostly
// empty intervals (parts of one run overlap in time); otherwise Merge
// returns an error saying which does not.
// Metrics keep the order of the first snapshot that has them. Merge does not
// modify its arguments.
func Merge(snaps ...*Snapshot) (*Snapshot, error) {
	if len(snaps) == 0 {
		return nil, errors.New("metrics: Merge needs at least one snapshot")
	}
	first := snaps[0]
	if first == nil {
		return nil, errors.New("metrics: snapshot 0 is nil")
	}
	start := first.Start
	for i, s := range snaps {
		if s == nil {
			return nil, fmt.Errorf("metrics: snapshot %d is nil", i)
		}
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
	n, held := 0, 0
	series := map[Key]bool{}
	gauges := map[string]bool{}
	for _, s := range snaps {
		span := s.End().Sub(start)
		if span < 0 || span/first.Interval > MaxIntervals {
			return nil, fmt.Errorf("metrics: the merged series would span %v, more than %d intervals of %v", span, MaxIntervals, first.Interval)
		}
		n = max(n, int(span/first.Interval))
		for _, m := range s.Series {
			series[m.Key] = true
			held += len(m.Points)
		}
		for _, g := range s.Gauges {
			gauges[g.Name] = true
			held += len(g.Points)
		}
	}
	// Parts of one run overlap in time, so the merge holds about as many
	// points as its parts. Parts far apart would make series of nothing:
	// from two files of a few hundred bytes, gigabytes.
	if made := n * (len(series) + len(gauges)); made > 2*held+mergeSlack {
		return nil, fmt.Errorf("metrics: the snapshots hold %d points but their merge would make %d (%d intervals from %v): they are too far apart in time to be parts of one run",
			held, made, n, start.UTC().Format(time.RFC3339))
	}
	m := Merger{nocheck: true} // checked above, over them all
	for _, s := range snaps {
		if err := m.Add(s); err != nil {
			return nil, err
		}
	}
	return m.Snapshot()
}

// WriteJSON writes s in the versioned JSON format described in the package
// documentation (always the current [Version]).
func (s *Snapshot) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(s)
}

// MarshalJSON encodes s in the current format [Version], whatever version
// it was read from.
func (s *Snapshot) MarshalJSON() ([]byte, error) {
	w := snapshotV3{Version: Version, Start: s.Start, Interval: s.Interval, Warmup: s.Warmup,
		Series: make([]seriesV3, len(s.Series)), Gauges: s.Gauges, LatencyIncludesFailures: s.LatencyIncludesFailures}
	for i, m := range s.Series {
		w.Series[i] = seriesV3{Key: m.Key, Total: m.Total, Points: encodePoints(m.Points)}
	}
	return json.Marshal(&w)
}

// snapshotV3 is the JSON form of format version 3: each series' points
// in one block (see encodePoints).
type (
	snapshotV3 struct {
		Version                 int           `json:"version"`
		Start                   time.Time     `json:"start"`
		Interval                time.Duration `json:"interval_ns"`
		Warmup                  time.Duration `json:"warmup_ns"`
		Series                  []seriesV3    `json:"metrics"`
		Gauges                  []GaugeSeries `json:"gauges,omitempty"`
		LatencyIncludesFailures bool          `json:"latency_includes_failures,omitempty"`
	}
	seriesV3 struct {
		Key
		Total  Stats  `json:"total"`
		Points string `json:"points"`
	}
)

// ReadSnapshot reads a snapshot written by WriteJSON, of this or an earlier
// format version, and checks it. Malformed or inconsistent input is an
// error (never a panic); an unknown format version is an error wrapping
// [ErrVersion].
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	var s Snapshot
	if err := jsonfmt.Strict(r, &s); err != nil {
		return nil, fmt.Errorf("metrics: decoding JSON: %w", err)
	}
	return &s, nil
}

// UnmarshalJSON decodes and validates a snapshot of format version 1, 2 or 3.
// Every histogram in it is frozen.
func (s *Snapshot) UnmarshalJSON(b []byte) error {
	v, err := jsonfmt.Version(b, ErrVersion, 1, 2, Version)
	if err != nil {
		return err
	}
	var p Snapshot
	switch v {
	case 1:
		var old snapshotV1
		if err := jsonfmt.StrictBytes(b, &old); err != nil {
			return err
		}
		p = old.upgrade()
	case 2:
		type plain Snapshot
		if err := jsonfmt.StrictBytes(b, (*plain)(&p)); err != nil {
			return err
		}
	default:
		var w snapshotV3
		if err := jsonfmt.StrictBytes(b, &w); err != nil {
			return err
		}
		p = Snapshot{Version: v, Start: w.Start, Interval: w.Interval, Warmup: w.Warmup,
			Series: make([]Series, len(w.Series)), Gauges: w.Gauges, LatencyIncludesFailures: w.LatencyIncludesFailures}
		compressed := 0
		for _, m := range w.Series {
			compressed += base64.StdEncoding.DecodedLen(len(m.Points))
		}
		b := budgetFor(compressed) // shared: a block's allowance is not each block's
		for i, m := range w.Series {
			pts, err := decodePoints(m.Points, w.Start, w.Interval, b)
			if err != nil {
				return fmt.Errorf("metrics: %v %w", m.Key, err)
			}
			p.Series[i] = Series{Key: m.Key, Total: m.Total, Points: pts}
		}
	}
	if err := p.validate(); err != nil {
		return err
	}
	p.freeze()
	*s = p
	return nil
}

func (s *Snapshot) freeze() {
	for i := range s.Series {
		m := &s.Series[i]
		m.Total.freeze()
		for j := range m.Points {
			m.Points[j].Stats.freeze()
		}
	}
}

// Format version 1: a Stats held one histogram of every latency,
// successful or failed, with its min, max and sum.
type (
	snapshotV1 struct {
		Version  int           `json:"version"`
		Start    time.Time     `json:"start"`
		Interval time.Duration `json:"interval_ns"`
		Warmup   time.Duration `json:"warmup_ns"`
		Metrics  []metricV1    `json:"metrics"`
		Gauges   []GaugeSeries `json:"gauges,omitempty"`
	}
	metricV1 struct {
		Key
		Total  statsV1   `json:"total"`
		Series []pointV1 `json:"series"`
	}
	pointV1 struct {
		Start time.Time `json:"start"`
		statsV1
	}
	statsV1 struct {
		Outcomes      Counts        `json:"outcomes"`
		Latency       Histogram     `json:"latency"`
		Min           time.Duration `json:"min_ns"`
		Max           time.Duration `json:"max_ns"`
		Sum           time.Duration `json:"sum_ns"`
		Clamped       int64         `json:"clamped,omitempty"`
		BytesSent     int64         `json:"bytes_sent,omitempty"`
		BytesReceived int64         `json:"bytes_received,omitempty"`
		VUs           int64         `json:"vus,omitempty"`
	}
)

func (o statsV1) upgrade() Stats {
	return Stats{
		Outcomes:  o.Outcomes,
		Latency:   Distribution{Hist: o.Latency, Min: o.Min, Max: o.Max, Sum: o.Sum, Clamped: o.Clamped},
		BytesSent: o.BytesSent, BytesReceived: o.BytesReceived, VUs: o.VUs,
	}
}

func (o *snapshotV1) upgrade() Snapshot {
	s := Snapshot{Version: 1, Start: o.Start, Interval: o.Interval, Warmup: o.Warmup, Gauges: o.Gauges,
		LatencyIncludesFailures: true}
	for _, m := range o.Metrics {
		nm := Series{Key: m.Key, Total: m.Total.upgrade(), Points: make([]Point, len(m.Series))}
		for i, p := range m.Series {
			nm.Points[i] = Point{Start: p.Start, Stats: p.statsV1.upgrade()}
		}
		s.Series = append(s.Series, nm)
	}
	return s
}

func (s *Snapshot) validate() error {
	if s.Interval < time.Millisecond {
		return fmt.Errorf("metrics: interval_ns must be >= 1ms (1000000), got %d", s.Interval)
	}
	if s.Warmup < 0 || s.Warmup%s.Interval != 0 || s.Warmup/s.Interval > MaxIntervals {
		return fmt.Errorf("metrics: warmup_ns must be >= 0, a whole number of intervals and at most %d of them, got %d", MaxIntervals, s.Warmup)
	}
	seen := map[Key]bool{}
	for i, m := range s.Series {
		if m.Scenario == "" || m.Kind == "" {
			return fmt.Errorf("metrics: metric %d: scenario and kind must not be empty", i)
		}
		if seen[m.Key] {
			return fmt.Errorf("metrics: metric %v appears twice", m.Key)
		}
		seen[m.Key] = true
		if err := m.Total.validate(s.LatencyIncludesFailures); err != nil {
			return fmt.Errorf("metrics: %v total: %w", m.Key, err)
		}
		if len(m.Points) > MaxIntervals {
			return fmt.Errorf("metrics: %v has %d points, more than %d", m.Key, len(m.Points), MaxIntervals)
		}
		for j, p := range m.Points {
			if want := s.Start.Add(time.Duration(j) * s.Interval); !p.Start.Equal(want) {
				return fmt.Errorf("metrics: %v point %d starts at %v, want %v", m.Key, j, p.Start, want)
			}
			if err := p.Stats.validate(s.LatencyIncludesFailures); err != nil {
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
		if len(g.Points) > MaxIntervals {
			return fmt.Errorf("metrics: gauge %q has %d points, more than %d", g.Name, len(g.Points), MaxIntervals)
		}
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
