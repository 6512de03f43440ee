package stampedeprom

import (
	"math"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stampede-go/stampede/metrics"
)

// histogram is a const Prometheus histogram carrying both native buckets
// (schema [NativeSchema]) and classic ones, as client_golang's own
// histograms do when both are configured: a scraper that reads native
// histograms uses those, any other one the classic buckets.
// prometheus.NewConstNativeHistogram cannot carry classic buckets beside
// the native ones, hence this type.
//
// It is immutable once built; Write shares its slices with the dto it
// fills, which the registry only reads.
type histogram struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair
	count   uint64
	sum     float64 // seconds
	zero    uint64  // values <= zeroThreshold
	classic []*dto.Bucket
	spans   []*dto.BucketSpan
	deltas  []int64
}

// zeroThreshold is client_golang's default: in effect only exact zeros go
// into the zero bucket, and an HDR bucket's highest value is never zero.
const zeroThreshold = prometheus.DefNativeHistogramZeroThreshold

// newHistogram converts a latency distribution. Each HDR bucket (3
// significant digits) is placed by its highest equivalent value, so a value
// within 0.1% below a bucket boundary may be counted in the next bucket up.
// The sum is the exact sum of the recorded latencies.
func newHistogram(desc *prometheus.Desc, dist *metrics.Distribution, bounds []float64, labels []string) (prometheus.Metric, error) {
	// Let client_golang check the labels against desc (and build the
	// pairs) through a const metric of the same desc.
	m, err := prometheus.NewConstMetric(desc, prometheus.UntypedValue, 0, labels...)
	if err != nil {
		return nil, err
	}
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		return nil, err
	}
	h := &histogram{
		desc:   desc,
		labels: pb.Label,
		count:  uint64(dist.Count()),
		sum:    dist.Sum.Seconds(),
	}
	h.classic, h.zero, h.spans, h.deltas = convert(&dist.Hist, bounds)
	return h, nil
}

// convert returns the classic buckets of hist (cumulative, one per bound,
// +Inf left implicit) and its native zero and positive buckets.
func convert(hist *metrics.Histogram, bounds []float64) (classic []*dto.Bucket, zero uint64, spans []*dto.BucketSpan, deltas []int64) {
	classic = make([]*dto.Bucket, len(bounds))
	var (
		cum  uint64 // values in buckets so far
		next int    // first classic bound not yet written
		idx  int    // current native bucket index
		n    int64  // its count
		prev int64  // count of the previous native bucket written
		open bool   // a native bucket is being accumulated
		last int    // index of the last native bucket written
	)
	flush := func() { // write native bucket idx with count n
		switch {
		case len(spans) == 0:
			spans = append(spans, &dto.BucketSpan{Offset: new(int32(idx)), Length: new(uint32(1))})
		case idx-last-1 <= 2: // a gap of up to two buckets is cheaper as zeros
			for range idx - last - 1 {
				deltas = append(deltas, -prev)
				prev = 0
			}
			*spans[len(spans)-1].Length += uint32(idx - last)
		default:
			spans = append(spans, &dto.BucketSpan{Offset: new(int32(idx - last - 1)), Length: new(uint32(1))})
		}
		deltas = append(deltas, n-prev)
		prev, last = n, idx
	}
	hist.Buckets(func(value time.Duration, count int64) bool {
		v := value.Seconds()
		for next < len(bounds) && bounds[next] < v {
			classic[next] = &dto.Bucket{UpperBound: new(bounds[next]), CumulativeCount: new(cum)}
			next++
		}
		cum += uint64(count)
		if v <= zeroThreshold {
			zero += uint64(count)
			return true
		}
		i := nativeIndex(v)
		if open && i != idx {
			flush()
			n = 0
		}
		idx, open = i, true
		n += count
		return true
	})
	if open {
		flush()
	}
	for ; next < len(bounds); next++ {
		classic[next] = &dto.Bucket{UpperBound: new(bounds[next]), CumulativeCount: new(cum)}
	}
	return classic, zero, spans, deltas
}

// nativeBounds are the bucket boundaries within one power of two for
// [NativeSchema]: nativeBounds[j] = 2^(j/2^schema - 1), for fractions in
// [0.5, 1) as math.Frexp returns them.
var nativeBounds = func() []float64 {
	const n = 1 << NativeSchema
	b := make([]float64, n)
	for j := range b {
		b[j] = math.Exp2(float64(j)/n - 1)
	}
	return b
}()

// nativeIndex returns the index i of the native bucket (2^((i-1)/2^s),
// 2^(i/2^s)] that holds v > 0, computed as client_golang does.
func nativeIndex(v float64) int {
	frac, exp := math.Frexp(v)
	return sort.SearchFloat64s(nativeBounds, frac) + (exp-1)*len(nativeBounds)
}

// Desc implements prometheus.Metric.
func (h *histogram) Desc() *prometheus.Desc { return h.desc }

// Write implements prometheus.Metric.
func (h *histogram) Write(out *dto.Metric) error {
	out.Label = h.labels
	hist := &dto.Histogram{
		SampleCount:   new(h.count),
		SampleSum:     new(h.sum),
		Bucket:        h.classic,
		Schema:        new(int32(NativeSchema)),
		ZeroThreshold: new(zeroThreshold),
		ZeroCount:     new(h.zero),
		PositiveSpan:  h.spans,
		PositiveDelta: h.deltas,
	}
	out.Histogram = hist
	return nil
}
