package metrics

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

func newRec(t testing.TB, o Options) *Recorder {
	t.Helper()
	if o.Start.IsZero() {
		o.Start = t0
	}
	r, err := New(o)
	require.NoError(t, err)
	return r
}

// exactQuantile is the nearest-rank quantile of sorted samples, the
// definition HDR approximates.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = max(rank, 1)
	return sorted[rank-1]
}

func TestQuantilesMatchRawSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() time.Duration{
		"uniform":     func() time.Duration { return time.Duration(rng.Int64N(int64(time.Second))) + time.Millisecond },
		"exponential": func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond)) },
		"bimodal": func() time.Duration {
			if rng.IntN(10) < 9 {
				return time.Duration(rng.NormFloat64()*float64(time.Millisecond)) + 5*time.Millisecond
			}
			return time.Duration(rng.NormFloat64()*float64(20*time.Millisecond)) + 400*time.Millisecond
		},
		"heavy-tailed": func() time.Duration { // Pareto, alpha 1.2
			return time.Duration(float64(time.Millisecond) / math.Pow(1-rng.Float64(), 1/1.2))
		},
	}
	for name, draw := range dists {
		t.Run(name, func(t *testing.T) {
			r := newRec(t, Options{})
			h := r.Handle(Key{Scenario: "s", Step: name, Kind: KindStep})
			sh := r.Shard(0)
			var raw []time.Duration
			for range 100_000 {
				d := max(draw(), 0)
				raw = append(raw, d)
				sh.Record(h, d, OK)
			}
			r.Finish(t0.Add(time.Second))
			slices.Sort(raw)
			st := r.Snapshot().Metrics[0].Total
			for _, q := range []float64{0, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
				want := exactQuantile(raw, q)
				got := st.Quantile(q)
				// HDR with 3 significant digits: a value is within 1/1000 of
				// its bucket's value relative, or within the 1 µs floor.
				tol := max(float64(want)/1000, float64(MinValue))
				assert.InDelta(t, float64(want), float64(got), tol, "q=%v", q)
			}
			assert.Equal(t, raw[0], st.Min)
			assert.Equal(t, raw[len(raw)-1], st.Max)
			var sum time.Duration
			for _, d := range raw {
				sum += d
			}
			assert.Equal(t, sum, st.Sum)
			assert.Equal(t, sum/time.Duration(len(raw)), st.Mean())
			var sq float64
			mean := float64(sum) / float64(len(raw))
			for _, d := range raw {
				sq += (float64(d) - mean) * (float64(d) - mean)
			}
			// Bucket midpoints are within 0.1 % of each value (3 digits).
			assert.InEpsilon(t, math.Sqrt(sq/float64(len(raw))), float64(st.StdDev()), 0.01)
			assert.InDelta(t, 100_000.0/2, st.Rate(2*time.Second), 1e-9)
		})
	}
}

func TestMergeEqualsRecordingTheUnion(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, both := newRec(t, Options{}), newRec(t, Options{}), newRec(t, Options{})
	k := Key{Scenario: "s", Step: "x", Kind: KindStep}
	for i := range 20_000 {
		d := time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		o := OK
		if i%97 == 0 {
			o = HTTP5xx
		}
		r := a
		if i%3 == 0 {
			r = b
		}
		r.Shard(i).Record(r.Handle(k), d, o)
		both.Shard(i).Record(both.Handle(k), d, o)
		if i == 10_000 { // a second interval
			for _, r := range []*Recorder{a, b, both} {
				r.Flush(t0.Add(time.Second))
			}
		}
	}
	for _, r := range []*Recorder{a, b, both} {
		r.Finish(t0.Add(1500 * time.Millisecond))
	}
	m, err := Merge(a.Snapshot(), b.Snapshot())
	require.NoError(t, err)
	want := both.Snapshot()
	assertSnapshotsEqual(t, want, m)
}

