package loadgen

import (
	"context"
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

// BenchmarkOpenRate runs a ConstantRate of 50 000/s for 2 s of real time with
// a no-op iteration and reports the share of arrivals started and the p99 of
// the schedule lag.
func BenchmarkOpenRate(b *testing.B) {
	const rate, dur = 50_000, 2 * time.Second
	preciseSleep = true // as in production; TestMain turns it off for synctest
	defer func() { preciseSleep = false }()
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
		lag := res.Metrics.Metric(metrics.Key{Scenario: "open", Kind: metrics.KindScheduleLag}).Total
		b.ReportMetric(float64(it.Count())/(rate*dur.Seconds()), "achieved/target")
		b.ReportMetric(float64(lag.Quantile(0.99))/1e3, "p99-lag-us")
		b.ReportMetric(float64(it.Outcomes[metrics.Dropped]), "dropped")
	}
}
