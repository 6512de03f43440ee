package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
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

// at returns the instant d after t0.
func at(d time.Duration) time.Time { return t0.Add(d) }

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
			for range 50_000 {
				d := max(draw(), 0)
				raw = append(raw, d)
				sh.Record(h, t0, d, OK)
			}
			r.Finish(at(time.Second))
			slices.Sort(raw)
			st := r.Snapshot().Series[0].Total
			for _, q := range []float64{0, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
				want := exactQuantile(raw, q)
				got := st.Quantile(q)
				// HDR with 3 significant digits: a value is within 1/1000 of
				// its bucket's value relative, or within the 1 µs floor.
				tol := max(float64(want)/1000, float64(MinValue))
				assert.InDelta(t, float64(want), float64(got), tol, "q=%v", q)
			}
			assert.Equal(t, raw[0], st.Latency.Min)
			assert.Equal(t, raw[len(raw)-1], st.Latency.Max)
			var sum time.Duration
			for _, d := range raw {
				sum += d
			}
			assert.Equal(t, sum, st.Latency.Sum)
			assert.Equal(t, sum/time.Duration(len(raw)), st.Mean())
			var sq float64
			mean := float64(sum) / float64(len(raw))
			for _, d := range raw {
				sq += (float64(d) - mean) * (float64(d) - mean)
			}
			// Bucket midpoints are within 0.1 % of each value (3 digits).
			assert.InEpsilon(t, math.Sqrt(sq/float64(len(raw))), float64(st.Latency.StdDev()), 0.01)
			assert.InDelta(t, 50_000.0/2, st.Rate(2*time.Second), 1e-9)
		})
	}
}

// TestGeometryMatchesHDR checks the bucket arithmetic of frozen histograms
// against hdrhistogram-go for every bucket of the geometry.
func TestGeometryMatchesHDR(t *testing.T) {
	p := newPacked()
	for idx := range numBuckets {
		lo, hi := lowestOf(idx), highestOf(idx)
		if lo > int64(MaxValue) {
			break
		}
		require.Equal(t, idx, flatIndex(lo), "lowest of %d", idx)
		require.Equal(t, idx, flatIndex(min(hi, int64(MaxValue))), "highest of %d", idx)
		require.Equal(t, hi+1, lowestOf(idx+1), "buckets %d and %d touch", idx, idx+1)
		require.NoError(t, p.RecordValue(lo))
	}
	var i int
	p.ForEachBucket(func(v, c int64) bool {
		require.Equal(t, lowestOf(i), v, "bucket %d", i)
		i++
		return true
	})
}

// TestFrozenMatchesLive checks every read of a frozen histogram against the
// histogram it was frozen from and against hdrhistogram-go itself.
func TestFrozenMatchesLive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 20 {
		var live Histogram
		d := newDense()
		n := 1 + rng.IntN(20_000)
		scale := math.Pow(10, float64(3+rng.IntN(7))) // 1 µs .. 1 s
		for range n {
			v := time.Duration(rng.ExpFloat64() * scale)
			live.Record(v)
			x, _ := clamp(v)
			require.NoError(t, d.RecordValue(x))
		}
		fz := live.Frozen()
		require.NotNil(t, fz.fz)
		assert.Equal(t, live.Count(), fz.Count())
		for _, q := range []float64{0, 1e-6, 0.1, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999, 1, rng.Float64()} {
			want := d.ValueAtPercentile(q * 100)
			if flatIndex(min(want, int64(MaxValue))) == 0 {
				want = 0 // below the floor reads as 0
			}
			assert.Equal(t, time.Duration(want), fz.Quantile(q), "trial %d q=%v", trial, q)
			assert.Equal(t, live.Quantile(q), fz.Quantile(q), "trial %d q=%v", trial, q)
		}
		assert.Equal(t, live.Mean(), fz.Mean())
		assert.Equal(t, live.StdDev(), fz.StdDev())
		assert.True(t, live.Equal(&fz))
		assert.Less(t, fz.Bytes(), 4*int(live.Count())+200, "about 2 bytes per populated bucket")
	}
}

func TestFrozenMergeIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var a, b, both Histogram
	for i := range 30_000 {
		v := time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
		both.Record(v)
	}
	fa, fb := a.Frozen(), b.Frozen()
	fa.Merge(&fb)
	require.NotNil(t, fa.fz, "two frozen histograms merge into a frozen one")
	assert.True(t, fa.Equal(&both))
	// A live histogram merged with a frozen one.
	c := a.Clone()
	c.Merge(&fb)
	assert.True(t, c.Equal(&both))
	assert.Equal(t, int64(20_000), fb.Count(), "merging does not change the argument")
}

func TestFailedLatencyIsKeptApart(t *testing.T) {
	r := newRec(t, Options{})
	h := r.Handle(Key{Scenario: "s", Step: "orders", Kind: KindStep})
	sh := r.Shard(0)
	for range 90 {
		sh.Record(h, t0, 10*time.Millisecond, OK)
	}
	for range 10 {
		sh.Record(h, t0, 60*time.Microsecond, HTTP5xx) // fast failures
	}
	sh.Record(h, t0, 30*time.Second, Interrupted) // cut off: counted, no latency
	r.Finish(at(time.Second))
	st := r.Snapshot().Series[0].Total
	assert.Equal(t, int64(101), st.Count())
	assert.Equal(t, int64(10), st.Errors())
	assert.Equal(t, int64(90), st.Latency.Count())
	assert.Equal(t, int64(10), st.Failed.Count())
	assert.Equal(t, 10*time.Millisecond, st.Quantile(0.05), "fast failures do not pull the latency of successes down")
	assert.Equal(t, 60*time.Microsecond, st.Failed.Quantile(0.5))
	assert.Equal(t, 10*time.Millisecond, st.Latency.Max, "the interrupted operation adds no latency")
	all := st.All()
	assert.Equal(t, int64(100), all.Count())
	// Below 1 ms, HDR's buckets are 512 ns wide (the 1 µs floor).
	assert.InDelta(t, float64(60*time.Microsecond), float64(all.Quantile(0.05)), 512)
}

func TestStatusCodes(t *testing.T) {
	r := newRec(t, Options{})
	h := r.Handle(Key{Scenario: "s", Step: "get", Kind: KindStep})
	for i := range 100 {
		code := 200
		if i%10 == 0 {
			code = 503
		}
		r.Shard(i).Status(h, t0, code)
	}
	r.Shard(0).Status(h, t0, -1)    // not a status code: ignored
	r.Shard(0).Status(h, t0, 65536) // nor this
	r.Finish(at(time.Second))
	st := r.Snapshot().Series[0].Total
	assert.Equal(t, StatusCounts{{200, 90}, {503, 10}}, st.Status)
	assert.Equal(t, int64(10), st.Status.Get(503))
	assert.Equal(t, int64(0), st.Status.Get(404))
	m := st.Status.Merge(StatusCounts{{404, 1}, {503, 2}})
	assert.Equal(t, StatusCounts{{200, 90}, {404, 1}, {503, 12}}, m)
	assert.Equal(t, StatusCounts{{200, 90}, {503, 10}}, st.Status, "Merge does not modify its receiver")
	b, err := json.Marshal(m)
	require.NoError(t, err)
	assert.JSONEq(t, `{"200":90,"404":1,"503":12}`, string(b))
	var back StatusCounts
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, m, back)
	for _, bad := range []string{`{"-1":1}`, `{"65536":1}`, `{"abc":1}`, `{"0200":1}`, `{"200":0}`, `{"200":-1}`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &back), bad)
	}
}

// TestBelowTheFloor: values under 1 µs read as themselves, bounded by the
// exact minimum and maximum, never as the edge of HDR's lowest bucket.
func TestBelowTheFloor(t *testing.T) {
	var d Distribution
	for range 99 {
		d.Record(0) // the connect time of a reused connection
	}
	d.Record(200 * time.Microsecond)
	assert.Equal(t, time.Duration(0), d.Quantile(0.5))
	assert.Equal(t, time.Duration(0), d.Quantile(0.99))
	assert.Equal(t, 200*time.Microsecond, d.Quantile(1))

	var noop Distribution
	for i := range 10 {
		noop.Record(time.Duration(30+i) * time.Nanosecond)
	}
	for _, q := range []float64{0, 0.5, 0.9, 1} {
		v := noop.Quantile(q)
		assert.GreaterOrEqual(t, v, noop.Min, "q=%v", q)
		assert.LessOrEqual(t, v, noop.Max, "q=%v", q)
	}
	assert.Equal(t, 34*time.Nanosecond, noop.Mean())
	var h Histogram
	h.Record(0)
	assert.Equal(t, time.Duration(0), h.Quantile(0.5))
	f := h.Frozen()
	assert.Equal(t, time.Duration(0), f.Quantile(0.5))
}

