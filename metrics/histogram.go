package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The geometry of every histogram in this module. Values are nanoseconds;
// the lowest discernible value is 1 µs and the highest trackable is 1 h, with
// 3 significant decimal digits. Longer values are clamped to MaxValue and
// counted as clamped (see [Distribution.Clamped]).
const (
	MinValue          = time.Microsecond
	MaxValue          = time.Hour
	SignificantDigits = 3
)

func newDense() *hdr.Histogram {
	return hdr.New(int64(MinValue), int64(MaxValue), SignificantDigits)
}

func newPacked() *hdr.PackedHistogram {
	return hdr.NewPacked(int64(MinValue), int64(MaxValue), SignificantDigits)
}

// Histogram is a lossless latency distribution (an HDR histogram). Its zero
// value is an empty histogram ready to use.
//
// A histogram is either being built ([Histogram.Record], [Histogram.Merge])
// or frozen: every histogram in a [Snapshot] is frozen, a compact read-only
// form whose quantiles cost a binary search and a short scan, with no
// allocation. Frozen histograms are never modified, so copies of a
// Histogram value may share them and concurrent reads are safe; a
// Histogram is not safe for concurrent mutation.
//
// Quantiles are exact to 3 significant digits (HDR's bucket precision),
// never interpolated. A [Distribution] keeps the exact minimum, maximum and
// sum beside its histogram.
type Histogram struct {
	live *hdr.Histogram // being built; nil otherwise
	fz   *frozen        // frozen; nil when empty or live
}

// Count returns the number of recorded values.
func (h *Histogram) Count() int64 {
	switch {
	case h == nil:
		return 0
	case h.live != nil:
		return h.live.TotalCount()
	case h.fz != nil:
		return h.fz.n
	}
	return 0
}

// thaw makes h buildable, keeping its values.
func (h *Histogram) thaw() {
	if h.live != nil {
		return
	}
	h.live = newDense()
	if h.fz != nil {
		h.fz.each(func(idx int, c int64) bool {
			_ = h.live.RecordValues(lowestOf(idx), c) // within the geometry
			return true
		})
		h.fz = nil
	}
}

// freeze turns h into its frozen form.
func (h *Histogram) freeze() {
	if h.live == nil {
		return
	}
	if h.live.TotalCount() == 0 {
		h.live = nil
		return
	}
	h.fz = freezeDense(h.live, nil)
	h.live = nil
}

// freezeDense returns the frozen form of a dense histogram (nil if empty).
func freezeDense(d *hdr.Histogram, scratch *hdr.PackedHistogram) *frozen {
	if d.TotalCount() == 0 {
		return nil
	}
	if scratch == nil {
		scratch = newPacked()
	} else {
		scratch.Reset()
	}
	scratch.MergeFrom(d)
	return freezePacked(scratch)
}

func freezePacked(p *hdr.PackedHistogram) *frozen {
	var z freezer
	z.f.data = make([]byte, 0, 3*int(p.Populated()))
	p.ForEachBucket(func(v, c int64) bool {
		z.add(flatIndex(v), c)
		return true
	})
	return z.done()
}

// Frozen returns a frozen copy of h (h itself if it is frozen already).
func (h *Histogram) Frozen() Histogram {
	if h.live == nil {
		return *h
	}
	return Histogram{fz: freezeDense(h.live, nil)}
}

// Record adds one value, clamped to [0, MaxValue]. It reports whether the
// value was clamped from above. Record is meant for building histograms
// outside the hot path (tests, conversions); virtual users record through a
// [Shard].
func (h *Histogram) Record(d time.Duration) (clamped bool) {
	h.thaw()
	v, clamped := clamp(d)
	_ = h.live.RecordValue(v) // cannot fail: v is within the geometry
	return clamped
}

func clamp(d time.Duration) (int64, bool) {
	switch {
	case d < 0:
		return 0, false
	case d > MaxValue:
		return int64(MaxValue), true
	}
	return int64(d), false
}

// Quantile returns the value at quantile q (0 ≤ q ≤ 1): the highest value
// of the bucket that holds the value of rank ⌈q·n⌋ (the lowest value of the
// first bucket for q = 0). Values below half of MinValue read as 0. It
// returns 0 for an empty histogram; q outside [0, 1] is clamped.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	q = clampQ(q)
	if h.live != nil {
		v := h.live.ValueAtPercentile(q * 100)
		return time.Duration(quantileOfBucket(flatIndex(min(v, int64(MaxValue))), q))
	}
	return time.Duration(quantileOfBucket(h.fz.bucketAtRank(rankOf(q, n)), q))
}

func clampQ(q float64) float64 {
	if math.IsNaN(q) || q < 0 {
		return 0
	}
	return min(q, 1)
}

// Quantiles returns the values at each of qs (see [Histogram.Quantile]).
func (h *Histogram) Quantiles(qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	for i, q := range qs {
		out[i] = h.Quantile(q)
	}
	return out
}

// Mean returns the mean of the bucket midpoints: an approximation to HDR
// precision. [Distribution.Mean] gives the exact mean.
func (h *Histogram) Mean() time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	var sum float64
	h.each(func(idx int, c int64) bool {
		sum += float64(midOf(idx)) * float64(c)
		return true
	})
	return time.Duration(sum / float64(n))
}

