package loadgen

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/internal/proc"
	"github.com/stampede-go/stampede/metrics"
)

// TestGeneratorHealthIsRecorded runs a short plan on the real clock and
// finds the generator's health in its result: the process described,
// the scheduler's latency and the GC's pauses as series, CPU, goroutines
// and heap as gauges, every interval; and all of it survives the file
// format and a merge of segments.
func TestGeneratorHealthIsRecorded(t *testing.T) {
	run := func(seg Segment) *Result {
		res, err := Run(t.Context(), &Plan{Interval: 100 * time.Millisecond, Segment: seg, StartAt: time.Now().Truncate(time.Millisecond).Add(20 * time.Millisecond),
			Scenarios: []Scenario{{Name: "s", Executor: ConstantVUs{VUs: 4, Duration: 300 * time.Millisecond},
				Iteration: func(ctx context.Context, _ *Iteration) error {
					runtime.GC() // pauses to record
					time.Sleep(time.Millisecond)
					return nil
				}}}})
		require.NoError(t, err)
		return res
	}
	res := run(Segment{})
	require.Len(t, res.Generators, 1)
	g := res.Generators[0]
	assert.Equal(t, runtime.GOMAXPROCS(0), g.Procs)
	assert.Equal(t, runtime.NumCPU(), g.CPUs)
	assert.Positive(t, g.ClockResolution)
	if runtime.GOOS == "linux" {
		assert.Positive(t, g.CPUTime)
	}
	sched := res.Metrics.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched})
	require.NotNil(t, sched, "the scheduler's latency")
	assert.Positive(t, sched.Total.Count())
	pause := res.Metrics.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGCPause})
	require.NotNil(t, pause, "the GC's pauses")
	assert.Positive(t, pause.Total.Count(), "runtime.GC stops the world")
	for _, name := range []string{GaugeCPU, GaugeGoroutines, GaugeHeap} {
		if name == GaugeCPU && runtime.GOOS != "linux" {
			continue
		}
		gs := res.Metrics.Gauge(name)
		require.NotNil(t, gs, name)
		var n int64
		for _, p := range gs.Points {
			n += p.N
		}
		assert.Positive(t, n, name)
	}

	var buf bytes.Buffer
	require.NoError(t, res.WriteJSON(&buf))
	back, err := ReadResult(&buf)
	require.NoError(t, err)
	assert.Equal(t, res.Generators, back.Generators)

	a, b := run(Segment{Index: 0, Count: 2}), run(Segment{Index: 1, Count: 2})
	b.Start = a.Start // two runs after each other stand in for two processes
	b.Metrics.Start = a.Metrics.Start
	for i := range b.Metrics.Series {
		for j := range b.Metrics.Series[i].Points {
			b.Metrics.Series[i].Points[j].Start = a.Metrics.Start.Add(time.Duration(j) * b.Metrics.Interval)
		}
	}
	for i := range b.Metrics.Gauges {
		for j := range b.Metrics.Gauges[i].Points {
			b.Metrics.Gauges[i].Points[j].Start = a.Metrics.Start.Add(time.Duration(j) * b.Metrics.Interval)
		}
	}
	whole, err := Merge(a, b)
	require.NoError(t, err)
	assert.Len(t, whole.Generators, 2, "one per process")
	ka := a.Metrics.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}).Total.Count()
	kb := b.Metrics.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}).Total.Count()
	assert.Equal(t, ka+kb, whole.Metrics.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}).Total.Count())
}

// TestNoGeneratorHealthOnAFakeClock: on a fake clock the generator's
// real delays are not the run's, so none are recorded, and the result says
// so by having no generator.
func TestNoGeneratorHealthOnAFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res, err := Run(t.Context(), &Plan{Scenarios: []Scenario{{Name: "s", Executor: ConstantVUs{VUs: 1, Duration: time.Second},
			Iteration: func(context.Context, *Iteration) error { time.Sleep(10 * time.Millisecond); return nil }}}})
		require.NoError(t, err)
		assert.Empty(t, res.Generators)
		assert.Nil(t, res.Metrics.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}))
		assert.Nil(t, res.Metrics.Gauge(GaugeCPU))
	})
}

