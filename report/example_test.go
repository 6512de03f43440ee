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
