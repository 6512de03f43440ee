package loadgen

import (
	"math"
	"runtime"
	rtmetrics "runtime/metrics"
	"time"

	"github.com/stampede-go/stampede/internal/clock"
	"github.com/stampede-go/stampede/internal/proc"
	"github.com/stampede-go/stampede/metrics"
)

// Generator describes one process that generated a run's load: what it
// had to work with and how precise its clock was. Its health over time is
// in the run's metrics: the Go scheduler's latency and the GC's pauses
// under the scenario name [metrics.Generator] ([metrics.KindGoSched],
// [metrics.KindGCPause]), its CPU use, goroutines and heap as the gauges
// [GaugeCPU], [GaugeGoroutines] and [GaugeHeap].
type Generator struct {
	// Procs is GOMAXPROCS, the processors Go may use (which follows the
	// container's CPU limit); CPUs is the machine's logical CPUs.
	Procs int `json:"gomaxprocs"`
	CPUs  int `json:"cpus"`
	// ClockResolution is the smallest step of the clock seen when the run
	// started; TimerLateness is how late the latest of a few short timers
	// fired then.
	ClockResolution time.Duration `json:"clock_resolution_ns"`
	TimerLateness   time.Duration `json:"timer_lateness_ns"`
	// CPUTime is the CPU time the process used during the run (the target
	// too, if it runs in the same process); 0 where the platform does not
	// say.
	CPUTime time.Duration `json:"cpu_time_ns,omitempty"`
}

// The gauges of the generator's health, sampled once per interval. Plan
// gauges may not use the prefix "generator.".
const (
	// GaugeCPU is the share of its processors (GOMAXPROCS) the process
	// used since the last sample: 1 is all of them. It is sampled where
	// the platform says (Unix), over spans of at least half an interval:
	// a shorter one (a tick just after a late one, the run's last partial
	// interval) is carried into the next sample, or left out at the end.
	GaugeCPU = metrics.GeneratorGaugePrefix + "cpu"
	// GaugeGoroutines is the number of goroutines.
	GaugeGoroutines = metrics.GeneratorGaugePrefix + "goroutines"
	// GaugeHeap is the bytes of heap memory occupied by objects.
	GaugeHeap = metrics.GeneratorGaugePrefix + "heap_bytes"
)

// runtime/metrics names the health reads.
const (
	rtSched      = "/sched/latencies:seconds"
	rtGCPause    = "/sched/pauses/total/gc:seconds"
	rtGoroutines = "/sched/goroutines:goroutines"
	rtHeap       = "/memory/classes/heap/objects:bytes"
)

// health samples the generator's own health at each interval's end: the
// runtime's cumulative histograms are read and what they gained since
// the last sample is recorded, bucket by bucket, at the upper bound of
// each bucket (so that a figure read from them is never below the truth).
type health struct {
	rec          *metrics.Recorder
	shard        *metrics.Shard
	sched, pause metrics.Handle
	samples      []rtmetrics.Sample
	last         [2][]uint64 // the histograms' counts at the last sample
	procs        int
	cpu          time.Duration // the process's CPU time at the last sample
	cpuOK        bool
	cpuStart     time.Duration
	at           time.Time // the last sample's time
}

func newHealth(rec *metrics.Recorder, now time.Time) *health {
	h := &health{
		rec:   rec,
		shard: rec.Shard(-1),
		sched: rec.Handle(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}),
		pause: rec.Handle(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGCPause}),
		samples: []rtmetrics.Sample{
			{Name: rtSched}, {Name: rtGCPause}, {Name: rtGoroutines}, {Name: rtHeap},
		},
		procs: runtime.GOMAXPROCS(0),
		at:    now,
	}
	rtmetrics.Read(h.samples)
	for i := range h.last {
		if s := h.samples[i]; s.Value.Kind() == rtmetrics.KindFloat64Histogram {
			h.last[i] = append([]uint64(nil), s.Value.Float64Histogram().Counts...)
		}
	}
	h.cpu, h.cpuOK = proc.CPUTime()
	h.cpuStart = h.cpu
	return h
}

// sample records what happened since the last sample as of now, into the
// interval that ends at or after end (end is a nanosecond before the
// boundary being closed, or the run's end).
func (h *health) sample(now, end time.Time) {
	rtmetrics.Read(h.samples)
	for i, key := range [2]metrics.Handle{h.sched, h.pause} {
		s := h.samples[i]
		if s.Value.Kind() != rtmetrics.KindFloat64Histogram {
			continue
		}
		hist := s.Value.Float64Histogram()
		for b, n := range hist.Counts {
			var was uint64
			if b < len(h.last[i]) {
				was = h.last[i][b]
			}
			if n > was {
				h.shard.RecordN(key, end, bucketTop(hist.Buckets, b), metrics.OK, int64(min(n-was, math.MaxInt64)))
			}
		}
		h.last[i] = append(h.last[i][:0], hist.Counts...)
	}
	if s := h.samples[2]; s.Value.Kind() == rtmetrics.KindUint64 {
		h.rec.Observe(GaugeGoroutines, float64(s.Value.Uint64()))
	}
	if s := h.samples[3]; s.Value.Kind() == rtmetrics.KindUint64 {
		h.rec.Observe(GaugeHeap, float64(s.Value.Uint64()))
	}
	if cpu, ok := proc.CPUTime(); ok && h.cpuOK {
		// Over a short span (a tick just after a late one, or the run's
		// last, partial interval) a burst of a few threads would read as
		// a share of a whole interval: a short span is carried into the
		// next sample, or left out at the end.
		if wall := now.Sub(h.at); wall >= h.rec.Interval()/2 {
			h.rec.Observe(GaugeCPU, float64(cpu-h.cpu)/float64(wall)/float64(h.procs))
			h.cpu, h.at = cpu, now
		}
	}
}

// used is the CPU time the process used since the health was set up, 0
// where the platform does not say.
func (h *health) used() time.Duration {
	if !h.cpuOK {
		return 0
	}
	return h.cpu - h.cpuStart
}

// bucketTop is the upper bound of bucket b, as a duration: its lower bound
// for the last, unbounded bucket, and 0 for a bucket below 0.
func bucketTop(bounds []float64, b int) time.Duration {
	top := bounds[b+1]
	if math.IsInf(top, 1) {
		top = bounds[b]
	}
	if top <= 0 || math.IsInf(top, -1) {
		return 0
	}
	return time.Duration(min(top*1e9, float64(math.MaxInt64)))
}

// measureGenerator describes this process as the run starts: its
// processors, its clock's resolution and how late a few short timers
// fire.
func measureGenerator() Generator {
	g := Generator{Procs: runtime.GOMAXPROCS(0), CPUs: runtime.NumCPU()}
	res := time.Duration(math.MaxInt64)
	for range 5 {
		t0 := time.Now()
		t1 := time.Now()
		for i := 0; i < 1000 && !t1.After(t0); i++ {
			t1 = time.Now()
		}
		if d := t1.Sub(t0); d > 0 {
			res = min(res, d)
		}
	}
	if res != math.MaxInt64 {
		g.ClockResolution = res
	}
	const short = 100 * time.Microsecond
	for range 5 {
		t0 := time.Now()
		time.Sleep(short)
		late := time.Since(t0) - short
		clock.TimerFired(late) // the open models' schedulers size their waits from it
		g.TimerLateness = max(g.TimerLateness, late)
	}
	return g
}
