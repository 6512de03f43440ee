package metrics

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkRecord(b *testing.B) {
	now := time.Now() // with a monotonic reading, as the engine's instants
	r := newRec(b, Options{Start: now})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	sh := r.Shard(0)
	b.ReportAllocs()
	d := time.Duration(0)
	for b.Loop() {
		d += 997 * time.Nanosecond
		sh.Record(h, now, d&(1<<30-1), OK)
	}
}

func BenchmarkRecordParallel(b *testing.B) {
	r := newRec(b, Options{})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	var ids atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		sh := r.Shard(int(ids.Add(1)))
		d := time.Duration(0)
		for pb.Next() {
			d += 997 * time.Nanosecond
			sh.Record(h, t0, d&(1<<30-1), OK)
		}
	})
}

// BenchmarkRecordAcrossBoundary is what a virtual user pays for the first
// recording after an interval boundary, when another shard has already
// handed over the same key's interval: a hand-over links its cell, and the
// merge waits for the flush (outside the timer here, as on the clock's
// goroutine). Each of the two shards holds 1 000 spread latencies.
func BenchmarkRecordAcrossBoundary(b *testing.B) {
	now := time.Now()
	r, h, a, c, fill := twoShards(b, now)
	slot := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		at := now.Add(time.Duration(slot) * time.Second)
		fill(at)
		next := at.Add(time.Second)
		a.Record(h, next, time.Millisecond, OK) // a hands over first
		b.StartTimer()
		c.Record(h, next, time.Millisecond, OK) // the measured hand-over
		b.StopTimer()
		r.Flush(next)
		slot++
		b.StartTimer()
	}
}

// quantileHist fills a histogram with 20 000 latencies spread over ~2 500
// buckets, as one busy second of a step.
func quantileHist() Histogram {
	rng := rand.New(rand.NewPCG(1, 1))
	var h Histogram
	for range 20_000 {
		h.Record(time.Duration((1 + rng.ExpFloat64()) * float64(2*time.Millisecond)))
	}
	return h
}

// BenchmarkLiveQuantile reads p99 of a histogram being built; the
// reference for BenchmarkFrozenQuantile.
func BenchmarkLiveQuantile(b *testing.B) {
	h := quantileHist()
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Quantile(0.99)
	}
}

// BenchmarkFrozenQuantile reads p99 of a closed interval's (frozen)
// histogram.
func BenchmarkFrozenQuantile(b *testing.B) {
	lh := quantileHist()
	h := lh.Frozen()
	b.ReportAllocs()
	for b.Loop() {
		_ = h.Quantile(0.99)
	}
}

// BenchmarkSnapshot builds the series of a 10-minute, 10-step run (600
// one-second intervals, each interval's latencies spread over ~5 000 values)
// and reports the bytes the finished series retain per interval and in all.
func BenchmarkSnapshot(b *testing.B) {
	const names, intervals = 10, 600
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	r := newRec(b, Options{})
	hs := make([]Handle, names)
	for i := range hs {
		hs[i] = r.Handle(Key{Scenario: "s", Step: string(rune('a' + i)), Kind: KindStep})
	}
	sh := r.Shard(0)
	v := time.Duration(0)
	for i := range intervals {
		now := t0.Add(time.Duration(i) * time.Second)
		for _, h := range hs {
			for range 5000 {
				v = (v*31 + 7919*time.Microsecond) % (2 * time.Second)
				sh.Record(h, now, v, OK)
			}
		}
		r.Flush(now.Add(time.Second))
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	retained := float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
	b.ReportAllocs()
	for b.Loop() {
		s := r.Snapshot()
		if len(s.Series) != names {
			b.Fatal("wrong snapshot")
		}
	}
	// After the loop: b.Loop resets the timer, and with it earlier metrics.
	b.ReportMetric(retained/intervals, "B/interval")
	b.ReportMetric(retained/(1<<20), "MiB-retained")
}

// BenchmarkFlush closes one interval of a key that two shards recorded
// 1 000 latencies each into, as the clock's goroutine does once an
// interval: what it costs, and how long it keeps its processor.
func BenchmarkFlush(b *testing.B) {
	now := time.Now()
	r, _, _, _, fill := twoShards(b, now)
	slot := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		fill(now.Add(time.Duration(slot) * time.Second))
		slot++
		b.StartTimer()
		r.Flush(now.Add(time.Duration(slot) * time.Second))
	}
}

// twoShards returns a recorder starting at now with one key, two of its
// shards, and fill, which records 1 000 latencies spread up to 50 ms
// into each shard at at.
func twoShards(b *testing.B, now time.Time) (r *Recorder, h Handle, a, c *Shard, fill func(at time.Time)) {
	r = newRec(b, Options{Start: now, Shards: 2})
	h = r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	a, c = r.Shard(0), r.Shard(1)
	rng := rand.New(rand.NewPCG(1, 1))
	return r, h, a, c, func(at time.Time) {
		for range 1000 {
			a.Record(h, at, time.Duration(rng.IntN(50_000_000)), OK)
			c.Record(h, at, time.Duration(rng.IntN(50_000_000)), OK)
		}
	}
}
