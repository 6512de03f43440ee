package metrics

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// A Merger merges snapshots one at a time into the snapshot [Merge] would
// make of them all, holding only the merge so far: a program merging the
// result files of many processes reads one, adds it and lets it go, so
// its memory is that of the merge and one file, not of every file.
//
// Histograms merge in batches: the buckets a snapshot adds wait in a
// short list beside the histogram merged so far and join it when the list
// is as long as the histogram, so each Add costs what the snapshot holds,
// not what the merge holds. The zero Merger is ready to use; a Merger is
// not safe for concurrent use.
type Merger struct {
	n        int // snapshots added
	tried    int // snapshots given to Add
	interval time.Duration
	warmup   time.Duration
	start    time.Time
	points   int // intervals in the grid
	held     int // points in the snapshots added
	series   []*accSeries
	index    map[Key]*accSeries
	gauges   []*GaugeSeries
	gindex   map[string]*GaugeSeries
	mixed    bool // some snapshot's latencies include failures
	nocheck  bool // the caller checked the span of all its snapshots
}

type accSeries struct {
	key    Key
	total  accStats
	points []accStats
}

// accStats is a Stats being merged: its histograms in accDists.
type accStats struct {
	st       Stats // histograms unused
	lat, bad accDist
}

func (a *accStats) add(o *Stats) {
	a.st.mergeCounts(o)
	a.lat.add(&o.Latency)
	a.bad.add(&o.Failed)
	for _, c := range o.Status { // in place: a few codes
		i, ok := slices.BinarySearchFunc(a.st.Status, c.Code, func(x StatusCount, code int) int { return x.Code - code })
		if ok {
			a.st.Status[i].Count = satAdd(a.st.Status[i].Count, c.Count)
		} else {
			a.st.Status = slices.Insert(a.st.Status, i, c)
		}
	}
}

func (a *accStats) done() Stats {
	s := a.st
	s.Status = slices.Clone(s.Status)
	s.Latency = a.lat.done()
	s.Failed = a.bad.done()
	return s
}

// accDist is a Distribution being merged: its histogram so far (fz, of nb
// buckets) and the buckets added since, each its flat index << 48 | its
// count, not yet in order.
type accDist struct {
	exact Distribution // its minimum, maximum, sum and clamped count; no histogram
	n     int64
	fz    *frozen
	nb    int
	pend  []uint64
}

const pendCount = 1<<48 - 1

func (a *accDist) add(d *Distribution) {
	c := d.Hist.Count()
	if c == 0 {
		return
	}
	a.exact.mergeExact(a.n, d)
	a.n = satAdd(a.n, c)
	d.Hist.each(func(idx int, c int64) bool {
		for c > 0 { // counts beyond 48 bits in pieces
			k := min(c, pendCount)
			a.pend = append(a.pend, uint64(idx)<<48|uint64(k))
			c -= k
		}
		return true
	})
	if len(a.pend) >= max(16, a.nb) {
		a.compact()
	}
}

// compact merges the waiting buckets into the histogram.
func (a *accDist) compact() {
	if len(a.pend) == 0 {
		return
	}
	slices.Sort(a.pend)
	var z freezer
	z.f.data = make([]byte, 0, len(a.pend)+3*a.nb)
	i := 0
	next := func() (int, int64, bool) { // the next waiting bucket, counts of one index summed
		if i == len(a.pend) {
			return 0, 0, false
		}
		idx, c := int(a.pend[i]>>48), int64(a.pend[i]&pendCount)
		for i++; i < len(a.pend) && int(a.pend[i]>>48) == idx; i++ {
			c = satAdd(c, int64(a.pend[i]&pendCount))
		}
		return idx, c, true
	}
	pi, pc, ok := next()
	if a.fz != nil {
		a.fz.each(func(idx int, c int64) bool {
			for ; ok && pi < idx; pi, pc, ok = next() {
				z.add(pi, pc)
			}
			if ok && pi == idx {
				c = satAdd(c, pc)
				pi, pc, ok = next()
			}
			z.add(idx, c)
			return true
		})
	}
	for ; ok; pi, pc, ok = next() {
		z.add(pi, pc)
	}
	a.fz, a.nb = z.done(), z.k
	a.pend = a.pend[:0]
	if cap(a.pend) > 2*max(16, a.nb) {
		a.pend = nil // a list grown by one large snapshot
	}
}

func (a *accDist) done() Distribution {
	a.compact()
	if a.n == 0 {
		return Distribution{}
	}
	d := a.exact
	d.Hist = Histogram{fz: a.fz}
	return d
}

