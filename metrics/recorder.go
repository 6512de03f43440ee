package metrics

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Options configures a [Recorder]. The zero value is valid: intervals of one
// second starting when the Recorder is made, no warm-up.
type Options struct {
	// Start is the wall-clock start of the first interval. Zero means the
	// time New is called.
	Start time.Time
	// Interval is the length of one series interval. 0 means one second;
	// otherwise it must be >= 1ms.
	Interval time.Duration
	// Warmup is the span from Start whose recordings stay in the series but
	// are left out of the totals. It must be >= 0 and a whole number of
	// intervals, so that no interval is half in and half out.
	Warmup time.Duration
	// Shards is the number of recording shards. 0 means 4 × GOMAXPROCS,
	// at least 8 and at most 64; otherwise it must be between 1 and 4096.
	Shards int
}

// Validate reports every problem with o at once.
func (o Options) Validate() error {
	var errs []error
	if o.Interval != 0 && o.Interval < time.Millisecond {
		errs = append(errs, fmt.Errorf("metrics: Options.Interval must be 0 (one second) or >= 1ms, got %v", o.Interval))
	}
	iv := o.Interval
	if iv <= 0 {
		iv = time.Second
	}
	if o.Warmup < 0 {
		errs = append(errs, fmt.Errorf("metrics: Options.Warmup must be >= 0, got %v", o.Warmup))
	} else if o.Warmup%iv != 0 {
		errs = append(errs, fmt.Errorf("metrics: Options.Warmup must be a whole number of intervals (%v), got %v", iv, o.Warmup))
	}
	if o.Shards < 0 || o.Shards > 4096 {
		errs = append(errs, fmt.Errorf("metrics: Options.Shards must be 0 (automatic) or 1..4096, got %d", o.Shards))
	}
	return errors.Join(errs...)
}

// Handle is a pre-resolved metric key, returned by [Recorder.Handle]. It is
// valid only with the Recorder that issued it.
type Handle int32

// Recorder collects the recordings of a run: per metric key, totals over the
// measured window and a series of intervals. Virtual users record through a
// [Shard], which needs no map lookup, no allocation in steady state and no
// lock shared with other shards. All methods are safe for concurrent use.
//
// Time enters a Recorder only through [Recorder.Flush] and
// [Recorder.Finish]: everything recorded between two flushes belongs to the
// interval the later flush closes. The engine calls Flush at each interval
// boundary.
type Recorder struct {
	start    time.Time
	interval time.Duration
	warmup   time.Duration

	nkeys  atomic.Int32
	shards []Shard

	mu       sync.Mutex // guards everything below
	keys     []Key
	index    map[Key]Handle
	totals   []*cell // measured window
	all      []*cell // every closed interval, warm-up included
	series   [][]Point
	vus      []int64
	closed   int // number of closed intervals
	finished bool
	gauges   map[string]*gaugeAcc
	gaugeIDs []string
}

type gaugeAcc struct {
	cur    GaugePoint
	points []GaugePoint
}

// Shard is the part of a Recorder that a group of virtual users records
// into. Get one with [Recorder.Shard]; it is safe for concurrent use.
type Shard struct {
	mu    sync.Mutex
	r     *Recorder
	cells []*cell
	_     [64]byte // keep shards on separate cache lines
}

// cell accumulates one key's recordings in one shard (or the totals).
type cell struct {
	hist          *hdr.Histogram
	counts        Counts
	min, max, sum int64
	clamped       int64
	sent, recv    int64
	dirty         bool
}

func newCell() *cell { return &cell{hist: newDense()} }

func (c *cell) record(d time.Duration, o Outcome) {
	v, cl := clamp(d)
	_ = c.hist.RecordValue(v) // cannot fail: v is within the geometry
	if cl {
		c.clamped++
	}
	x := max(int64(d), 0)
	if c.hist.TotalCount() == 1 || x < c.min {
		c.min = x
	}
	if x > c.max {
		c.max = x
	}
	c.sum += x
	c.counts[o]++
	c.dirty = true
}

// addTo merges c into dst (a total cell).
func (c *cell) addTo(dst *cell) {
	if c.hist.TotalCount() > 0 {
		if dst.hist.TotalCount() == 0 {
			dst.min, dst.max = c.min, c.max
		} else {
			dst.min, dst.max = min(dst.min, c.min), max(dst.max, c.max)
		}
		dst.hist.Merge(c.hist)
	}
	dst.counts.Add(&c.counts)
	dst.sum += c.sum
	dst.clamped += c.clamped
	dst.sent += c.sent
	dst.recv += c.recv
	dst.dirty = true
}

