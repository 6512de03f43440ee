package loadgen

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// hourResult builds, without running anything, the result one segment of
// a 1-hour run of a 10-step HTTP journey would record: each step and its
// five phases (dns, connect, tls, ttfb, receive) a key, 1 s intervals,
// perSecond requests a step each second with log-normal latencies (median
// 20 ms, a spread of 0.5 on logarithms: p99 about 3.2 × the median),
// status 200. seed makes segments differ.
func hourResult(tb testing.TB, d time.Duration, perSecond int, seg Segment, seed uint64) *Result {
	tb.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rec, err := metrics.New(metrics.Options{Start: start, Shards: 1})
	if err != nil {
		tb.Fatal(err)
	}
	sh := rec.Shard(0)
	keys := journeyKeys()
	h := make([]metrics.Handle, len(keys))
	for i, k := range keys {
		h[i] = rec.Handle(k)
	}
	it := h[0]
	rng := rand.New(rand.NewPCG(seed, 7))
	lat := func(median float64) time.Duration {
		return time.Duration(median * math.Exp(0.5*rng.NormFloat64()))
	}
	for s := time.Duration(0); s < d; s += time.Second {
		for r := range perSecond {
			at := start.Add(s + time.Duration(r)*time.Second/time.Duration(perSecond))
			var total time.Duration
			for i := range journeySteps {
				l := lat(20e6)
				total += l
				step := h[1+6*i]
				sh.Record(step, at, l, metrics.OK)
				sh.Status(step, at, 200)
				sh.AddBytes(step, at, 200, 2000)
				for p, v := range journeyPhases(l) {
					sh.Record(h[2+6*i+p], at, v, metrics.OK)
				}
			}
			sh.Record(it, at, total, metrics.OK)
		}
		rec.Flush(start.Add(s + time.Second))
	}
	end := start.Add(d)
	rec.Finish(end)
	res := &Result{Version: ResultVersion, Segment: seg, Start: start, End: end, Metrics: rec.Snapshot(), Plan: journeyPlan(d)}
	if err := res.validate(); err != nil {
		tb.Fatal(err)
	}
	return res
}

// journeySteps is the number of steps of the journey of hourResult.
const journeySteps = 10

// journeyKeys returns the keys of the journey of hourResult: the
// iterations, then each step followed by its five phases (dns, connect,
// tls, ttfb, receive).
func journeyKeys() []metrics.Key {
	keys := []metrics.Key{{Scenario: "journey", Kind: metrics.KindIteration}}
	for i := range journeySteps {
		name := "step-" + strconv.Itoa(i)
		keys = append(keys, metrics.Key{Scenario: "journey", Step: name, Kind: metrics.KindStep})
		for _, k := range [5]metrics.Kind{"http_dns", "http_connect", "http_tls", "http_ttfb", "http_receive"} {
			keys = append(keys, metrics.Key{Scenario: "journey", Step: name, Kind: k})
		}
	}
	return keys
}

// journeyPhases returns the phases of a request of latency l: no DNS,
// connect or TLS (a kept connection), 90 % waiting for the first byte.
func journeyPhases(l time.Duration) [5]time.Duration {
	return [5]time.Duration{0, 0, 0, l * 9 / 10, l / 10}
}

func journeyPlan(d time.Duration) PlanInfo {
	return PlanInfo{Name: "an hour", Interval: time.Second, Duration: d, Scenarios: []ScenarioInfo{{
		Name: "journey", Executor: "constant-vus", Description: "constant-vus", Config: []byte("{}"), GracefulStop: 30 * time.Second,
	}}}
}

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// BenchmarkResultOfAnHour reports the size of the result file of one
// process's hour (see hourResult, 100 requests a step each second), how
// long writing and reading it take, and the size of its block in a log
// ([Result.WriteLog]).
//
//	go test -run '^$' -bench '^BenchmarkResultOfAnHour$' -benchtime 1x ./loadgen
func BenchmarkResultOfAnHour(b *testing.B) {
	res := hourResult(b, time.Hour, 100, Segment{}, 1)
	var n counter
	var buf bytes.Buffer
	b.ResetTimer()
	for b.Loop() {
		n = 0
		buf.Reset()
		if err := res.WriteJSON(io.MultiWriter(&n, &buf)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/1e6, "file-MB")
	t0 := time.Now()
	if _, err := ReadResult(&buf); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(t0).Seconds(), "read-s")
	n = 0
	if err := res.WriteLog(&n); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/1e6, "log-MB")
}

