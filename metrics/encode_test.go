package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncodeMatchesHDR: a frozen histogram encodes to the very bytes
// hdrhistogram-go's own encoder writes for the same values (one value,
// the extremes, gaps of one empty bucket and of many, spreads narrow and
// wide, counts large enough for every length of zig-zag code), and reads
// back the same.
func TestEncodeMatchesHDR(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := [][]time.Duration{
		{MinValue},
		{0},
		{MaxValue},
		{0, MaxValue},
		{1000, 1001, 3000}, // an empty bucket between, then a run of them
	}
	for _, spread := range []float64{0.01, 0.5, 3} {
		var vs []time.Duration
		for range 5000 {
			vs = append(vs, time.Duration(20e6*math.Exp(spread*rng.NormFloat64())))
		}
		cases = append(cases, vs)
	}
	for i, vs := range cases {
		var h Histogram
		p := newPacked()
		for _, v := range vs {
			h.Record(v)
			require.NoError(t, p.RecordValue(int64(min(v, MaxValue))))
		}
		h.freeze()
		want, err := p.Encode()
		require.NoError(t, err)
		got := encodeV2(h.fz.each)
		assert.Equal(t, string(want), string(got), "case %d", i)

		b, err := json.Marshal(h)
		require.NoError(t, err)
		var back Histogram
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, h.Count(), back.Count(), "case %d", i)
		assert.Equal(t, h.Quantile(0.99), back.Quantile(0.99), "case %d", i)
	}
	// Counts that need every length of code, up to the ninth byte.
	var h Histogram
	p := newPacked()
	for i, c := range []int64{1, 1 << 7, 1 << 14, 1 << 21, 1 << 28, 1 << 35, 1 << 42, 1 << 49, 1 << 56} {
		v := int64(time.Millisecond) * int64(i+1)
		h.thaw()
		require.NoError(t, h.live.RecordValues(v, c))
		require.NoError(t, p.RecordValues(v, c))
	}
	h.freeze()
	want, err := p.Encode()
	require.NoError(t, err)
	assert.Equal(t, string(want), string(encodeV2(h.fz.each)))
}

// BenchmarkEncodeFrozen encodes a frozen histogram of 5 000 log-normal
// latencies: the pooled writer against the library's encoder.
func BenchmarkEncodeFrozen(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	for range 5000 {
		h.Record(time.Duration(20e6 * math.Exp(0.5*rng.NormFloat64())))
	}
	h.freeze()
	b.Run("pooled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encodeV2(h.fz.each)
		}
	})
	b.Run("hdrhistogram-go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := newPacked()
			h.fz.each(func(idx int, c int64) bool { _ = p.RecordValues(lowestOf(idx), c); return true })
			if _, err := p.Encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