// addToStats merges c into s (an interval point).
func (c *cell) addToStats(s *Stats) {
	if c.hist.TotalCount() > 0 {
		if s.Latency.Count() == 0 {
			s.Min, s.Max = time.Duration(c.min), time.Duration(c.max)
		} else {
			s.Min, s.Max = min(s.Min, time.Duration(c.min)), max(s.Max, time.Duration(c.max))
		}
		s.Latency.mergeDense(c.hist)
	}
	s.Outcomes.Add(&c.counts)
	s.Sum += time.Duration(c.sum)
	s.Clamped += c.clamped
	s.BytesSent += c.sent
	s.BytesReceived += c.recv
}

func (c *cell) stats() Stats {
	var s Stats
	c.addToStats(&s)
	return s
}

func (c *cell) reset() {
	if c.hist.TotalCount() > 0 {
		c.hist.Reset()
	}
	*c = cell{hist: c.hist}
}

// New returns a Recorder, or an error naming the first bad option.
func New(o Options) (*Recorder, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	if o.Interval == 0 {
		o.Interval = time.Second
	}
	if o.Shards == 0 {
		o.Shards = min(max(4*runtime.GOMAXPROCS(0), 8), 64)
	}
	r := &Recorder{
		start:    o.Start,
		interval: o.Interval,
		warmup:   o.Warmup,
		shards:   make([]Shard, o.Shards),
		index:    make(map[Key]Handle),
		gauges:   make(map[string]*gaugeAcc),
	}
	for i := range r.shards {
		r.shards[i].r = r
	}
	return r, nil
}

// Start returns the wall-clock start of the first interval.
func (r *Recorder) Start() time.Time { return r.start }

// Interval returns the length of one series interval.
func (r *Recorder) Interval() time.Duration { return r.interval }

// Handle returns the handle for k, registering k on first use. Call it
// before recording starts (when a scenario is built), not per operation.
func (r *Recorder) Handle(k Key) Handle {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.index[k]; ok {
		return h
	}
	h := Handle(len(r.keys))
	r.keys = append(r.keys, k)
	r.index[k] = h
	r.totals = append(r.totals, newCell())
	r.all = append(r.all, newCell())
	s := make([]Point, r.closed)
	for i := range s {
		s[i].Start = r.intervalStart(i)
	}
	r.series = append(r.series, s)
	r.vus = append(r.vus, 0)
	r.nkeys.Store(int32(len(r.keys)))
	return h
}

// Shard returns the shard that virtual user vu records into. Users are
// spread over the shards by id, so concurrent users rarely share one.
func (r *Recorder) Shard(vu int) *Shard {
	if vu < 0 {
		vu = -vu
	}
	return &r.shards[vu%len(r.shards)]
}

// Record records one operation of key h: its latency d and its outcome.
// Latencies above [MaxValue] are recorded as MaxValue and counted in
// [Stats.Clamped]; negative ones as 0. It does not allocate once the shard
// has seen h.
func (s *Shard) Record(h Handle, d time.Duration, o Outcome) {
	s.mu.Lock()
	s.cell(h).record(d, o)
	s.mu.Unlock()
}

// Count counts n operations of key h with outcome o and no latency, such as
// dropped or interrupted iterations.
func (s *Shard) Count(h Handle, o Outcome, n int64) {
	s.mu.Lock()
	c := s.cell(h)
	c.counts[o] += n
	c.dirty = true
	s.mu.Unlock()
}

// AddBytes adds payload bytes sent and received to key h.
func (s *Shard) AddBytes(h Handle, sent, received int64) {
	s.mu.Lock()
	c := s.cell(h)
	c.sent += sent
	c.recv += received
	c.dirty = true
	s.mu.Unlock()
}

// cell returns the shard's cell for h; s.mu must be held.
func (s *Shard) cell(h Handle) *cell {
	if uint(h) < uint(len(s.cells)) {
		if c := s.cells[h]; c != nil {
			return c
		}
	}
	return s.grow(h)
}

func (s *Shard) grow(h Handle) *cell {
	if h < 0 || int32(h) >= s.r.nkeys.Load() {
		panic(fmt.Sprintf("metrics: handle %d was not issued by this Recorder", h))
	}
	if int(h) >= len(s.cells) {
		s.cells = slices.Grow(s.cells, int(h)+1-len(s.cells))[:int(h)+1]
	}
	c := newCell()
	s.cells[h] = c
	return c
}

// SetVUs sets the number of active virtual users reported on key h's point
// for the current interval (the engine sets it on each scenario's iteration
// key just before each Flush).
func (r *Recorder) SetVUs(h Handle, n int64) {
	r.mu.Lock()
	r.vus[h] = n
	r.mu.Unlock()
}

// Observe adds a sample of the gauge name to the current interval.
func (r *Recorder) Observe(name string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.gauges[name]
	if g == nil {
		g = &gaugeAcc{points: make([]GaugePoint, r.closed)}
		for i := range g.points {
			g.points[i].Start = r.intervalStart(i)
		}
		r.gauges[name] = g
		r.gaugeIDs = append(r.gaugeIDs, name)
	}
	g.cur.add(GaugePoint{Min: v, Max: v, Sum: v, N: 1})
}