func assertSnapshotsEqual(t *testing.T, want, got *Snapshot) {
	t.Helper()
	require.Equal(t, len(want.Metrics), len(got.Metrics))
	assert.True(t, want.Start.Equal(got.Start))
	assert.Equal(t, want.Interval, got.Interval)
	for i := range want.Metrics {
		w, g := want.Metrics[i], got.Metrics[i]
		assert.Equal(t, w.Key, g.Key)
		assertStatsEqual(t, &w.Total, &g.Total)
		require.Equal(t, len(w.Series), len(g.Series), "%v series", w.Key)
		for j := range w.Series {
			assert.True(t, w.Series[j].Start.Equal(g.Series[j].Start))
			assertStatsEqual(t, &w.Series[j].Stats, &g.Series[j].Stats)
		}
	}
	require.Equal(t, len(want.Gauges), len(got.Gauges))
	for i := range want.Gauges {
		assert.Equal(t, want.Gauges[i].Name, got.Gauges[i].Name)
		require.Equal(t, len(want.Gauges[i].Points), len(got.Gauges[i].Points))
		for j, p := range want.Gauges[i].Points {
			q := got.Gauges[i].Points[j]
			assert.True(t, p.Start.Equal(q.Start))
			p.Start, q.Start = time.Time{}, time.Time{}
			assert.Equal(t, p, q)
		}
	}
}

func assertStatsEqual(t *testing.T, w, g *Stats) {
	t.Helper()
	assert.True(t, w.Latency.Equal(&g.Latency), "histograms differ: %d vs %d values", w.Latency.Count(), g.Latency.Count())
	wc, gc := *w, *g
	wc.Latency, gc.Latency = Histogram{}, Histogram{}
	assert.Equal(t, wc, gc)
}

