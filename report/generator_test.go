package report

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// constStats is n successful operations of latency v each.
func constStats(v time.Duration, n int) metrics.Stats {
	var s metrics.Stats
	for range n {
		s.Latency.Record(v)
	}
	s.Outcomes[metrics.OK] = int64(n)
	return s
}

// withGenerator gives a run recorded on the fake clock what a generator
// records on a real one: one process of two processors whose Go
// scheduler waited sched on every wake-up, an open scenario's arrivals
// that started lag late, and a CPU share of cpu in every interval.
func withGenerator(t *testing.T, res *loadgen.Result, scenario string, lag, sched time.Duration, cpu float64) *loadgen.Result {
	t.Helper()
	c := *res
	res = &c
	res.Metrics = res.Metrics.Clone()
	res.Generators = []loadgen.Generator{{Procs: 2, CPUs: 2, ClockResolution: 30, TimerLateness: time.Millisecond}}
	res.Metrics.Series = append(res.Metrics.Series,
		metrics.Series{Key: metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}, Total: constStats(sched, 1000)},
		metrics.Series{Key: metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGCPause}, Total: constStats(300*time.Microsecond, 3)})
	lagKey := metrics.Key{Scenario: scenario, Kind: metrics.KindScheduleLag}
	if m := res.Metrics.SeriesOf(lagKey); m != nil {
		n := int(m.Total.Count())
		m.Total = constStats(lag, n)
		// Latency runs from the intended start: the lag is in it.
		res.Metrics.SeriesOf(metrics.Key{Scenario: scenario, Kind: metrics.KindIteration}).Total = constStats(lag+time.Millisecond, n)
	}
	g := metrics.GaugeSeries{Name: loadgen.GaugeCPU}
	for _, p := range res.Metrics.SeriesOf(metrics.Key{Scenario: scenario, Kind: metrics.KindIteration}).Points {
		g.Points = append(g.Points, metrics.GaugePoint{Start: p.Start, Min: cpu, Max: cpu, Sum: cpu, N: 1})
	}
	res.Metrics.Gauges = append(res.Metrics.Gauges, g)
	return res
}