// segmentOf builds, without running anything, the result of one segment
// of a run of d of the journey of hourResult, perSecond requests a step
// each second, every point drawn anew: each histogram is merged from
// histograms of one value, one per value, made once.
func segmentOf(d time.Duration, perSecond int, seg Segment, rng *rand.Rand, one map[time.Duration]metrics.Histogram) *Result {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := int(d / time.Second)
	dist := func(d *metrics.Distribution, v time.Duration) {
		// v to 3 significant digits: a few thousand values in all.
		for p := time.Duration(1); ; p *= 10 {
			if v < 1000*p {
				v -= v % p
				break
			}
		}
		h, ok := one[v]
		if !ok {
			h.Record(v)
			h = h.Frozen()
			one[v] = h
		}
		d.Merge(&metrics.Distribution{Hist: h, Min: v, Max: v, Sum: v})
	}
	keys := journeyKeys()
	snap := &metrics.Snapshot{Version: metrics.Version, Start: start, Interval: time.Second, Series: make([]metrics.Series, len(keys))}
	for k, key := range keys {
		snap.Series[k] = metrics.Series{Key: key, Points: make([]metrics.Point, n)}
	}
	for j := range n {
		pts := make([]*metrics.Stats, len(keys))
		for k := range keys {
			p := &snap.Series[k].Points[j]
			p.Start = start.Add(time.Duration(j) * time.Second)
			pts[k] = &p.Stats
		}
		for range perSecond {
			var total time.Duration
			for i := range journeySteps {
				l := time.Duration(20e6 * math.Exp(0.5*rng.NormFloat64()))
				total += l
				st := pts[1+6*i]
				st.Outcomes[metrics.OK]++
				st.Status = st.Status.Merge(metrics.StatusCounts{{Code: 200, Count: 1}})
				st.BytesReceived += 2000
				dist(&st.Latency, l)
				for p, v := range journeyPhases(l) {
					ph := pts[2+6*i+p]
					ph.Outcomes[metrics.OK]++
					dist(&ph.Latency, v)
				}
			}
			pts[0].Outcomes[metrics.OK]++
			dist(&pts[0].Latency, total)
		}
	}
	for k := range snap.Series {
		s := &snap.Series[k]
		for j := range s.Points {
			s.Total.Merge(&s.Points[j].Stats)
		}
	}
	return &Result{Version: ResultVersion, Segment: seg, Start: start, End: start.Add(d), Metrics: snap, Plan: journeyPlan(d)}
}

// mergeFiles writes the result files of n segments of a run of d whose
// 10-step journey makes perSecond requests a step each second in each
// segment, then merges them one file at a time with a [Merger], as
// examples/distributed's merge does. It reports the merge's time, the
// mean file size, the heap's peak during the merge (sampled every 5 ms)
// and the heap the merged result holds.
func mergeFiles(b *testing.B, n int, d time.Duration, perSecond int) {
	one := map[time.Duration]metrics.Histogram{}
	dir := b.TempDir()
	files := make([]string, n)
	var size int64
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range files {
		files[i] = filepath.Join(dir, fmt.Sprintf("segment-%d.json", i))
		if err := segmentOf(d, perSecond, Segment{Index: i, Count: n}, rng, one).SaveJSON(files[i]); err != nil {
			b.Fatal(err)
		}
		st, err := os.Stat(files[i])
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var merged *Result
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		merged = nil
		runtime.GC()
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() { // the heap's peak, sampled
			sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			var hi uint64
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				rtmetrics.Read(sample)
				hi = max(hi, sample[0].Value.Uint64())
				select {
				case <-stop:
					done <- hi
					return
				case <-tick.C:
				}
			}
		}()
		var m Merger
		for _, f := range files {
			r, err := LoadResult(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Add(r); err != nil {
				b.Fatal(err)
			}
		}
		res, err := m.Result()
		if err != nil {
			b.Fatal(err)
		}
		close(stop)
		peak = <-done
		merged = res
	}
	b.StopTimer()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(merged)
	b.ReportMetric(float64(size)/float64(n)/1e6, "file-MB")
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(after.HeapAlloc-base.HeapAlloc)/1e6, "merged-heap-MB")
}

// benchSegments is STAMPEDE_BENCH_SEGMENTS, or def.
func benchSegments(def int) int {
	if v, err := strconv.Atoi(os.Getenv("STAMPEDE_BENCH_SEGMENTS")); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkMergeHours merges the result files of 100 segments (or
// STAMPEDE_BENCH_SEGMENTS) of a 1-hour run of a 10-step journey making 100
// requests a step each second in all (at least 1 a segment), one file at
// a time. Writing the files first takes most of the run.
//
//	go test -run '^$' -bench '^BenchmarkMergeHours$' -benchtime 1x ./loadgen
func BenchmarkMergeHours(b *testing.B) {
	n := benchSegments(100)
	mergeFiles(b, n, time.Hour, max(1, 100/n))
}

// BenchmarkMergeTenMinutes merges the result files of 1 000 segments (or
// STAMPEDE_BENCH_SEGMENTS) of a 10-minute run of the same journey, each
// making a request a step each second: 1 000 a step each second in all.
//
//	go test -run '^$' -bench '^BenchmarkMergeTenMinutes$' -benchtime 1x ./loadgen
func BenchmarkMergeTenMinutes(b *testing.B) {
	mergeFiles(b, benchSegments(1000), 10*time.Minute, 1)
}
