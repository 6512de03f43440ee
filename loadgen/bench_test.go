package loadgen

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// BenchmarkClosedNoop measures the engine's overhead per iteration: 8 VUs
// share b.N no-op iterations, each one timed and recorded.
func BenchmarkClosedNoop(b *testing.B) {
	benchClosedNoop(b, nil)
}

func benchClosedNoop(b *testing.B, onInterval func(*Progress)) {
	b.ReportAllocs()
	p := &Plan{OnInterval: onInterval, Scenarios: []Scenario{{
		Name:      "noop",
		Executor:  SharedIterations{VUs: 8, Iterations: max(b.N, 8), MaxDuration: time.Hour},
		Iteration: func(context.Context, *Iteration) error { return nil },
	}}}
	b.ResetTimer()
	res, err := Run(context.Background(), p)
	if err != nil {
		b.Fatal(err)
	}
	if n := res.Iterations("noop").Count(); n != int64(max(b.N, 8)) {
		b.Fatalf("ran %d iterations, want %d", n, b.N)
	}
}

// BenchmarkOpenRate runs a ConstantRate with a no-op iteration in real
// time at several rates, and reports the share of arrivals started and the
// median and p99 of the schedule lag, and the CPU the process used, in
// percent of one core. Low rates test the scheduler's long
// waits (a coarse timer, then a precise sleep), high ones its hand-off to
// VUs. Each case runs for about 1000 arrivals or 2 s, whichever is longer.
func BenchmarkOpenRate(b *testing.B) {
	for _, rate := range []int{100, 250, 1000, 50_000} {
		dur := max(2*time.Second, time.Duration(1000/rate)*time.Second)
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			for b.Loop() {
				res, err := Run(context.Background(), &Plan{Scenarios: []Scenario{{
					Name:      "open",
					Executor:  ConstantRate{Rate: rate, Duration: dur, PreAllocatedVUs: 50, MaxVUs: 1000},
					Iteration: func(context.Context, *Iteration) error { return nil },
				}}})
				if err != nil {
					b.Fatal(err)
				}
				it := res.Iterations("open")
				lag := res.Metrics.SeriesOf(metrics.Key{Scenario: "open", Kind: metrics.KindScheduleLag}).Total
				b.ReportMetric(float64(it.Count())/(float64(rate)*dur.Seconds()), "achieved/target")
				b.ReportMetric(float64(lag.Quantile(0.5))/1e3, "p50-lag-us")
				b.ReportMetric(float64(lag.Quantile(0.99))/1e3, "p99-lag-us")
				b.ReportMetric(float64(it.Outcomes[metrics.Dropped]), "dropped")
				if g := res.Generators; len(g) == 1 && g[0].CPUTime > 0 {
					b.ReportMetric(100*g[0].CPUTime.Seconds()/res.Duration().Seconds(), "cpu-%")
				}
			}
		})
	}
}

// BenchmarkHealthSample measures one sample of the generator's health,
// taken once per interval (once a second by default): reading the
// runtime's metrics, recording what its histograms gained, the gauges and
// the process's CPU time.
func BenchmarkHealthSample(b *testing.B) {
	rec, err := metrics.New(metrics.Options{Start: time.Now(), Interval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	h := newHealth(rec, time.Now())
	b.ReportAllocs()
	for b.Loop() {
		runtime.Gosched() // something for the scheduler's histogram to gain
		now := time.Now()
		h.sample(now, now)
	}
}