// TestGeneratorDelayAndWarnings: the delay the generator may have added
// is the schedule lag plus the scheduler's latency at each quantile; it
// is printed beside the figures in every rendering; the warning names the
// generator when that delay is material (above 1 ms and 25 % of the p99)
// or the CPU ran out, and only then.
func TestGeneratorDelayAndWarnings(t *testing.T) {
	base := outageRun(t) // "api" is open

	t.Run("healthy", func(t *testing.T) {
		s := Summarize(withGenerator(t, base, "api", 50*time.Microsecond, 20*time.Microsecond, 0.3))
		require.NotNil(t, s.Generator)
		d := s.Scenarios[0].Generator
		require.NotNil(t, d)
		assert.Equal(t, d.Lag+d.Sched, d.P99)
		assert.InDelta(t, float64(70*time.Microsecond), float64(d.P99), float64(time.Microsecond), "lag + scheduler at p99")
		assert.Empty(t, s.GeneratorWarnings())
		for _, w := range s.Warnings {
			assert.NotContains(t, w, "generator", "a healthy run has no generator warning")
		}
		var txt bytes.Buffer
		require.NoError(t, s.WriteText(&txt))
		assert.Contains(t, txt.String(), "generator: of the iterations' p99 1.05ms, up to 70.0µs may be the generator's own delay (schedule lag p99 50.0µs + Go scheduler p99 20.0µs)")
		assert.Contains(t, txt.String(), "1 process(es), 2 processor(s); CPU used: mean 30.00%, busiest interval 30.00%")
		assert.NotContains(t, txt.String(), loadgen.GaugeCPU, "the generator's gauges are its own section's")
	})

	t.Run("lag", func(t *testing.T) {
		// The arrivals started 80 ms late and waited 5 ms for a
		// processor: all of api's p99 of 81 ms may be the generator's;
		// 5 ms of the closed scenario's 100 ms is not material.
		s := Summarize(withGenerator(t, base, "api", 80*time.Millisecond, 5*time.Millisecond, 0.5))
		require.Len(t, s.GeneratorWarnings(), 1)
		w := s.GeneratorWarnings()[0]
		assert.Contains(t, w, `the generator may have made the numbers of scenario "api"`)
		assert.Contains(t, w, "of its iterations' p99 (81.0ms), up to 81.0ms may be the generator's own delay (schedule lag p99 80.0ms + Go scheduler p99 5.00ms)", "never more than the p99 itself")
		assert.Contains(t, s.Warnings, w, "among the summary's warnings")
		for _, render := range []func(*bytes.Buffer) error{
			func(b *bytes.Buffer) error { return s.WriteText(b) },
			func(b *bytes.Buffer) error { return s.WriteMarkdown(b) },
			func(b *bytes.Buffer) error { return s.WriteHTML(b, HTMLOptions{}) },
		} {
			var b bytes.Buffer
			require.NoError(t, render(&b))
			assert.Contains(t, b.String(), "may have made the numbers of scenario")
			assert.Contains(t, b.String(), "up to 81.0ms may be the generator") // HTML escapes the apostrophe after it
		}
		var js bytes.Buffer
		require.NoError(t, s.WriteJSON(&js, nil))
		var doc struct {
			Scenarios []struct {
				GeneratorDelay *struct {
					P99Ms      float64 `json:"p99_ms"`
					LagP99Ms   float64 `json:"schedule_lag_p99_ms"`
					SchedP99Ms float64 `json:"go_sched_p99_ms"`
				} `json:"generator_delay"`
			}
			Generator struct {
				Warnings []string
				CPUMax   *float64 `json:"cpu_max_share"`
			}
		}
		require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
		require.NotNil(t, doc.Scenarios[0].GeneratorDelay)
		assert.InDelta(t, 81, doc.Scenarios[0].GeneratorDelay.P99Ms, 0.1)
		assert.InDelta(t, 80, doc.Scenarios[0].GeneratorDelay.LagP99Ms, 0.1)
		assert.Equal(t, s.GeneratorWarnings(), doc.Generator.Warnings)
		require.NotNil(t, doc.Generator.CPUMax)
		assert.InDelta(t, 0.5, *doc.Generator.CPUMax, 1e-9)
	})

	t.Run("closed", func(t *testing.T) {
		// A closed model has no lag: 30 ms waiting for a processor is
		// 30 % of the users' p99 of 100 ms; 20 ms, 20 %, is not material.
		s := Summarize(withGenerator(t, base, "api", 0, 30*time.Millisecond, 0.5))
		require.Len(t, s.GeneratorWarnings(), 1)
		assert.Contains(t, s.GeneratorWarnings()[0], `scenario "users": of its iterations' p99 (100ms), up to 30.0ms may be the generator's own delay (Go scheduler p99 30.0ms)`)
		assert.Empty(t, Summarize(withGenerator(t, base, "api", 0, 20*time.Millisecond, 0.5)).GeneratorWarnings())
	})

	t.Run("a step of a closed model", func(t *testing.T) {
		// The users' iterations take 100 ms; a request of theirs takes
		// 10 ms. A scheduler p99 of 5 ms is 5 % of the iterations' p99
		// but half of the request's: the step is named.
		res := withGenerator(t, base, "api", 0, 5*time.Millisecond, 0.5)
		res.Metrics.Series = append(res.Metrics.Series, metrics.Series{Key: metrics.Key{Scenario: "users", Step: "pay", Kind: metrics.KindStep}, Total: constStats(10*time.Millisecond, 100)})
		s := Summarize(res)
		require.Len(t, s.GeneratorWarnings(), 1, "%q", s.GeneratorWarnings())
		assert.Contains(t, s.GeneratorWarnings()[0], `the generator may have made the numbers of step "pay" of scenario "users": of its p99 (10.0ms), up to 5.00ms may be the generator's own delay (Go scheduler p99 5.00ms)`)
		res = withGenerator(t, base, "api", 0, 2*time.Millisecond, 0.5)
		res.Metrics.Series = append(res.Metrics.Series, metrics.Series{Key: metrics.Key{Scenario: "users", Step: "pay", Kind: metrics.KindStep}, Total: constStats(10*time.Millisecond, 100)})
		assert.Empty(t, Summarize(res).GeneratorWarnings(), "2 ms of 10 ms is not material")
	})

	t.Run("small delay", func(t *testing.T) {
		// 0.9 ms is most of a ~1 ms p99, but under the floor of 1 ms.
		s := Summarize(withGenerator(t, base, "api", 800*time.Microsecond, 100*time.Microsecond, 0.5))
		assert.Empty(t, s.GeneratorWarnings())
	})

	t.Run("cpu", func(t *testing.T) {
		s := Summarize(withGenerator(t, base, "api", 0, 0, 0.97))
		require.Len(t, s.GeneratorWarnings(), 1)
		assert.Contains(t, s.GeneratorWarnings()[0], "the generator ran out of CPU: a process used 97.00% of its processors")
	})

	t.Run("held back", func(t *testing.T) {
		// VUs that woke from their pauses late, in all 6 % (then 4 %) of
		// the iterations' time: the first is held back, the second not.
		withLag := func(share float64) *Summary {
			res := withGenerator(t, base, "api", 0, 20*time.Microsecond, 0.3)
			var busy time.Duration
			for _, sc := range []string{"api", "users"} {
				it := res.Metrics.SeriesOf(metrics.Key{Scenario: sc, Kind: metrics.KindIteration}).Total
				busy += it.Latency.Sum + it.Failed.Sum
			}
			late := time.Duration(share * float64(busy) / 1000)
			res.Metrics.Series = append(res.Metrics.Series, metrics.Series{Key: metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindThinkLag}, Total: constStats(late, 1000)})
			return Summarize(res)
		}
		s := withLag(0.06)
		assert.InDelta(t, 0.06, s.Generator.HeldBack, 0.0005)
		require.Len(t, s.GeneratorWarnings(), 1)
		assert.Contains(t, s.GeneratorWarnings()[0], "the generator held its VUs back: they woke from their think times and pacing late (p99 ")
		assert.Contains(t, s.GeneratorWarnings()[0], "6.00% of their iterations' time, so a closed model offered about that much less load than it models")
		var txt bytes.Buffer
		require.NoError(t, s.WriteText(&txt))
		assert.Contains(t, txt.String(), "VUs woke from pauses late by p50 ")
		var js bytes.Buffer
		require.NoError(t, s.WriteJSON(&js, nil))
		var doc struct {
			Generator struct {
				HeldBack *float64 `json:"held_back_share"`
				ThinkLag *struct {
					Count int64 `json:"count"`
				} `json:"think_lag"`
			}
		}
		require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
		require.NotNil(t, doc.Generator.HeldBack)
		assert.InDelta(t, 0.06, *doc.Generator.HeldBack, 0.0005)
		require.NotNil(t, doc.Generator.ThinkLag)
		assert.Equal(t, int64(1000), doc.Generator.ThinkLag.Count)
		assert.Empty(t, withLag(0.04).GeneratorWarnings())
	})

	t.Run("not recorded", func(t *testing.T) {
		s := Summarize(base)
		assert.Nil(t, s.Generator)
		assert.Nil(t, s.Scenarios[0].Generator)
		var txt bytes.Buffer
		require.NoError(t, s.WriteText(&txt))
		assert.NotContains(t, txt.String(), "generator")
	})
}

