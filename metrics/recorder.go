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

// MaxIntervals is the most intervals a series may have: a run of a week at
// one-second intervals, or about 17 minutes at the shortest interval of
// 1 ms. [Options.Validate], [Merge] and the JSON decoder refuse more.
const MaxIntervals = 7 * 24 * 3600

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
	// Shards is the number of recording shards. 0 means GOMAXPROCS, at
	// least 2 and at most 64 (each shard holds a dense histogram of about
	// 190 KiB per key in use, so more shards cost memory, while a record
	// holds its shard only briefly: one per processor keeps recordings
	// from waiting on each other); otherwise it must be between 1 and 4096.
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
	} else if o.Warmup/iv >= MaxIntervals {
		errs = append(errs, fmt.Errorf("metrics: Options.Warmup must be shorter than %d intervals (%v), got %v", MaxIntervals, iv, o.Warmup))
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
// Every recording carries its instant, and lands in the interval that holds
// that instant, however late the interval is closed: [Recorder.Flush]
// closes the intervals that have ended (the engine calls it at each
// boundary) and [Recorder.Finish] the last one. A recording made for an
// interval that was closed already (its instant was taken just before the
// boundary, the call came just after) amends that interval at the next
// flush.
type Recorder struct {
	start    time.Time
	interval time.Duration
	warmup   time.Duration

	nkeys  atomic.Int32
	shards []Shard

	mu       sync.Mutex // guards everything below but pending and free
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
	scratch  *hdr.PackedHistogram

	// pmu guards the recordings handed over by the shards, by interval and
	// key, until a flush takes them. Lock order: mu, a shard's mu, pmu.
	pmu     sync.Mutex
	pending map[slotKey]*cell
	free    []*cell
}

type slotKey struct {
	slot int
	h    Handle
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

// dense is a latency distribution being recorded: a dense HDR histogram
// (allocated at the first value) with exact min, max and sum.
type dense struct {
	hist          *hdr.Histogram
	min, max, sum int64
	clamped       int64
}

func (d *dense) record(v time.Duration, n int64) {
	x, cl := clamp(v)
	if d.hist == nil {
		d.hist = newDense()
	}
	if d.hist.TotalCount() == 0 || int64(max(v, 0)) < d.min {
		d.min = int64(max(v, 0))
	}
	sum := int64(max(v, 0))
	if n == 1 { // a single operation, the hot path: no product to saturate
		_ = d.hist.RecordValue(x) // cannot fail: x is within the geometry
	} else {
		_ = d.hist.RecordValues(x, n)
		sum = satMul(sum, n)
	}
	if cl {
		d.clamped = satAdd(d.clamped, n)
	}
	d.max = max(d.max, int64(v))
	d.sum = satAdd(d.sum, sum)
}

func (d *dense) count() int64 {
	if d.hist == nil {
		return 0
	}
	return d.hist.TotalCount()
}

func (d *dense) add(o *dense) {
	if o.count() == 0 {
		return
	}
	if d.hist == nil {
		d.hist = newDense()
	}
	if d.hist.TotalCount() == 0 {
		d.min, d.max = o.min, o.max
	} else {
		d.min, d.max = min(d.min, o.min), max(d.max, o.max)
	}
	d.hist.Merge(o.hist)
	d.sum = satAdd(d.sum, o.sum)
	d.clamped = satAdd(d.clamped, o.clamped)
}

func (d *dense) dist(scratch *hdr.PackedHistogram) Distribution {
	if d.count() == 0 {
		return Distribution{}
	}
	return Distribution{
		Hist: Histogram{fz: freezeDense(d.hist, scratch)},
		Min:  time.Duration(d.min), Max: time.Duration(d.max), Sum: time.Duration(d.sum), Clamped: d.clamped,
	}
}

func (d *dense) reset() {
	h := d.hist
	if h != nil && h.TotalCount() > 0 {
		h.Reset()
	}
	*d = dense{hist: h}
}

// cell accumulates one key's recordings of one interval in one shard, or
// a key's totals.
type cell struct {
	slot       int           // the interval it accumulates
	lo, hi     time.Duration // that interval, from the recorder's start
	ok, failed dense
	counts     Counts
	status     StatusCounts // sorted by code; few codes a cell, so a short list
	sent, recv int64
	dirty      bool
	// next chains the cells of the same interval and key that other shards
	// handed over: a hand-over only links, and the clock's goroutine merges
	// the chain when it closes the interval, so that no virtual user pays
	// for a merge at an interval boundary.
	next *cell
}

// the operations a shard applies to a cell
const (
	opRecord = iota
	opCount
	opBytes
	opStatus
)

type op struct {
	kind int
	d    time.Duration
	o    Outcome
	a, b int64
}

func (c *cell) apply(p *op) {
	switch p.kind {
	case opRecord:
		switch {
		case p.a <= 0:
			return
		case p.o == OK:
			c.ok.record(p.d, p.a)
		case p.o.IsError():
			c.failed.record(p.d, p.a)
		}
		if p.o < NumOutcomes {
			c.counts[p.o] = satAdd(c.counts[p.o], p.a)
		}
	case opCount:
		if p.o < NumOutcomes && p.a > 0 {
			c.counts[p.o] = satAdd(c.counts[p.o], p.a)
		}
	case opBytes:
		c.sent = satAdd(c.sent, max(p.a, 0))
		c.recv = satAdd(c.recv, max(p.b, 0))
	case opStatus:
		if p.a < MinStatus || p.a > MaxStatus {
			return
		}
		c.status = c.status.add(int(p.a), 1)
	}
	c.dirty = true
}

// add merges o into c.
func (c *cell) add(o *cell) {
	c.ok.add(&o.ok)
	c.failed.add(&o.failed)
	c.counts.Add(&o.counts)
	for _, sc := range o.status {
		c.status = c.status.add(sc.Code, sc.Count)
	}
	c.sent = satAdd(c.sent, o.sent)
	c.recv = satAdd(c.recv, o.recv)
	c.dirty = c.dirty || o.dirty
}

// stats returns c's recordings as frozen Stats.
func (c *cell) stats(scratch *hdr.PackedHistogram) Stats {
	s := Stats{
		Outcomes: c.counts, Latency: c.ok.dist(scratch), Failed: c.failed.dist(scratch),
		BytesSent: c.sent, BytesReceived: c.recv,
	}
	if len(c.status) > 0 {
		s.Status = slices.Clone(c.status) // the cell's list is reused
	}
	return s
}

func (c *cell) reset() {
	c.ok.reset()
	c.failed.reset()
	*c = cell{ok: c.ok, failed: c.failed, status: c.status[:0]}
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
		o.Shards = min(max(runtime.GOMAXPROCS(0), 2), 64)
	}
	r := &Recorder{
		start:    o.Start,
		interval: o.Interval,
		warmup:   o.Warmup,
		shards:   make([]Shard, o.Shards),
		index:    make(map[Key]Handle),
		gauges:   make(map[string]*gaugeAcc),
		scratch:  newPacked(),
		pending:  make(map[slotKey]*cell),
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
	r.totals = append(r.totals, &cell{})
	r.all = append(r.all, &cell{})
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
		vu = -(vu + 1)
	}
	return &r.shards[vu%len(r.shards)]
}

// Record records one operation of key h that ended at instant at: its
// latency d and its outcome. The latency goes to the successful
// operations' distribution for [OK], to the failed ones' for an error
// class, and nowhere for [Interrupted] or [Dropped] (use [Shard.Count]).
// Latencies above [MaxValue] are recorded as MaxValue and counted as
// clamped; negative ones as 0. It does not allocate once the shard has
// seen h.
func (s *Shard) Record(h Handle, at time.Time, d time.Duration, o Outcome) {
	s.apply(h, at, &op{kind: opRecord, d: d, o: o, a: 1})
}

// RecordN records n operations of key h that ended at instant at, each
// with latency d and outcome o, as n calls of [Shard.Record] would: what
// a histogram read from elsewhere (the Go runtime's, say) adds bucket by
// bucket. n <= 0 records nothing.
func (s *Shard) RecordN(h Handle, at time.Time, d time.Duration, o Outcome, n int64) {
	s.apply(h, at, &op{kind: opRecord, d: d, o: o, a: n})
}

// Count counts n operations of key h with outcome o and no latency, such as
// dropped or interrupted iterations, at instant at.
func (s *Shard) Count(h Handle, at time.Time, o Outcome, n int64) {
	s.apply(h, at, &op{kind: opCount, o: o, a: n})
}

// AddBytes adds payload bytes sent and received to key h at instant at.
func (s *Shard) AddBytes(h Handle, at time.Time, sent, received int64) {
	s.apply(h, at, &op{kind: opBytes, a: sent, b: received})
}

// Status counts one response with the given status code on key h at
// instant at: an HTTP status on a step's own key, or a code of another
// protocol on a key of its own kind (see [RegisterCodes]). Codes outside
// [MinStatus]..[MaxStatus] are ignored.
func (s *Shard) Status(h Handle, at time.Time, code int) {
	s.apply(h, at, &op{kind: opStatus, a: int64(code)})
}

func (s *Shard) apply(h Handle, at time.Time, p *op) {
	off := at.Sub(s.r.start)
	s.mu.Lock()
	c := s.cell(h)
	if off < c.lo || off >= c.hi {
		c = s.retarget(h, c, off)
		if c == nil { // an interval this shard has moved past
			r := s.r
			r.pmu.Lock()
			r.pendingCell(r.slotOf(off), h).apply(p)
			r.pmu.Unlock()
			s.mu.Unlock()
			return
		}
	}
	c.apply(p)
	s.mu.Unlock()
}

// retarget points the shard's cell for h at the interval that holds off,
// handing what it holds to the recorder first; it returns nil when that
// interval is earlier than the cell's. s.mu must be held.
func (s *Shard) retarget(h Handle, c *cell, off time.Duration) *cell {
	r := s.r
	slot := r.slotOf(off)
	switch {
	case slot == c.slot && c.hi > 0:
		return c
	case slot < c.slot:
		return nil
	}
	if c.dirty {
		r.pmu.Lock()
		c = r.handOver(c, h)
		r.pmu.Unlock()
		s.cells[h] = c
	}
	c.slot = slot
	c.lo = time.Duration(slot) * r.interval
	c.hi = c.lo + r.interval
	return c
}

// handOver moves c's recordings into the pending map, linking it to the
// chain of its interval and key, and returns an empty cell to use instead.
// r.pmu must be held.
func (r *Recorder) handOver(c *cell, h Handle) *cell {
	k := slotKey{c.slot, h}
	if p := r.pending[k]; p != nil {
		c.next, p.next = p.next, c
	} else {
		r.pending[k] = c
	}
	return r.freeCell()
}

// pendingCell returns the pending cell of (slot, h), making one if needed.
// r.pmu must be held.
func (r *Recorder) pendingCell(slot int, h Handle) *cell {
	k := slotKey{slot, h}
	c := r.pending[k]
	if c == nil {
		c = r.freeCell()
		c.slot = slot
		r.pending[k] = c
	}
	return c
}

func (r *Recorder) freeCell() *cell {
	if n := len(r.free); n > 0 {
		c := r.free[n-1]
		r.free = r.free[:n-1]
		return c
	}
	return &cell{}
}

func (r *Recorder) slotOf(off time.Duration) int {
	if off < 0 {
		return 0
	}
	return int(min(off/r.interval, 1<<40))
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
	c := &cell{}
	s.cells[h] = c
	return c
}

// SetVUs sets the number of active virtual users reported on key h's points
// for the intervals closed next (the engine sets it on each scenario's
// iteration key just before each Flush).
func (r *Recorder) SetVUs(h Handle, n int64) {
	r.mu.Lock()
	r.vus[h] = n
	r.mu.Unlock()
}

// Observe adds a sample of the gauge name to the interval closed next.
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

// Flush closes every interval that ended at or before now, each with the
// recordings whose instants it holds, and adds to intervals closed before
// the recordings that reached them late. It returns the number of closed
// intervals.
func (r *Recorder) Flush(now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.finished {
		target := r.slotOf(now.Sub(r.start)) // intervals before it have ended
		r.collect(target)
		r.closeUpTo(max(target, r.closed))
	}
	return r.closed
}

// Finish flushes up to now and then closes the interval in progress, if it
// has begun or holds anything, however short it is. After Finish, further
// recordings are not seen by the Recorder. It returns the end of the last
// closed interval.
func (r *Recorder) Finish(now time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.finished {
		off := now.Sub(r.start)
		target := r.slotOf(off)
		if off > time.Duration(target)*r.interval {
			target++ // the interval in progress has begun
		}
		last := r.collect(1 << 41)
		target = max(target, last+1, r.closed, 1)
		for _, g := range r.gauges {
			if g.cur.N > 0 {
				target = max(target, r.closed+1)
			}
		}
		r.closeUpTo(target)
		r.finished = true
	}
	return r.intervalStart(r.closed)
}

// collect hands every shard's recordings of intervals before limit over to
// the pending map, and returns the latest interval pending (-1 if none).
// r.mu must be held.
func (r *Recorder) collect(limit int) int {
	for si := range r.shards {
		s := &r.shards[si]
		s.mu.Lock()
		for h, c := range s.cells {
			if c != nil && c.dirty && c.slot < limit {
				r.pmu.Lock()
				nc := r.handOver(c, Handle(h))
				r.pmu.Unlock()
				s.cells[h] = nc
			}
		}
		s.mu.Unlock()
	}
	r.pmu.Lock()
	defer r.pmu.Unlock()
	last := -1
	for k := range r.pending {
		last = max(last, k.slot)
	}
	return last
}

// closeUpTo closes the intervals before target, and adds pending
// recordings of intervals closed earlier to them. r.mu must be held.
//
// Merging a key's histograms takes up to a millisecond, so it yields
// after each key: a flush of many keys would otherwise keep its processor
// for milliseconds, and the virtual users and open-model schedulers
// queued behind it would start late.
func (r *Recorder) closeUpTo(target int) {
	target = min(target, r.closed+MaxIntervals)
	r.pmu.Lock()
	var late []slotKey
	byKey := map[slotKey]*cell{}
	for k, c := range r.pending {
		if k.slot < target {
			byKey[k] = c
			delete(r.pending, k)
			if k.slot < r.closed {
				late = append(late, k)
			}
		}
	}
	r.pmu.Unlock()
	var merged []*cell
	for _, c := range byKey {
		for n := c.next; n != nil; n = n.next {
			c.add(n)
			merged = append(merged, n)
		}
		runtime.Gosched()
	}
	for _, k := range late {
		c := byKey[k]
		st := c.stats(r.scratch)
		r.series[k.h][k.slot].Stats.Merge(&st) // st carries no VUs: the point keeps its own
		r.addTotals(k.h, k.slot, c)
	}
	for r.closed < target {
		i := r.closed
		start := r.intervalStart(i)
		for h := range r.keys {
			p := Point{Start: start}
			if c := byKey[slotKey{i, Handle(h)}]; c != nil {
				p.Stats = c.stats(r.scratch)
				r.addTotals(Handle(h), i, c)
				runtime.Gosched()
			}
			p.VUs = r.vus[h]
			r.series[h] = append(r.series[h], p)
		}
		for _, name := range r.gaugeIDs {
			g := r.gauges[name]
			g.cur.Start = start
			g.points = append(g.points, g.cur)
			g.cur = GaugePoint{}
		}
		r.closed++
	}
	for _, c := range byKey {
		merged = append(merged, c)
	}
	for _, c := range merged {
		c.reset()
		runtime.Gosched()
	}
	r.pmu.Lock()
	r.free = append(r.free, merged...)
	r.pmu.Unlock()
}

// addTotals adds the recordings of interval slot to key h's totals.
func (r *Recorder) addTotals(h Handle, slot int, c *cell) {
	r.all[h].add(c)
	if time.Duration(slot)*r.interval >= r.warmup {
		r.totals[h].add(c)
	}
}

// Snapshot returns an independent copy of everything recorded in closed
// intervals: totals and series for every key, in the order the keys were
// registered (a journey's steps in journey order), and gauges in the order
// they were first observed. Every histogram in it is frozen. Recording may
// go on meanwhile.
func (r *Recorder) Snapshot() *Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &Snapshot{
		Version:  Version,
		Start:    r.start,
		Interval: r.interval,
		Warmup:   r.warmup,
		Series:   make([]Series, len(r.keys)),
	}
	for k, key := range r.keys {
		m := &s.Series[k]
		m.Key = key
		m.Total = r.totals[k].stats(r.scratch)
		m.Points = make([]Point, len(r.series[k]))
		for i, p := range r.series[k] {
			m.Points[i] = Point{Start: p.Start, Stats: p.Stats.Clone()}
		}
	}
	for _, name := range r.gaugeIDs {
		s.Gauges = append(s.Gauges, GaugeSeries{Name: name, Points: slices.Clone(r.gauges[name].points)})
	}
	return s
}

// KeyProgress is a key's state after its latest closed interval.
type KeyProgress struct {
	// Last is the latest closed interval.
	Last Stats
	// Total covers the measured window so far (warm-up excluded).
	Total Stats
	// All covers every closed interval so far, warm-up included: what a
	// live exporter's counters should show.
	All Stats
}

// Progress returns key h's latest interval and running totals without
// copying the series. The returned Stats are frozen copies.
func (r *Recorder) Progress(h Handle) KeyProgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := KeyProgress{Total: r.totals[h].stats(r.scratch), All: r.all[h].stats(r.scratch)}
	if s := r.series[h]; len(s) > 0 {
		p.Last = s[len(s)-1].Stats.Clone()
	}
	return p
}

// LatestGauges returns every gauge with one point: that of the latest
// closed interval (with N = 0 if it had no sample), in the order the
// gauges were first observed.
func (r *Recorder) LatestGauges() []GaugeSeries {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]GaugeSeries, 0, len(r.gaugeIDs))
	for _, name := range r.gaugeIDs {
		g := GaugeSeries{Name: name}
		if pts := r.gauges[name].points; len(pts) > 0 {
			g.Points = []GaugePoint{pts[len(pts)-1]}
		}
		out = append(out, g)
	}
	return out
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
