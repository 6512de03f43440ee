package loadgen

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
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
	it := rec.Handle(metrics.Key{Scenario: "journey", Kind: metrics.KindIteration})
	var steps [10]struct {
		step   metrics.Handle
		phases [5]metrics.Handle
	}
	phases := [5]metrics.Kind{"http_dns", "http_connect", "http_tls", "http_ttfb", "http_receive"}
	for i := range steps {
		name := "step-" + strconv.Itoa(i)
		steps[i].step = rec.Handle(metrics.Key{Scenario: "journey", Step: name, Kind: metrics.KindStep})
		for p, k := range phases {
			steps[i].phases[p] = rec.Handle(metrics.Key{Scenario: "journey", Step: name, Kind: k})
		}
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	lat := func(median float64) time.Duration {
		return time.Duration(median * math.Exp(0.5*rng.NormFloat64()))
	}
	for s := time.Duration(0); s < d; s += time.Second {
		for r := range perSecond {
			at := start.Add(s + time.Duration(r)*time.Second/time.Duration(perSecond))
			var total time.Duration
			for i := range steps {
				l := lat(20e6)
				total += l
				sh.Record(steps[i].step, at, l, metrics.OK)
				sh.Status(steps[i].step, at, 200)
				sh.AddBytes(steps[i].step, at, 200, 2000)
				sh.Record(steps[i].phases[0], at, 0, metrics.OK)
				sh.Record(steps[i].phases[1], at, 0, metrics.OK)
				sh.Record(steps[i].phases[2], at, 0, metrics.OK)
				sh.Record(steps[i].phases[3], at, l*9/10, metrics.OK)
				sh.Record(steps[i].phases[4], at, l/10, metrics.OK)
			}
			sh.Record(it, at, total, metrics.OK)
		}
		rec.Flush(start.Add(s + time.Second))
	}
	end := start.Add(d)
	rec.Finish(end)
	res := &Result{Version: ResultVersion, Segment: seg, Start: start, End: end, Metrics: rec.Snapshot(),
		Plan: PlanInfo{Name: "an hour", Interval: time.Second, Duration: d, Scenarios: []ScenarioInfo{{
			Name: "journey", Executor: "constant-vus", Description: "constant-vus", Config: []byte("{}"), GracefulStop: 30 * time.Second,
		}}}}
	if err := res.validate(); err != nil {
		tb.Fatal(err)
	}
	return res
}

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

// BenchmarkResultOfAnHour reports the size of the result file of one
// process's hour (see hourResult, 100 requests a step each second) and
// how long writing and reading it take.
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
}

// BenchmarkMergeHours merges STAMPEDE_BENCH_SEGMENTS (default 10) segment
// results of an hour each (the 100 requests a step each second shared
// among them), and reports the merge's time, the heap the inputs hold and
// the heap the merge adds. Building the inputs takes most of the run.
//
//	STAMPEDE_BENCH_SEGMENTS=100 go test -run '^$' -bench '^BenchmarkMergeHours$' -benchtime 1x ./loadgen
func BenchmarkMergeHours(b *testing.B) {
	n := 10
	if v, err := strconv.Atoi(os.Getenv("STAMPEDE_BENCH_SEGMENTS")); err == nil && v > 0 {
		n = v
	}
	parts := make([]*Result, n)
	for i := range parts {
		parts[i] = hourResult(b, time.Hour, 100/n+1, Segment{Index: i, Count: n}, uint64(i))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		m, err := Merge(parts...)
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(m)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "merge-heap-MB")
	b.ReportMetric(float64(before.HeapAlloc)/1e6, "inputs-heap-MB")
}