// Add merges s into the merge so far. s must have the Interval and Warmup
// of the first snapshot added, an interval grid that lines up with it,
// and lie close enough in time to what was added before that the merge is
// not mostly empty intervals (see [Merge]); otherwise Add returns an error
// saying which, and the merge so far is unchanged. Add does not modify s
// and keeps nothing of it.
func (m *Merger) Add(s *Snapshot) error {
	i := m.tried // errors name the snapshot by the order it was given in
	m.tried++
	if s == nil {
		return fmt.Errorf("metrics: snapshot %d is nil", i)
	}
	if s.Interval <= 0 {
		return fmt.Errorf("metrics: snapshot %d: interval_ns must be > 0, got %d", i, s.Interval)
	}
	if m.n == 0 {
		m.interval, m.warmup, m.start = s.Interval, s.Warmup, s.Start
		m.index, m.gindex = map[Key]*accSeries{}, map[string]*GaugeSeries{}
	}
	if s.Interval != m.interval {
		return fmt.Errorf("metrics: snapshot %d has interval %v, the first has %v", i, s.Interval, m.interval)
	}
	if s.Warmup != m.warmup {
		return fmt.Errorf("metrics: snapshot %d has warm-up %v, the first has %v", i, s.Warmup, m.warmup)
	}
	if d := s.Start.Sub(m.start); d%m.interval != 0 {
		return fmt.Errorf("metrics: snapshot %d starts %v after the first, not a whole number of %v intervals", i, d, m.interval)
	}
	start := m.start
	if s.Start.Before(start) {
		start = s.Start
	}
	end := m.start.Add(time.Duration(m.points) * m.interval)
	if e := s.End(); e.After(end) || m.n == 0 {
		end = e
	}
	span := end.Sub(start)
	if span/m.interval > MaxIntervals {
		return fmt.Errorf("metrics: the merged series would span %v, more than %d intervals of %v", span, MaxIntervals, m.interval)
	}
	n := int(span / m.interval)
	held, keys := m.held, len(m.series)+len(m.gauges)
	for _, x := range s.Series {
		held += len(x.Points)
		if m.index[x.Key] == nil {
			keys++
		}
	}
	for _, g := range s.Gauges {
		held += len(g.Points)
		if m.gindex[g.Name] == nil {
			keys++
		}
	}
	// Parts of one run overlap in time, so the merge holds about as many
	// points as its parts. Parts far apart would make series of nothing:
	// from two files of a few hundred bytes, gigabytes.
	if made := n * keys; !m.nocheck && made > 2*held+mergeSlack {
		return fmt.Errorf("metrics: the snapshots hold %d points but their merge would make %d (%d intervals from %v): they are too far apart in time to be parts of one run",
			held, made, n, start.UTC().Format(time.RFC3339))
	}
	m.grow(start, n)
	m.held = held
	m.mixed = m.mixed || s.LatencyIncludesFailures
	off := int(s.Start.Sub(m.start) / m.interval)
	for i := range s.Series {
		x := &s.Series[i]
		a := m.index[x.Key]
		if a == nil {
			a = &accSeries{key: x.Key, points: make([]accStats, m.points)}
			m.index[x.Key] = a
			m.series = append(m.series, a)
		}
		a.total.add(&x.Total)
		for j := range x.Points {
			a.points[off+j].add(&x.Points[j].Stats)
		}
	}
	for _, g := range s.Gauges {
		a := m.gindex[g.Name]
		if a == nil {
			a = &GaugeSeries{Name: g.Name, Points: make([]GaugePoint, m.points)}
			m.gindex[g.Name] = a
			m.gauges = append(m.gauges, a)
		}
		for j, p := range g.Points {
			a.Points[off+j].add(p)
		}
	}
	m.n++
	return nil
}

// grow widens the grid to n intervals from start (never narrower).
func (m *Merger) grow(start time.Time, n int) {
	before := int(m.start.Sub(start) / m.interval)
	n = max(n, before+m.points)
	if before == 0 && n == m.points {
		return
	}
	for _, a := range m.series {
		p := make([]accStats, n)
		copy(p[before:], a.points)
		a.points = p
	}
	for _, g := range m.gauges {
		p := make([]GaugePoint, n)
		copy(p[before:], g.Points)
		g.Points = p
	}
	m.start, m.points = start, n
}

// Snapshot returns the merge of the snapshots added (see [Merge]); it is
// an error if none was. The Merger can go on adding, and the snapshot
// stays as it was.
func (m *Merger) Snapshot() (*Snapshot, error) {
	if m.n == 0 {
		return nil, errors.New("metrics: Merge needs at least one snapshot")
	}
	out := &Snapshot{Version: Version, Start: m.start, Interval: m.interval, Warmup: m.warmup,
		LatencyIncludesFailures: m.mixed, Series: make([]Series, len(m.series))}
	for i, a := range m.series {
		o := &out.Series[i]
		o.Key, o.Total = a.key, a.total.done()
		o.Points = make([]Point, len(a.points))
		for j := range a.points {
			o.Points[j] = Point{Start: m.start.Add(time.Duration(j) * m.interval), Stats: a.points[j].done()}
		}
	}
	for _, g := range m.gauges {
		pts := slices.Clone(g.Points)
		for j := range pts {
			pts[j].Start = m.start.Add(time.Duration(j) * m.interval)
		}
		out.Gauges = append(out.Gauges, GaugeSeries{Name: g.Name, Points: pts})
	}
	return out, nil
}