func TestJSONRoundTrip(t *testing.T) {
	r := newRec(t, Options{Warmup: time.Second})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	it := r.Handle(Key{Scenario: "s", Kind: KindIteration})
	for i := range 1000 {
		r.Shard(i).Record(h, time.Duration(i)*time.Microsecond, Outcome(i%int(Interrupted)))
		r.Shard(i).AddBytes(h, 10, 100)
		if i%100 == 0 {
			r.Shard(i).Count(it, Dropped, 1)
			r.Observe("heap", float64(i))
		}
		if i == 500 {
			r.SetVUs(it, 7)
			r.Flush(t0.Add(time.Second))
		}
	}
	r.Shard(0).Record(h, 2*time.Hour, OK)
	r.Finish(t0.Add(1200 * time.Millisecond))
	s := r.Snapshot()
	var buf bytes.Buffer
	require.NoError(t, s.WriteJSON(&buf))
	got, err := ReadJSON(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assertSnapshotsEqual(t, s, got)
	var buf2 bytes.Buffer
	require.NoError(t, got.WriteJSON(&buf2))
	assert.Equal(t, buf.String(), buf2.String(), "encode → decode → encode is stable")
	assert.Equal(t, int64(1), got.Metric(Key{Scenario: "s", Step: "a", Kind: KindStep}).Total.Clamped)
	assert.Equal(t, int64(7), got.Metric(Key{Scenario: "s", Kind: KindIteration}).Series[0].VUs)
}

func TestReadJSONErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", ``, "decoding JSON"},
		{"not an object", `[]`, "cannot unmarshal"},
		{"no version", `{"interval_ns":1}`, "unsupported format version: got none"},
		{"future version", `{"version":2,"interval_ns":1}`, "unsupported format version: got 2"},
		{"zero interval", `{"version":1,"interval_ns":0}`, "interval_ns must be > 0"},
		{"negative warmup", `{"version":1,"interval_ns":1,"warmup_ns":-1}`, "warmup_ns must be >= 0"},
		{"unknown field", `{"version":1,"interval_ns":1,"bogus":1}`, "unknown field"},
		{"bad outcome", `{"version":1,"interval_ns":1,"metrics":[{"scenario":"s","kind":"step","total":{"outcomes":{"fine":1}}}]}`, `unknown outcome "fine"`},
		{"negative count", `{"version":1,"interval_ns":1,"metrics":[{"scenario":"s","kind":"step","total":{"outcomes":{"ok":-1}}}]}`, `must be >= 0`},
		{"bad histogram", `{"version":1,"interval_ns":1,"metrics":[{"scenario":"s","kind":"step","total":{"latency":"nope"}}]}`, "decoding histogram"},
		{"min without values", `{"version":1,"interval_ns":1,"metrics":[{"scenario":"s","kind":"step","total":{"min_ns":5}}]}`, "empty histogram"},
		{"duplicate", `{"version":1,"interval_ns":1,"metrics":[{"scenario":"s","kind":"step","total":{}},{"scenario":"s","kind":"step","total":{}}]}`, "appears twice"},
		{"no scenario", `{"version":1,"interval_ns":1,"metrics":[{"kind":"step","total":{}}]}`, "must not be empty"},
		{"misaligned point", `{"version":1,"start":"2026-01-01T00:00:00Z","interval_ns":1000,"metrics":[{"scenario":"s","kind":"step","total":{},"series":[{"start":"2026-01-01T00:00:01Z"}]}]}`, "point 0 starts at"},
		{"trailing", `{"version":1,"interval_ns":1} {}`, "trailing data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := ReadJSON(strings.NewReader(`{"version":9,"interval_ns":1}`))
	assert.True(t, errors.Is(err, ErrVersion))
}

func TestSeriesSumEqualsTotalAndWarmupIsExcluded(t *testing.T) {
	r := newRec(t, Options{Interval: time.Second, Warmup: 2 * time.Second})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	sh := r.Shard(1)
	for sec := range 5 {
		for i := range (sec + 1) * 10 {
			sh.Record(h, time.Duration(i+1)*time.Millisecond, OK)
		}
		sh.Record(h, time.Millisecond, Timeout)
		r.Flush(t0.Add(time.Duration(sec+1) * time.Second))
	}
	r.Finish(t0.Add(5 * time.Second))
	m := r.Snapshot().Metrics[0]
	require.Len(t, m.Series, 5)
	var all, measured Stats
	for i, p := range m.Series {
		assert.Equal(t, int64((i+1)*10+1), p.Count(), "interval %d", i)
		all.Merge(&p.Stats)
		if i >= 2 {
			measured.Merge(&p.Stats)
		}
	}
	assert.Equal(t, int64(10+20+30+40+50+5), all.Count())
	assertStatsEqual(t, &measured, &m.Total)
	assert.Equal(t, int64(3), m.Total.Errors())
	assert.InDelta(t, 3.0/123.0, m.Total.ErrorRate(), 1e-12)
}

func TestFlushClosesEmptyIntervalsAndFinishThePartialOne(t *testing.T) {
	r := newRec(t, Options{})
	h := r.Handle(Key{Scenario: "s", Kind: KindIteration})
	r.Shard(0).Record(h, time.Millisecond, OK)
	assert.Equal(t, 0, r.Flush(t0.Add(999*time.Millisecond)))
	assert.Equal(t, 3, r.Flush(t0.Add(3*time.Second)))
	r.Shard(0).Record(h, time.Millisecond, OK)
	end := r.Finish(t0.Add(3100 * time.Millisecond))
	assert.Equal(t, t0.Add(4*time.Second), end)
	r.Shard(0).Record(h, time.Millisecond, OK) // after Finish: not seen
	assert.Equal(t, end, r.Finish(t0.Add(time.Hour)), "Finish is idempotent")
	s := r.Snapshot()
	counts := []int64{}
	for _, p := range s.Metrics[0].Series {
		counts = append(counts, p.Count())
	}
	assert.Equal(t, []int64{1, 0, 0, 1}, counts)
	assert.Equal(t, end, s.End())
	// A key registered late still has a point for every interval.
	late := r.Handle(Key{Scenario: "s", Step: "late", Kind: KindStep})
	assert.Len(t, r.Snapshot().Metric(r.keys[late]).Series, 4)
}

func TestClampedValuesAreCounted(t *testing.T) {
	r := newRec(t, Options{})
	h := r.Handle(Key{Scenario: "s", Kind: KindStep, Step: "x"})
	r.Shard(0).Record(h, 3*time.Hour, OK)
	r.Shard(0).Record(h, -time.Second, OK)
	r.Finish(t0.Add(time.Second))
	st := r.Snapshot().Metrics[0].Total
	assert.Equal(t, int64(2), st.Latency.Count())
	assert.Equal(t, int64(1), st.Clamped)
	assert.Equal(t, 3*time.Hour, st.Max, "exact max is kept")
	assert.Equal(t, time.Duration(0), st.Min)
	assert.InEpsilon(t, float64(time.Hour), float64(st.Latency.Quantile(1)), 1e-3)
}

func TestMergeRefusesMisalignedSnapshots(t *testing.T) {
	a := newRec(t, Options{}).Snapshot()
	b := newRec(t, Options{Start: t0.Add(500 * time.Millisecond)}).Snapshot()
	_, err := Merge(a, b)
	assert.ErrorContains(t, err, "not a whole number of 1s intervals")
	c := newRec(t, Options{Interval: 2 * time.Second}).Snapshot()
	_, err = Merge(a, c)
	assert.ErrorContains(t, err, "snapshot 1 has interval 2s, snapshot 0 has 1s")
	d := newRec(t, Options{Warmup: time.Second}).Snapshot()
	_, err = Merge(a, d)
	assert.ErrorContains(t, err, "warm-up")
	_, err = Merge()
	assert.Error(t, err)
}

func TestMergeAlignsOffsetStarts(t *testing.T) {
	a := newRec(t, Options{})
	b := newRec(t, Options{Start: t0.Add(2 * time.Second)})
	k := Key{Scenario: "s", Kind: KindIteration}
	a.Shard(0).Record(a.Handle(k), time.Millisecond, OK)
	a.Observe("g", 1)
	a.Finish(t0.Add(time.Second))
	b.Shard(0).Record(b.Handle(k), time.Millisecond, OK)
	b.Observe("g", 3)
	b.Finish(t0.Add(3 * time.Second))
	m, err := Merge(b.Snapshot(), a.Snapshot())
	require.NoError(t, err)
	assert.True(t, m.Start.Equal(t0))
	ser := m.Metrics[0].Series
	require.Len(t, ser, 3)
	assert.Equal(t, []int64{1, 0, 1}, []int64{ser[0].Count(), ser[1].Count(), ser[2].Count()})
	assert.Equal(t, int64(2), m.Metrics[0].Total.Count())
	g := m.Gauge("g")
	require.NotNil(t, g)
	assert.Equal(t, 1.0, g.Points[0].Mean())
	assert.Equal(t, int64(0), g.Points[1].N)
	assert.Equal(t, 3.0, g.Points[2].Max)
}

func TestOptionsValidate(t *testing.T) {
	err := Options{Interval: time.Microsecond, Warmup: -1, Shards: -2}.Validate()
	require.Error(t, err)
	for _, want := range []string{"Options.Interval must be 0 (one second) or >= 1ms, got 1µs", "Options.Warmup must be >= 0, got -1ns", "Options.Shards must be 0 (automatic) or 1..4096, got -2"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.ErrorContains(t, Options{Warmup: 1500 * time.Millisecond}.Validate(), "whole number of intervals (1s), got 1.5s")
	assert.NoError(t, Options{}.Validate())
}

func TestRecordDoesNotAllocate(t *testing.T) {
	r := newRec(t, Options{})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	sh := r.Shard(3)
	sh.Record(h, time.Millisecond, OK)
	allocs := testing.AllocsPerRun(1000, func() {
		sh.Record(h, 1234*time.Microsecond, OK)
		sh.Count(h, Dropped, 1)
		sh.AddBytes(h, 1, 2)
	})
	assert.Zero(t, allocs)
}

func TestForeignHandlePanics(t *testing.T) {
	r := newRec(t, Options{})
	assert.PanicsWithValue(t, "metrics: handle 3 was not issued by this Recorder", func() {
		r.Shard(0).Record(Handle(3), time.Millisecond, OK)
	})
}

func TestOutcomes(t *testing.T) {
	for o := range NumOutcomes {
		p, err := ParseOutcome(o.String())
		require.NoError(t, err)
		assert.Equal(t, o, p)
	}
	assert.Equal(t, "outcome(200)", Outcome(200).String())
	assert.True(t, Panic.IsError())
	assert.False(t, Interrupted.IsError())
	assert.False(t, OK.IsError())
	c := Counts{OK: 5, Dropped: 2, Timeout: 1, Interrupted: 1}
	assert.Equal(t, int64(7), c.Total())
	assert.Equal(t, int64(1), c.Errors())
}

// TestMemoryFlatInVUs records for 1000 VUs × 10 steps and checks that the
// recorder retains well under 64 MiB: shards follow CPUs, not VUs.
func TestMemoryFlatInVUs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a few hundred MiB transiently")
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := newRec(t, Options{})
	var hs []Handle
	for i := range 10 {
		hs = append(hs, r.Handle(Key{Scenario: "s", Step: string(rune('a' + i)), Kind: KindStep}))
	}
	for vu := range 1000 {
		sh := r.Shard(vu)
		for _, h := range hs {
			for j := range 20 {
				sh.Record(h, time.Duration(vu*j+1)*time.Microsecond, OK)
			}
		}
	}
	r.Finish(t0.Add(time.Second))
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("retained %.1f MiB for 1000 VUs × 10 steps with %d shards", float64(retained)/(1<<20), len(r.shards))
	assert.Less(t, retained, int64(64<<20))
	runtime.KeepAlive(r)
}