// StdDev returns the standard deviation of the recorded values, computed from
// bucket midpoints.
func (h *Histogram) StdDev() time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	mean := float64(h.Mean())
	var sq float64
	h.each(func(idx int, c int64) bool {
		d := float64(midOf(idx)) - mean
		sq += d * d * float64(c)
		return true
	})
	return time.Duration(math.Sqrt(sq / float64(n)))
}

// each calls fn for every populated bucket in ascending order.
func (h *Histogram) each(fn func(idx int, c int64) bool) {
	switch {
	case h.fz != nil:
		h.fz.each(fn)
	case h.live != nil && h.live.TotalCount() > 0:
		p := newPacked()
		p.MergeFrom(h.live)
		p.ForEachBucket(func(v, c int64) bool { return fn(flatIndex(v), c) })
	}
}

// Merge adds every value of o to h. Merging is exact: the result equals a
// histogram that recorded both sets of values. Two frozen histograms merge
// into a frozen one.
func (h *Histogram) Merge(o *Histogram) {
	switch {
	case o.Count() == 0:
	case h.Count() == 0:
		*h = o.Clone()
	case h.fz != nil && o.fz != nil:
		h.fz = h.fz.merge(o.fz)
	default:
		h.thaw()
		if o.live != nil {
			h.live.Merge(o.live)
			return
		}
		o.fz.each(func(idx int, c int64) bool {
			_ = h.live.RecordValues(lowestOf(idx), c)
			return true
		})
	}
}

// Clone returns an independent copy of h (a frozen histogram shares its
// read-only buckets).
func (h *Histogram) Clone() Histogram {
	if h.live != nil {
		if h.live.TotalCount() == 0 {
			return Histogram{}
		}
		return Histogram{live: h.live.Clone()}
	}
	return *h
}

// Buckets calls fn for each populated bucket in ascending order with the
// bucket's highest value and its count, until fn returns false.
func (h *Histogram) Buckets(fn func(value time.Duration, count int64) bool) {
	h.each(func(idx int, c int64) bool { return fn(time.Duration(highestOf(idx)), c) })
}

// Equal reports whether h and o hold the same counts in the same buckets.
func (h *Histogram) Equal(o *Histogram) bool {
	if h.Count() != o.Count() {
		return false
	}
	a, b := h.Frozen(), o.Frozen()
	if a.fz == nil || b.fz == nil {
		return a.fz == b.fz
	}
	type bc struct {
		i int
		c int64
	}
	var xs []bc
	a.fz.each(func(i int, c int64) bool { xs = append(xs, bc{i, c}); return true })
	k, same := 0, true
	b.fz.each(func(i int, c int64) bool {
		if k >= len(xs) || xs[k] != (bc{i, c}) {
			same = false
			return false
		}
		k++
		return true
	})
	return same && k == len(xs)
}

// Bytes returns the approximate memory the histogram holds.
func (h *Histogram) Bytes() int {
	switch {
	case h == nil:
		return 0
	case h.live != nil:
		return h.live.ByteSize()
	case h.fz != nil:
		return h.fz.bytes()
	}
	return 0
}

// MarshalJSON encodes the histogram as a JSON string holding HDR's standard
// V2 compressed, base64 encoding (readable by any HdrHistogram library); an
// empty histogram is the empty string.
func (h Histogram) MarshalJSON() ([]byte, error) {
	if h.Count() == 0 {
		return []byte(`""`), nil
	}
	if h.fz != nil {
		return json.Marshal(string(encodeV2(h.fz.each)))
	}
	p := newPacked()
	p.MergeFrom(h.live)
	b, err := p.Encode()
	if err != nil {
		return nil, fmt.Errorf("metrics: encoding histogram: %w", err)
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON decodes what MarshalJSON writes into a frozen histogram. A
// histogram of a different geometry than this module's is an error: merging
// it would not be exact.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("metrics: histogram must be a base64 string: %w", err)
	}
	*h = Histogram{}
	if s == "" {
		return nil
	}
	p, err := hdr.DecodePacked([]byte(s))
	if err != nil {
		return fmt.Errorf("metrics: decoding histogram: %w", err)
	}
	if p.LowestTrackableValue() != int64(MinValue) || p.HighestTrackableValue() != int64(MaxValue) ||
		p.SignificantFigures() != SignificantDigits {
		return fmt.Errorf("metrics: histogram geometry (%d, %d, %d digits) differs from (%d, %d, %d digits)",
			p.LowestTrackableValue(), p.HighestTrackableValue(), p.SignificantFigures(),
			int64(MinValue), int64(MaxValue), SignificantDigits)
	}
	var sum int64
	overflow := false
	p.ForEachBucket(func(v, c int64) bool {
		if v > int64(MaxValue) || c < 0 || c > math.MaxInt64-1-sum {
			overflow = true
			return false
		}
		sum += c
		return true
	})
	if overflow || sum != p.TotalCount() {
		return fmt.Errorf("metrics: histogram counts out of range (total %d)", p.TotalCount())
	}
	h.fz = freezePacked(p)
	return nil
}

// spans reports whether lo falls into h's first populated bucket and hi
// into its last (values beyond MaxValue count as MaxValue).
func (h *Histogram) spans(lo, hi time.Duration) bool {
	first, last := -1, -1
	h.each(func(idx int, _ int64) bool {
		if first < 0 {
			first = idx
		}
		last = idx
		return true
	})
	a, _ := clamp(lo)
	b, _ := clamp(hi)
	return first >= 0 && flatIndex(a) == first && flatIndex(b) == last
}