// TestRecordingLandsInTheIntervalOfItsInstant closes intervals late and
// out of step with the recordings: each recording still counts in the
// interval that holds its instant.
func TestRecordingLandsInTheIntervalOfItsInstant(t *testing.T) {
	r := newRec(t, Options{})
	h := r.Handle(Key{Scenario: "s", Kind: KindIteration})
	sh := r.Shard(0)
	// 100 per second for 4 seconds, flushed 0.9 s late each time.
	for i := range 400 {
		now := at(time.Duration(i) * 10 * time.Millisecond)
		if i%100 == 90 && i > 100 {
			r.Flush(now) // closes the interval that ended 0.9 s ago
		}
		sh.Record(h, now, time.Millisecond, OK)
		r.Shard(i).Count(h, now, Dropped, 1)
	}
	r.Finish(at(4 * time.Second))
	var counts, drops []int64
	for _, p := range r.Snapshot().Series[0].Points {
		counts = append(counts, p.Count())
		drops = append(drops, p.Outcomes[Dropped])
	}
	assert.Equal(t, []int64{100, 100, 100, 100}, counts)
	assert.Equal(t, []int64{100, 100, 100, 100}, drops)
}

// TestLateRecordingAmendsItsInterval: a recording whose instant lies in an
// interval that is closed already is added to it at the next flush.
func TestLateRecordingAmendsItsInterval(t *testing.T) {
	r := newRec(t, Options{Warmup: time.Second})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	r.Shard(0).Record(h, at(1500*time.Millisecond), time.Millisecond, OK)
	r.Shard(1).Record(h, at(2100*time.Millisecond), 2*time.Millisecond, OK)
	r.SetVUs(h, 3)
	assert.Equal(t, 2, r.Flush(at(2200*time.Millisecond)))
	// Its instant is before the boundary at 2 s; the call comes after it.
	r.Shard(0).Record(h, at(1999*time.Millisecond), 5*time.Millisecond, HTTP5xx)
	r.Shard(0).Record(h, at(500*time.Millisecond), 7*time.Millisecond, OK) // in the warm-up
	r.Flush(at(2300 * time.Millisecond))
	m := r.Snapshot().Series[0]
	require.Len(t, m.Points, 2)
	assert.Equal(t, int64(1), m.Points[0].Count())
	assert.Equal(t, int64(2), m.Points[1].Count())
	assert.Equal(t, int64(1), m.Points[1].Errors())
	assert.Equal(t, int64(3), m.Points[1].VUs, "an amendment keeps the interval's VUs")
	assert.Equal(t, int64(2), m.Total.Count(), "the warm-up interval stays out of the totals")
	r.Finish(at(2500 * time.Millisecond))
	m = r.Snapshot().Series[0]
	require.Len(t, m.Points, 3)
	assert.Equal(t, []int64{1, 2, 1}, []int64{m.Points[0].Count(), m.Points[1].Count(), m.Points[2].Count()})
	assert.Equal(t, int64(3), m.Total.Count())
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
		when := at(time.Duration(i) * 75 * time.Microsecond) // two intervals
		r.Shard(i).Record(r.Handle(k), when, d, o)
		r.Shard(i).Status(r.Handle(k), when, 200+i%2)
		both.Shard(i).Record(both.Handle(k), when, d, o)
		both.Shard(i).Status(both.Handle(k), when, 200+i%2)
	}
	for _, r := range []*Recorder{a, b, both} {
		r.Finish(at(1500 * time.Millisecond))
	}
	m, err := Merge(a.Snapshot(), b.Snapshot())
	require.NoError(t, err)
	want := both.Snapshot()
	assertSnapshotsEqual(t, want, m)
}