func TestGeneratorGaugeNamesAreReserved(t *testing.T) {
	err := (&Plan{Scenarios: []Scenario{{Name: "s", Executor: ConstantVUs{VUs: 1, Duration: time.Second}, Iteration: noop}},
		Gauges: []Gauge{{Name: "generator.cpu", Sample: func() float64 { return 0 }}}}).Validate()
	assert.ErrorContains(t, err, `Plan.Gauges[0].Name must not start with "generator." (the generator's own gauges), got "generator.cpu"`)
}

// TestHealthSamplesGoToTheirIntervals drives the sampler by hand: what the
// runtime's histograms gained goes to the interval being closed, the
// gauges are sampled with it, and the run's last, partial interval gets no
// CPU share when it is shorter than half an interval (a burst of a few
// threads over 10 ms is no share of a second).
func TestHealthSamplesGoToTheirIntervals(t *testing.T) {
	start := time.Now().Add(-time.Minute)
	rec, err := metrics.New(metrics.Options{Start: start, Interval: time.Second})
	require.NoError(t, err)
	h := newHealth(rec, start)
	churn := func() { // goroutines that wait to run: the scheduler's histogram gains
		var wg sync.WaitGroup
		for range 1000 {
			wg.Go(runtime.Gosched)
		}
		wg.Wait()
	}
	churn()
	h.sample(start.Add(time.Second), start.Add(time.Second-1))
	rec.Flush(start.Add(time.Second))
	churn()
	end := start.Add(time.Second + 10*time.Millisecond)
	h.sample(end, end.Add(-1))
	rec.Finish(end)
	snap := rec.Snapshot()
	sched := snap.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched})
	require.NotNil(t, sched)
	require.Len(t, sched.Points, 2)
	assert.Positive(t, sched.Points[0].Count(), "the first interval's wake-ups")
	assert.Positive(t, sched.Points[1].Count(), "the last interval's")
	for _, name := range []string{GaugeGoroutines, GaugeHeap} {
		g := snap.Gauge(name)
		require.NotNil(t, g, name)
		assert.Equal(t, int64(1), g.Points[0].N, name)
		assert.Equal(t, int64(1), g.Points[1].N, name)
	}
	if _, ok := proc.CPUTime(); ok {
		cpu := snap.Gauge(GaugeCPU)
		require.NotNil(t, cpu)
		assert.Equal(t, int64(1), cpu.Points[0].N)
		assert.Zero(t, cpu.Points[1].N, "10 ms of a 1 s interval: no share")
	}
}

// TestTeardownIsNotTheRuns: the generator's health is sampled for the
// last time before the teardowns, so user code after the run (here, a
// teardown that burns half a second of CPU) is not counted as the run's.
func TestTeardownIsNotTheRuns(t *testing.T) {
	if _, ok := proc.CPUTime(); !ok {
		t.Skip("no CPU time on this platform")
	}
	res, err := Run(t.Context(), &Plan{Interval: 100 * time.Millisecond, Scenarios: []Scenario{{Name: "s",
		Executor: ConstantVUs{VUs: 1, Duration: 200 * time.Millisecond},
		Setup: func(context.Context, *Env) (Instance, error) {
			return Instance{
				Iteration: func(context.Context, *Iteration) error { time.Sleep(10 * time.Millisecond); return nil },
				Teardown: func() {
					// Busy until half a second of CPU is used (or 10 s pass).
					before, _ := proc.CPUTime()
					for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
						if now, _ := proc.CPUTime(); now-before >= 500*time.Millisecond {
							return
						}
					}
				},
			}, nil
		}}}})
	require.NoError(t, err)
	require.Len(t, res.Generators, 1)
	assert.Less(t, res.Generators[0].CPUTime, 400*time.Millisecond, "a run of sleeping iterations, without its teardown")
}
