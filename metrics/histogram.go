package metrics

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The geometry of every histogram in this module. Values are nanoseconds;
// the lowest discernible value is 1 µs and the highest trackable is 1 h, with
// 3 significant decimal digits. Longer values are clamped to MaxValue and
// counted as clamped (see [Stats.Clamped]).
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

// Histogram is a compact, lossless latency distribution (an HDR histogram
// stored sparsely). Its zero value is an empty histogram ready to use.
// Histograms in a [Snapshot] are never modified after the snapshot is taken;
// a Histogram is not safe for concurrent mutation.
//
// Quantiles are exact to 3 significant digits (HDR's bucket precision). The
// histogram alone knows values only to bucket precision; [Stats] keeps the
// exact minimum, maximum and sum beside it.
type Histogram struct {
	// A histogram is live (p set), frozen (enc set: HDR's V2 compressed
	// bytes, several times smaller than the sparse form, used for closed
	// series intervals) or empty (neither). Frozen bytes are never modified,
	// so copies may share them.
	p   *hdr.PackedHistogram
	enc []byte
	n   int64 // count, when frozen
}

// Count returns the number of recorded values.
func (h *Histogram) Count() int64 {
	switch {
	case h == nil:
		return 0
	case h.enc != nil:
		return h.n
	case h.p != nil:
		return h.p.TotalCount()
	}
	return 0
}

// view returns the histogram's values in sparse form, decoding a frozen
// histogram into a temporary copy; nil when empty.
func (h *Histogram) view() *hdr.PackedHistogram {
	if h.enc != nil {
		p, err := hdr.DecodePacked([]byte(base64.StdEncoding.EncodeToString(h.enc)))
		if err != nil {
			panic("metrics: frozen histogram does not decode: " + err.Error()) // our own encoding
		}
		return p
	}
	if h.p != nil && h.p.TotalCount() > 0 {
		return h.p
	}
	return nil
}

// thaw makes h live (mutable).
func (h *Histogram) thaw() {
	if h.enc != nil {
		h.p, h.enc, h.n = h.view(), nil, 0
	}
}

// freeze turns h into its compact encoded form.
func (h *Histogram) freeze() {
	if h.p == nil || h.p.TotalCount() == 0 {
		h.p = nil
		return
	}
	b, err := h.p.Encode()
	if err != nil {
		return // stays live: correct, only larger
	}
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		return
	}
	h.enc, h.n, h.p = raw, h.p.TotalCount(), nil
}

// Record adds one value, clamped to [0, MaxValue]. It reports whether the
// value was clamped from above. Record is meant for building histograms
// outside the hot path (tests, conversions); virtual users record through a
// [Shard].
func (h *Histogram) Record(d time.Duration) (clamped bool) {
	h.thaw()
	if h.p == nil {
		h.p = newPacked()
	}
	v, clamped := clamp(d)
	_ = h.p.RecordValue(v) // cannot fail: v is within the geometry
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

// Quantile returns the value at quantile q (0 ≤ q ≤ 1): the smallest recorded
// value (to bucket precision) that at least q of all values are less than or
// equal to. It returns 0 for an empty histogram. q outside [0, 1] is clamped.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.Count() == 0 {
		return 0
	}
	if math.IsNaN(q) || q < 0 {
		q = 0
	}
	if q > 1 {
		q = 1
	}
	return time.Duration(h.view().ValueAtPercentile(q * 100))
}

// Quantiles returns the values at each of qs (see [Histogram.Quantile]),
// reading the histogram once.
func (h *Histogram) Quantiles(qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	p := h.view()
	if p == nil {
		return out
	}
	for i, q := range qs {
		if math.IsNaN(q) || q < 0 {
			q = 0
		}
		out[i] = time.Duration(p.ValueAtPercentile(min(q, 1) * 100))
	}
	return out
}

// Mean returns the mean of the bucket midpoints: an approximation to HDR
// precision. [Stats.Mean] gives the exact mean.
func (h *Histogram) Mean() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.view().Mean())
}

// StdDev returns the standard deviation of the recorded values, computed from
// bucket midpoints.
func (h *Histogram) StdDev() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(h.view().StdDev())
}

// Merge adds every value of o to h. Merging is exact: the result equals a
// histogram that recorded both sets of values.
func (h *Histogram) Merge(o *Histogram) {
	if o.Count() == 0 {
		return
	}
	if h.Count() == 0 {
		*h = *o.Clone()
		return
	}
	h.thaw()
	op := o.view()
	h.p.Merge(op)
}

// Clone returns an independent copy of h.
func (h *Histogram) Clone() *Histogram {
	switch {
	case h.enc != nil:
		return &Histogram{enc: h.enc, n: h.n} // frozen bytes are shared, never modified
	case h.Count() == 0:
		return &Histogram{}
	}
	return &Histogram{p: h.p.Clone()}
}

// Buckets calls fn for each populated bucket in ascending order with the
// bucket's highest equivalent value and its count, until fn returns false.
func (h *Histogram) Buckets(fn func(value time.Duration, count int64) bool) {
	if h.Count() == 0 {
		return
	}
	h.view().ForEachBucket(func(v, c int64) bool { return fn(time.Duration(v), c) })
}

// Equal reports whether h and o hold the same counts in the same buckets.
func (h *Histogram) Equal(o *Histogram) bool {
	if h.Count() != o.Count() {
		return false
	}
	type bc struct{ v, c int64 }
	var a, b []bc
	h.Buckets(func(v time.Duration, c int64) bool { a = append(a, bc{int64(v), c}); return true })
	o.Buckets(func(v time.Duration, c int64) bool { b = append(b, bc{int64(v), c}); return true })
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Bytes returns the approximate memory the histogram holds.
func (h *Histogram) Bytes() int {
	switch {
	case h == nil:
		return 0
	case h.enc != nil:
		return cap(h.enc)
	case h.p != nil:
		return h.p.GetMemorySize()
	}
	return 0
}

// mergeDense adds a dense histogram of the shared geometry into h.
func (h *Histogram) mergeDense(d *hdr.Histogram) {
	if d.TotalCount() == 0 {
		return
	}
	h.thaw()
	if h.p == nil {
		h.p = newPacked()
	}
	h.p.MergeFrom(d)
}

// MarshalJSON encodes the histogram as a JSON string holding HDR's standard
// V2 compressed, base64 encoding (readable by any HdrHistogram library); an
// empty histogram is the empty string.
func (h Histogram) MarshalJSON() ([]byte, error) {
	if h.enc != nil {
		return json.Marshal(base64.StdEncoding.EncodeToString(h.enc))
	}
	if h.p == nil || h.p.TotalCount() == 0 {
		return []byte(`""`), nil
	}
	b, err := h.p.Encode()
	if err != nil {
		return nil, fmt.Errorf("metrics: encoding histogram: %w", err)
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON decodes what MarshalJSON writes. A histogram of a different
// geometry than this module's is an error: merging it would not be exact.
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
	if p.TotalCount() < 0 || p.TotalCount() == math.MaxInt64 {
		return fmt.Errorf("metrics: histogram total count %d out of range", p.TotalCount())
	}
	if p.TotalCount() > 0 {
		h.p = p
		h.freeze() // read-only from here on, unless merged into
	}
	return nil
}