// TestASlowGeneratorIsNamed runs, on the real clock, an open model whose
// iterations burn the CPU of the one processor the test leaves the
// generator: 500 arrivals a second each wanting 3 ms of CPU is 1.5 times
// what one processor has, so arrivals start ever later and most of the
// iterations' p99 is schedule lag. The margin is wide: the warning fires
// at 25 % of the p99, and the lag here is most of it however busy the
// machine is (less CPU only makes it later).
func TestASlowGeneratorIsNamed(t *testing.T) {
	if testing.Short() {
		t.Skip("a real-time run")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	burn := func(d time.Duration) {
		for start := time.Now(); time.Since(start) < d; {
		}
	}
	res, err := loadgen.Run(t.Context(), &loadgen.Plan{Interval: 250 * time.Millisecond, Scenarios: []loadgen.Scenario{{
		Name:      "busy",
		Executor:  loadgen.ConstantRate{Rate: 500, Duration: time.Second, PreAllocatedVUs: 100, MaxVUs: 1000},
		Iteration: func(context.Context, *loadgen.Iteration) error { burn(3 * time.Millisecond); return nil },
	}}})
	require.NoError(t, err)
	s := Summarize(res)
	require.NotNil(t, s.Generator)
	assert.Equal(t, 1, s.Generator.Procs)
	var named bool
	for _, w := range s.GeneratorWarnings() {
		named = named || strings.Contains(w, `the generator may have made the numbers of scenario "busy"`)
	}
	assert.True(t, named, "p99 %v, delay %+v, warnings %q", s.Scenarios[0].Iteration.Latency.P99, s.Scenarios[0].Generator, s.GeneratorWarnings())
}

// TestThresholdsOnTheGenerator: the generator's series are rows that
// thresholds select by kind.
func TestThresholdsOnTheGenerator(t *testing.T) {
	base := outageRun(t)
	ts := MustParseThresholds("[go_sched]: p99<1ms", "[gc_pause]: max<10ms")
	vs := Check(withGenerator(t, base, "api", 0, 20*time.Microsecond, 0.3), ts...)
	assert.True(t, vs.Passed(), "%v", vs)
	vs = Check(withGenerator(t, base, "api", 0, 20*time.Millisecond, 0.3), ts...)
	assert.False(t, vs[0].Pass)
	assert.Equal(t, "20.0ms", vs[0].ActualString())
	assert.ErrorContains(t, Check(base, ts...).Err(), `selector "[go_sched]" matches nothing`, "a run that did not record the generator says so")
}
