package loadgen

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		require.Len(t, gs.Points, len(sched.Points), name)
		for i, p := range gs.Points[:len(gs.Points)-1] { // the last, partial interval may be too short for the CPU
			assert.Positive(t, p.N, "%s: a sample in interval %d", name, i)
		}
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
