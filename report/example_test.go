package report_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
)

func run() *loadgen.Result {
	res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{{
		Name:     "checkout",
		Executor: loadgen.PerVUIterations{VUs: 2, Iterations: 50},
		Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
			if it.Number%25 == 24 {
				return metrics.WithOutcome(fmt.Errorf("HTTP 502"), metrics.HTTP5xx)
			}
			return nil
		},
	}}})
	if err != nil {
		panic(err)
	}
	return res
}

// ExampleSummarize reads the counts of a run from its summary.
func ExampleSummarize() {
	s := report.Summarize(run())
	sc := s.Scenarios[0]
	fmt.Printf("%s: %d started, %d completed, %d failed (%s)\n",
		sc.Name, sc.Started, sc.Completed, sc.Failed, report.Percent(sc.Iteration.ErrorRate))
	// Output: checkout: 100 started, 96 completed, 4 failed (4.00%)
}

// ExampleCheck checks thresholds parsed from strings and built in Go.
func ExampleCheck() {
	ts := report.MustParseThresholds("error_rate<1%", "checkout: count>=100")
	ts = append(ts, report.P99("checkout").Below(time.Second))
	verdicts := report.Check(run(), ts...)
	for _, v := range verdicts {
		fmt.Printf("%-22s pass=%v\n", v.Threshold, v.Pass)
	}
	// Output:
	// error_rate<1%          pass=false
	// checkout: count>=100   pass=true
	// checkout: p99<1s       pass=true
}

// ExampleWriteBenchmark writes a run in the Go benchmark format, for
// benchstat.
func ExampleWriteBenchmark() {
	_ = report.WriteBenchmark(os.Stdout, "Checkout", run())
}

// ExampleCompare compares a slower baseline with a faster candidate over
// five interleaved repetitions each.
func ExampleCompare() {
	plan := func(delay time.Duration) func(int) *loadgen.Plan {
		return func(run int) *loadgen.Plan {
			return &loadgen.Plan{Scenarios: []loadgen.Scenario{{
				Name:     "api",
				Executor: loadgen.PerVUIterations{VUs: 2, Iterations: 20},
				Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					time.Sleep(delay + time.Duration(it.Number%3)*100*time.Microsecond)
					return nil
				},
			}}}
		}
	}
	base, cand, err := report.RepeatInterleaved(context.Background(), 5, 0, plan(4*time.Millisecond), plan(time.Millisecond))
	if err != nil {
		panic(err)
	}
	c := report.Compare(base, cand)
	for _, d := range c.Rows[0].Metrics[:1] {
		fmt.Println(d.Metric, d.Verdict, len(d.PerRunBase), "runs per side")
	}
	fmt.Println(len(c.Violations(report.Budget{Metric: "p95", Max: 0.10})), "budget violations")
	// Output:
	// median better 5 runs per side
	// 0 budget violations
}
