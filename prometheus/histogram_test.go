package stampedeprom

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/metrics"
)

// nativeCounts expands a native histogram's spans and deltas into counts by
// bucket index.
func nativeCounts(t *testing.T, h *dto.Histogram) map[int]int64 {
	t.Helper()
	out := map[int]int64{}
	i, d, c := 0, 0, int64(0)
	for _, s := range h.GetPositiveSpan() {
		i += int(s.GetOffset())
		for range s.GetLength() {
			require.Less(t, d, len(h.GetPositiveDelta()), "fewer deltas than span lengths")
			c += h.GetPositiveDelta()[d]
			require.GreaterOrEqual(t, c, int64(0), "negative bucket count at index %d", i)
			if c != 0 {
				out[i] = c
			}
			d++
			i++
		}
	}
	require.Equal(t, len(h.GetPositiveDelta()), d, "more deltas than span lengths")
	return out
}

// TestNativeMatchesClientGolang checks the native buckets against
// client_golang's own native histogram of the same schema, fed each HDR
// bucket's highest value (the value the conversion places buckets by).
func TestNativeMatchesClientGolang(t *testing.T) {
	tests := []struct {
		name   string
		values func(r *rand.Rand) []time.Duration
	}{
		{"empty", func(*rand.Rand) []time.Duration { return nil }},
		{"one", func(*rand.Rand) []time.Duration { return []time.Duration{3 * time.Millisecond} }},
		{"zero and tiny", func(*rand.Rand) []time.Duration { return []time.Duration{0, 1, time.Microsecond} }},
		{"log-uniform 1µs..1h", func(r *rand.Rand) []time.Duration {
			v := make([]time.Duration, 5000)
			for i := range v {
				v[i] = time.Duration(math.Exp(r.Float64() * math.Log(float64(time.Hour))))
			}
			return v
		}},
		{"narrow with gaps", func(r *rand.Rand) []time.Duration {
			v := make([]time.Duration, 300)
			for i := range v {
				v[i] = []time.Duration{time.Millisecond, 1100 * time.Microsecond, 1400 * time.Microsecond, 3 * time.Millisecond, time.Second}[r.IntN(5)]
			}
			return v
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st metrics.Stats
			for _, d := range tc.values(rand.New(rand.NewPCG(1, 2))) {
				st.Latency.Record(d)
			}
			ref := prometheus.NewHistogram(prometheus.HistogramOpts{
				Name: "ref", Help: "ref", NativeHistogramBucketFactor: 1.1,
				NativeHistogramZeroThreshold: zeroThreshold,
			})
			st.Latency.Hist.Buckets(func(v time.Duration, c int64) bool {
				for range c {
					ref.Observe(v.Seconds())
				}
				return true
			})
			var want dto.Metric
			require.NoError(t, ref.Write(&want))

			desc := prometheus.NewDesc("got", "got", nil, nil)
			m, err := newHistogram(desc, &st.Latency, []float64{0.001, 0.01}, nil)
			require.NoError(t, err)
			var got dto.Metric
			require.NoError(t, m.Write(&got))

			assert.Equal(t, want.GetHistogram().GetSchema(), got.GetHistogram().GetSchema(), "schema")
			assert.Equal(t, int32(NativeSchema), got.GetHistogram().GetSchema())
			assert.Equal(t, want.GetHistogram().GetSampleCount(), got.GetHistogram().GetSampleCount(), "count")
			assert.Equal(t, want.GetHistogram().GetZeroCount(), got.GetHistogram().GetZeroCount(), "zero bucket")
			assert.Equal(t, nativeCounts(t, want.GetHistogram()), nativeCounts(t, got.GetHistogram()), "native buckets")
			assert.Equal(t, want.GetHistogram().GetPositiveSpan(), got.GetHistogram().GetPositiveSpan(), "spans")
			assert.Equal(t, want.GetHistogram().GetPositiveDelta(), got.GetHistogram().GetPositiveDelta(), "deltas")
			assert.Equal(t, st.Latency.Sum.Seconds(), got.GetHistogram().GetSampleSum(), "sum is the exact sum")
		})
	}
}

// TestClassicBuckets checks the classic buckets against counts made from the
// recorded values, which are kept away from the bounds by more than HDR's
// 0.1% bucket width.
func TestClassicBuckets(t *testing.T) {
	bounds := []float64{0.001, 0.005, 0.01, 0.1}
	values := []time.Duration{
		0, 500 * time.Microsecond, 990 * time.Microsecond, 1010 * time.Microsecond,
		4 * time.Millisecond, 7 * time.Millisecond, 9900 * time.Microsecond,
		50 * time.Millisecond, 2 * time.Second, 3 * time.Second,
	}
	var st metrics.Stats
	for _, v := range values {
		st.Latency.Record(v)
	}
	m, err := newHistogram(prometheus.NewDesc("h", "h", nil, nil), &st.Latency, bounds, nil)
	require.NoError(t, err)
	var got dto.Metric
	require.NoError(t, m.Write(&got))
	var want []uint64
	for _, b := range bounds {
		n := uint64(0)
		for _, v := range values {
			if v.Seconds() <= b {
				n++
			}
		}
		want = append(want, n)
	}
	var have []uint64
	for i, b := range got.GetHistogram().GetBucket() {
		assert.Equal(t, bounds[i], b.GetUpperBound())
		have = append(have, b.GetCumulativeCount())
	}
	assert.Equal(t, want, have)
	assert.Equal(t, uint64(len(values)), got.GetHistogram().GetSampleCount())
}

func TestNativeIndex(t *testing.T) {
	tests := []struct {
		v    float64
		want int
	}{
		{1, 0},                      // upper bounds are inclusive: (2^-1/8, 1]
		{1.0001, 1},                 // just above 1
		{2, 8},                      // 2^(8/8)
		{0.5, -8},                   // 2^(-8/8)
		{math.Exp2(3.0 / 8), 3},     // a boundary inside a power of two
		{math.Exp2(-13.5 / 8), -13}, // between boundaries -14 and -13
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, nativeIndex(tc.v), "nativeIndex(%v)", tc.v)
	}
}