func assertSnapshotsEqual(t *testing.T, want, got *Snapshot) {
	t.Helper()
	require.Equal(t, len(want.Series), len(got.Series))
	assert.True(t, want.Start.Equal(got.Start))
	assert.Equal(t, want.Interval, got.Interval)
	for i := range want.Series {
		w, g := want.Series[i], got.Series[i]
		assert.Equal(t, w.Key, g.Key)
		assertStatsEqual(t, &w.Total, &g.Total)
		require.Equal(t, len(w.Points), len(g.Points), "%v series", w.Key)
		for j := range w.Points {
			assert.True(t, w.Points[j].Start.Equal(g.Points[j].Start))
			assertStatsEqual(t, &w.Points[j].Stats, &g.Points[j].Stats)
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
	assert.True(t, w.Latency.Hist.Equal(&g.Latency.Hist), "histograms differ: %d vs %d values", w.Latency.Count(), g.Latency.Count())
	assert.True(t, w.Failed.Hist.Equal(&g.Failed.Hist), "failed histograms differ: %d vs %d values", w.Failed.Count(), g.Failed.Count())
	wc, gc := *w, *g
	wc.Latency.Hist, gc.Latency.Hist = Histogram{}, Histogram{}
	wc.Failed.Hist, gc.Failed.Hist = Histogram{}, Histogram{}
	assert.Equal(t, wc, gc)
}

func TestJSONRoundTrip(t *testing.T) {
	r := newRec(t, Options{Warmup: time.Second})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	it := r.Handle(Key{Scenario: "s", Kind: KindIteration})
	for i := range 1000 {
		when := at(time.Duration(i) * 1200 * time.Microsecond)
		r.Shard(i).Record(h, when, time.Duration(i)*time.Microsecond, Outcome(i%int(Interrupted)))
		r.Shard(i).AddBytes(h, when, 10, 100)
		r.Shard(i).Status(h, when, 200+i%3)
		if i%100 == 0 {
			r.Shard(i).Count(it, when, Dropped, 1)
			r.Observe("heap", float64(i))
		}
		if i == 850 {
			r.SetVUs(it, 7)
			r.Flush(when)
		}
	}
	r.Shard(0).Record(h, at(1100*time.Millisecond), 2*time.Hour, OK)
	r.Finish(at(1200 * time.Millisecond))
	s := r.Snapshot()
	var buf bytes.Buffer
	require.NoError(t, s.WriteJSON(&buf))
	got, err := ReadSnapshot(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assertSnapshotsEqual(t, s, got)
	for i, m := range s.Series { // quantiles read through the decoded blocks' indexes
		for j, p := range m.Points {
			q := got.Series[i].Points[j]
			qs := []float64{0, 0.1, 0.5, 0.9, 0.99, 0.999, 1}
			assert.Equal(t, p.Latency.Quantiles(qs...), q.Latency.Quantiles(qs...), "%v point %d", m.Key, j)
			assert.Equal(t, p.Failed.Quantiles(qs...), q.Failed.Quantiles(qs...), "%v point %d", m.Key, j)
		}
	}
	var buf2 bytes.Buffer
	require.NoError(t, got.WriteJSON(&buf2))
	assert.Equal(t, buf.String(), buf2.String(), "encode → decode → encode is stable")
	tot := got.SeriesOf(Key{Scenario: "s", Step: "a", Kind: KindStep}).Total
	assert.Equal(t, int64(1), tot.Latency.Clamped)
	assert.Positive(t, tot.Failed.Count())
	assert.Len(t, tot.Status, 3)
	assert.Equal(t, int64(7), got.SeriesOf(Key{Scenario: "s", Kind: KindIteration}).Points[0].VUs)
	assert.False(t, got.LatencyIncludesFailures)
}

// TestReadVersion1 reads a result file saved by the code of format
// version 1: its latencies, which mixed successes and failures, become the
// latency of successes, and the snapshot says so.
func TestReadVersion1(t *testing.T) {
	b, err := os.ReadFile("../testdata/results/v1-fixed.json")
	require.NoError(t, err)
	var file struct{ Metrics json.RawMessage }
	require.NoError(t, json.Unmarshal(b, &file))
	s, err := ReadSnapshot(bytes.NewReader(file.Metrics))
	require.NoError(t, err)
	assert.Equal(t, 1, s.Version)
	assert.True(t, s.LatencyIncludesFailures)
	apply := s.SeriesOf(Key{Scenario: "signup", Step: "apply", Kind: KindStep})
	require.NotNil(t, apply)
	assert.Equal(t, int64(27), apply.Total.Count(), "40 iterations, 13 of them in the warm-up")
	assert.Equal(t, int64(3), apply.Total.Errors())
	assert.Equal(t, int64(27), apply.Total.Latency.Count(), "failures included")
	assert.Zero(t, apply.Total.Failed.Count())
	assert.Equal(t, 50*time.Millisecond+41*time.Microsecond, apply.Total.Latency.Min)
	// Written again, it is a version-2 file that still says its latency
	// includes failures.
	var out bytes.Buffer
	require.NoError(t, s.WriteJSON(&out))
	again, err := ReadSnapshot(&out)
	require.NoError(t, err)
	assert.Equal(t, Version, again.Version)
	assert.True(t, again.LatencyIncludesFailures)
	assertSnapshotsEqual(t, s, again)
}

func TestReadSnapshotErrors(t *testing.T) {
	const v = `"version":2,"interval_ns":1000000`
	cases := []struct{ name, in, want string }{
		{"empty", ``, "decoding JSON"},
		{"not an object", `[]`, "cannot unmarshal"},
		{"no version", `{"interval_ns":1}`, "unsupported format version: got none"},
		{"future version", `{"version":4,"interval_ns":1}`, "unsupported format version: got 4"},
		{"zero interval", `{"version":2,"interval_ns":0}`, "interval_ns must be >= 1ms"},
		{"1ns interval", `{"version":1,"interval_ns":1}`, "interval_ns must be >= 1ms"},
		{"negative warmup", `{` + v + `,"warmup_ns":-1}`, "warmup_ns must be >= 0"},
		{"unknown field", `{` + v + `,"bogus":1}`, "unknown field"},
		{"bad outcome", `{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{"outcomes":{"fine":1}}}]}`, `unknown outcome "fine"`},
		{"negative count", `{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{"outcomes":{"ok":-1}}}]}`, `must be >= 0`},
		{"bad histogram", `{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{"latency":{"hist":"nope"}}}]}`, "decoding histogram"},
		{"v1 histogram in v2", `{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{"latency":""}}]}`, "cannot unmarshal"},
		{"min without values", `{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{"latency":{"hist":"","min_ns":5}}}]}`, "empty histogram"},
		{"more values than successes", `{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{"latency":` + oneValue + `}}]}`, "only 0 operations succeeded"},
		{"min outside the buckets", `{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{"outcomes":{"ok":1},"latency":` + strings.Replace(oneValue, `"min_ns":1000000`, `"min_ns":5`, 1) + `}}]}`, "outside the histogram's buckets"},
		{"bad status", `{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{"status":{"70000":1}}}]}`, "status code"},
		{"duplicate", `{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{}},{"scenario":"s","kind":"step","total":{}}]}`, "appears twice"},
		{"no scenario", `{` + v + `,"metrics":[{"kind":"step","total":{}}]}`, "must not be empty"},
		{"misaligned point", `{"version":2,"start":"2026-01-01T00:00:00Z","interval_ns":1000000,"metrics":[{"scenario":"s","kind":"step","total":{},"series":[{"start":"2026-01-01T00:00:01Z"}]}]}`, "point 0 starts at"},
		{"trailing", `{` + v + `} {}`, "trailing data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSnapshot(strings.NewReader(tc.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := ReadSnapshot(strings.NewReader(`{"version":9,"interval_ns":1}`))
	assert.True(t, errors.Is(err, ErrVersion))
	_, err = ReadSnapshot(strings.NewReader(`{` + v + `,"metrics":[{"scenario":"s","kind":"step","total":{"outcomes":{"ok":1},"latency":` + oneValue + `}}]}`))
	assert.NoError(t, err, "the valid neighbour of the cases above")
}

// oneValue is a distribution of the single value 1 ms, as JSON.
var oneValue = func() string {
	var d Distribution
	d.Record(time.Millisecond)
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return string(b)
}()

func TestSeriesSumEqualsTotalAndWarmupIsExcluded(t *testing.T) {
	r := newRec(t, Options{Interval: time.Second, Warmup: 2 * time.Second})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	sh := r.Shard(1)
	for sec := range 5 {
		when := at(time.Duration(sec)*time.Second + 500*time.Millisecond)
		for i := range (sec + 1) * 10 {
			sh.Record(h, when, time.Duration(i+1)*time.Millisecond, OK)
		}
		sh.Record(h, when, time.Millisecond, Timeout)
		r.Flush(at(time.Duration(sec+1) * time.Second))
	}
	r.Finish(at(5 * time.Second))
	m := r.Snapshot().Series[0]
	require.Len(t, m.Points, 5)
	var all, measured Stats
	for i, p := range m.Points {
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
	r.Shard(0).Record(h, at(time.Millisecond), time.Millisecond, OK)
	assert.Equal(t, 0, r.Flush(at(999*time.Millisecond)))
	assert.Equal(t, 3, r.Flush(at(3*time.Second)))
	r.Shard(0).Record(h, at(3050*time.Millisecond), time.Millisecond, OK)
	end := r.Finish(at(3100 * time.Millisecond))
	assert.Equal(t, at(4*time.Second), end)
	r.Shard(0).Record(h, at(3100*time.Millisecond), time.Millisecond, OK) // after Finish: not seen
	assert.Equal(t, end, r.Finish(at(time.Hour)), "Finish is idempotent")
	s := r.Snapshot()
	counts := []int64{}
	for _, p := range s.Series[0].Points {
		counts = append(counts, p.Count())
	}
	assert.Equal(t, []int64{1, 0, 0, 1}, counts)
	assert.Equal(t, end, s.End())
	// A key registered late still has a point for every interval.
	late := r.Handle(Key{Scenario: "s", Step: "late", Kind: KindStep})
	assert.Len(t, r.Snapshot().SeriesOf(r.keys[late]).Points, 4)
}

func TestClampedValuesAreCounted(t *testing.T) {
	r := newRec(t, Options{})
	h := r.Handle(Key{Scenario: "s", Kind: KindStep, Step: "x"})
	r.Shard(0).Record(h, t0, 3*time.Hour, OK)
	r.Shard(0).Record(h, t0, -time.Second, OK)
	r.Finish(at(time.Second))
	st := r.Snapshot().Series[0].Total
	assert.Equal(t, int64(2), st.Latency.Count())
	assert.Equal(t, int64(1), st.Latency.Clamped)
	assert.Equal(t, 3*time.Hour, st.Latency.Max, "exact max is kept")
	assert.Equal(t, time.Duration(0), st.Latency.Min)
	assert.InEpsilon(t, float64(time.Hour), float64(st.Latency.Hist.Quantile(1)), 1e-3)
}

func TestMergeRefusesMisalignedSnapshots(t *testing.T) {
	a := newRec(t, Options{}).Snapshot()
	b := newRec(t, Options{Start: at(500 * time.Millisecond)}).Snapshot()
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
	_, err = Merge(a, nil)
	assert.ErrorContains(t, err, "snapshot 1 is nil")
}

// TestMergeRefusesHugeSpans: two small snapshots whose starts lie far
// apart would need a vast series; Merge says so instead of allocating it.
func TestMergeRefusesHugeSpans(t *testing.T) {
	a := newRec(t, Options{Interval: time.Millisecond}).Snapshot()
	b := newRec(t, Options{Interval: time.Millisecond, Start: t0.Add(365 * 24 * time.Hour)}).Snapshot()
	_, err := Merge(a, b)
	assert.ErrorContains(t, err, "more than 604800 intervals")
}

// TestMergeRefusesPartsFarApart: two one-point snapshots with a 1 ms
// interval, a minute apart, would make 60 000 empty points (with a 1 ns
// interval and a second apart they once asked for 208 GB).
func TestMergeRefusesPartsFarApart(t *testing.T) {
	k := Key{Scenario: "s", Kind: KindIteration}
	a := newRec(t, Options{Interval: time.Millisecond})
	a.Shard(0).Record(a.Handle(k), t0, time.Millisecond, OK)
	a.Finish(t0.Add(time.Millisecond))
	b := newRec(t, Options{Interval: time.Millisecond, Start: t0.Add(time.Minute)})
	b.Shard(0).Record(b.Handle(k), t0.Add(time.Minute), time.Millisecond, OK)
	b.Finish(t0.Add(time.Minute + time.Millisecond))
	_, err := Merge(a.Snapshot(), b.Snapshot())
	assert.ErrorContains(t, err, "the snapshots hold 2 points but their merge would make 60001")
	assert.ErrorContains(t, err, "too far apart in time to be parts of one run")
}

func TestMergeSaturatesInsteadOfWrapping(t *testing.T) {
	a := Stats{Outcomes: Counts{OK: math.MaxInt64 - 1, HTTP5xx: math.MaxInt64 - 1}}
	b := a
	a.Merge(&b)
	assert.Equal(t, int64(math.MaxInt64), a.Outcomes[OK])
	assert.Equal(t, int64(math.MaxInt64), a.Errors())
	assert.Positive(t, a.Count())
}

func TestMergeAlignsOffsetStarts(t *testing.T) {
	a := newRec(t, Options{})
	b := newRec(t, Options{Start: at(2 * time.Second)})
	k := Key{Scenario: "s", Kind: KindIteration}
	a.Shard(0).Record(a.Handle(k), t0, time.Millisecond, OK)
	a.Observe("g", 1)
	a.Finish(at(time.Second))
	b.Shard(0).Record(b.Handle(k), at(2*time.Second), time.Millisecond, OK)
	b.Observe("g", 3)
	b.Finish(at(3 * time.Second))
	m, err := Merge(b.Snapshot(), a.Snapshot())
	require.NoError(t, err)
	assert.True(t, m.Start.Equal(t0))
	ser := m.Series[0].Points
	require.Len(t, ser, 3)
	assert.Equal(t, []int64{1, 0, 1}, []int64{ser[0].Count(), ser[1].Count(), ser[2].Count()})
	assert.Equal(t, int64(2), m.Series[0].Total.Count())
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
	assert.ErrorContains(t, Options{Warmup: 1000 * time.Hour}.Validate(), "shorter than 604800 intervals")
	assert.NoError(t, Options{}.Validate())
}

func TestRecordDoesNotAllocate(t *testing.T) {
	r := newRec(t, Options{})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	sh := r.Shard(3)
	sh.Record(h, t0, time.Millisecond, OK)
	sh.Record(h, t0, time.Millisecond, Timeout)
	sh.Status(h, t0, 200)
	allocs := testing.AllocsPerRun(1000, func() {
		sh.Record(h, t0, 1234*time.Microsecond, OK)
		sh.Record(h, t0, 1234*time.Microsecond, HTTP5xx)
		sh.Count(h, t0, Dropped, 1)
		sh.AddBytes(h, t0, 1, 2)
		sh.Status(h, t0, 503)
	})
	assert.Zero(t, allocs)
}

func TestForeignHandlePanics(t *testing.T) {
	r := newRec(t, Options{})
	assert.PanicsWithValue(t, "metrics: handle 3 was not issued by this Recorder", func() {
		r.Shard(0).Record(Handle(3), t0, time.Millisecond, OK)
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
	var errs []Outcome
	for o := range Outcome(NumOutcomes) {
		if o.IsError() {
			errs = append(errs, o)
		}
	}
	classes := ErrorClasses()
	assert.ElementsMatch(t, errs, classes[:], "the error classes are the outcomes that are errors")
	assert.Equal(t, []Outcome{Timeout, Refused, Reset, HTTP4xx, HTTP5xx, Rejected, ServerError, CheckFailed, Panic, Other}, classes[:],
		"in the order reports list them: the services' answers together")
	assert.Equal(t, Outcome(11), Rejected, "the values stored before the later classes keep their meaning")
	assert.Equal(t, Outcome(12), ServerError)
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
				sh.Record(h, t0, time.Duration(vu*j+1)*time.Microsecond, OK)
			}
		}
	}
	r.Finish(at(time.Second))
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("retained %.1f MiB for 1000 VUs × 10 steps with %d shards", float64(retained)/(1<<20), len(r.shards))
	assert.Less(t, retained, int64(64<<20))
	runtime.KeepAlive(r)
}

// TestRecordNIsNRecords: RecordN records what n calls of Record would,
// exactly: counts, the distribution and its exact sum; n <= 0 records
// nothing.
func TestRecordNIsNRecords(t *testing.T) {
	k := Key{Scenario: "s", Kind: KindStep}
	one, many := newRec(t, Options{}), newRec(t, Options{})
	at := one.Start().Add(time.Millisecond)
	for _, d := range []time.Duration{3 * time.Microsecond, 250 * time.Millisecond} {
		for range 7 {
			one.Shard(0).Record(one.Handle(k), at, d, OK)
		}
		many.Shard(0).RecordN(many.Handle(k), at, d, OK, 7)
	}
	many.Shard(0).RecordN(many.Handle(k), at, time.Second, OK, 0)
	many.Shard(0).RecordN(many.Handle(k), at, time.Second, OK, -3)
	end := one.Start().Add(time.Second)
	one.Finish(end)
	many.Finish(end)
	a, b := one.Snapshot().SeriesOf(k).Total, many.Snapshot().SeriesOf(k).Total
	assert.Equal(t, int64(14), b.Count())
	assert.Equal(t, a.Outcomes, b.Outcomes)
	assert.Equal(t, a.Latency.Sum, b.Latency.Sum)
	assert.Equal(t, a.Latency.Max, b.Latency.Max)
	for _, q := range []float64{0, 0.5, 0.99, 1} {
		assert.Equal(t, a.Quantile(q), b.Quantile(q), "q %v", q)
	}
}

// Codes of other protocols than HTTP count as well, on a key of their own
// kind: gRPC's OK is 0, a WebSocket close code is above 999. A cell's short
// list of codes is reused interval after interval, and what a snapshot holds
// is its own copy.
func TestStatusCodesOfOtherProtocols(t *testing.T) {
	r := newRec(t, Options{})
	h := r.Handle(Key{Scenario: "s", Step: "call", Kind: "grpc"})
	sh := r.Shard(0)
	sh.Status(h, t0, 14)
	sh.Status(h, t0, 0)
	sh.Status(h, t0, 0)
	sh.Status(h, at(time.Second), 4000)
	sh.Status(h, at(time.Second), 1006)
	r.Flush(at(2 * time.Second))
	sh.Status(h, at(2*time.Second), 0)
	r.Finish(at(3 * time.Second))
	s := r.Snapshot().Series[0]
	assert.Equal(t, StatusCounts{{0, 3}, {14, 1}, {1006, 1}, {4000, 1}}, s.Total.Status)
	pts := s.Points
	require.Len(t, pts, 3)
	assert.Equal(t, StatusCounts{{0, 2}, {14, 1}}, pts[0].Status)
	assert.Equal(t, StatusCounts{{1006, 1}, {4000, 1}}, pts[1].Status)
	assert.Equal(t, StatusCounts{{0, 1}}, pts[2].Status)
}

func TestCodeNames(t *testing.T) {
	const k Kind = "test_codes"
	assert.False(t, HasCodeNames(k))
	assert.Equal(t, "14", CodeName(k, 14), "unnamed codes are numbers")
	c, err := ParseCode(k, "503")
	require.NoError(t, err)
	assert.Equal(t, 503, c)
	_, err = ParseCode(k, "UNAVAILABLE")
	assert.ErrorContains(t, err, `status code "UNAVAILABLE" must be a number in 0..65535`)

	RegisterCodes(k, map[int]string{0: "OK", 14: "UNAVAILABLE", -1: "NEGATIVE", 3: ""})
	t.Cleanup(func() {
		codeNames.Lock()
		delete(codeNames.byKind, k)
		codeNames.Unlock()
	})
	assert.True(t, HasCodeNames(k))
	assert.Equal(t, "UNAVAILABLE", CodeName(k, 14))
	assert.Equal(t, "3", CodeName(k, 3), "an empty name is no name")
	assert.Equal(t, "14", CodeName(KindStep, 14), "names belong to their kind")
	c, err = ParseCode(k, "UNAVAILABLE")
	require.NoError(t, err)
	assert.Equal(t, 14, c)
	c, err = ParseCode(k, "14")
	require.NoError(t, err)
	assert.Equal(t, 14, c, "a named code may still be given as its number")
	_, err = ParseCode(k, "NEGATIVE")
	assert.ErrorContains(t, err, `not a status code of kind "test_codes": want a number in 0..65535 or one of its names, such as OK`)
	_, err = ParseCode(k, "unavailable")
	assert.Error(t, err, "names are matched exactly")
}