func (r *Recorder) intervalStart(i int) time.Time {
	return r.start.Add(time.Duration(i) * r.interval)
}

// Flush closes every interval that ended at or before now. What was recorded
// since the previous flush goes into the first interval it closes; further
// intervals it closes are empty. It returns the number of closed intervals.
func (r *Recorder) Flush(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for !r.finished && !r.intervalStart(r.closed+1).After(now) {
		r.closeInterval()
	}
	return r.closed
}

// Finish flushes up to now and then closes the interval in progress, if it
// has begun, however short it is. After Finish, further recordings are not
// seen by the Recorder. It returns the end of the last closed interval.
func (r *Recorder) Finish(now time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.finished {
		for !r.intervalStart(r.closed + 1).After(now) {
			r.closeInterval()
		}
		// The interval in progress closes if it has begun and holds
		// anything: a recording made at the very instant of the last
		// boundary belongs to it and must not be lost.
		if now.After(r.intervalStart(r.closed)) || r.closed == 0 || r.pending() {
			r.closeInterval()
		}
		r.finished = true
	}
	return r.intervalStart(r.closed)
}

// pending reports whether anything was recorded since the last flush.
// r.mu must be held.
func (r *Recorder) pending() bool {
	for _, g := range r.gauges {
		if g.cur.N > 0 {
			return true
		}
	}
	for si := range r.shards {
		s := &r.shards[si]
		s.mu.Lock()
		for _, c := range s.cells {
			if c != nil && c.dirty {
				s.mu.Unlock()
				return true
			}
		}
		s.mu.Unlock()
	}
	return false
}

// closeInterval moves every shard's recordings into a new series point and,
// past the warm-up, into the totals. r.mu must be held.
func (r *Recorder) closeInterval() {
	i := r.closed
	start := r.intervalStart(i)
	measured := time.Duration(i)*r.interval >= r.warmup
	n := len(r.keys)
	for k := range n {
		r.series[k] = append(r.series[k], Point{Start: start})
		r.series[k][i].VUs = r.vus[k]
	}
	for si := range r.shards {
		s := &r.shards[si]
		s.mu.Lock()
		for k, c := range s.cells {
			if c == nil || !c.dirty {
				continue
			}
			c.addToStats(&r.series[k][i].Stats)
			c.addTo(r.all[k])
			if measured {
				c.addTo(r.totals[k])
			}
			c.reset()
		}
		s.mu.Unlock()
	}
	for k := range n {
		r.series[k][i].Latency.freeze()
	}
	for _, name := range r.gaugeIDs {
		g := r.gauges[name]
		g.cur.Start = start
		g.points = append(g.points, g.cur)
		g.cur = GaugePoint{}
	}
	r.closed++
}

// Snapshot returns an independent copy of everything recorded in closed
// intervals: totals and series for every key, in the order the keys were
// registered (a journey's steps in journey order), and gauges in the order
// they were first observed. Recording may go on meanwhile.
func (r *Recorder) Snapshot() *Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &Snapshot{
		Version:  Version,
		Start:    r.start,
		Interval: r.interval,
		Warmup:   r.warmup,
		Metrics:  make([]Metric, len(r.keys)),
	}
	for k, key := range r.keys {
		m := &s.Metrics[k]
		m.Key = key
		m.Total = r.totals[k].stats()
		m.Series = make([]Point, len(r.series[k]))
		for i, p := range r.series[k] {
			m.Series[i] = Point{Start: p.Start, Stats: p.Stats.Clone()}
		}
	}
	for _, name := range r.gaugeIDs {
		s.Gauges = append(s.Gauges, Gauge{Name: name, Points: slices.Clone(r.gauges[name].points)})
	}
	return s
}

// Progress is a key's state after its latest closed interval.
type Progress struct {
	// Last is the latest closed interval.
	Last Stats
	// Total covers the measured window so far (warm-up excluded).
	Total Stats
	// All covers every closed interval so far, warm-up included: what a
	// live exporter's counters should show.
	All Stats
}

// Progress returns key h's latest interval and running totals without
// copying the series. The returned Stats are copies.
func (r *Recorder) Progress(h Handle) Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Progress{Total: r.totals[h].stats(), All: r.all[h].stats()}
	if s := r.series[h]; len(s) > 0 {
		p.Last = s[len(s)-1].Stats.Clone()
	}
	return p
}

// Keys returns the registered keys in handle order: Keys()[h] is the key of
// Handle h.
func (r *Recorder) Keys() []Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}

// Closed returns the number of closed intervals.
func (r *Recorder) Closed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}
