package report_test

import (
	"context"
	"fmt"
	"strings"
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

// Example is the whole pipeline: run a plan, summarise it, check
// thresholds, render the summary.
func Example() {
	res := run()
	s := report.Summarize(res)
	sc := s.Scenarios[0]
	fmt.Printf("%s: %d started, %d completed, %d failed (%s)\n",
		sc.Name, sc.Started, sc.Completed, sc.Failed, report.ErrorRate().Format(sc.Iteration.ErrorRate))
	verdicts := report.Check(res, report.MustParseThresholds("error_rate<5%", "checkout: count>=100")...)
	fmt.Println("passed:", verdicts.Passed())
	// s.WriteText(os.Stdout) would print the tables, for a terminal.
	// Output:
	// checkout: 100 started, 96 completed, 4 failed (4.00%)
	// passed: true
}

// ExampleCheck checks thresholds parsed from strings and built in Go. A
// threshold whose selector matches nothing fails, saying why; one with no
// data to look at fails too: checkout is a plain Go step, which records no
// HTTP status codes, so status(502) has nothing to count.
func ExampleCheck() {
	ts := report.MustParseThresholds("error_rate<1%", "checkout: count>=100", "checkout: status(502)<=0")
	ts = append(ts,
		report.OnLatency("checkout", report.Quantile(0.99)).Below(time.Second),
		report.OnLatency("chekout", report.Quantile(0.99)).Below(time.Second), // a typo
	)
	for _, v := range report.Check(run(), ts...) {
		fmt.Printf("%-26s pass=%-5v error=%-5v no data=%v\n", v.Threshold, v.Pass, v.Err != nil, v.NoData)
	}
	// Output:
	// error_rate<1%              pass=false error=false no data=false
	// checkout: count>=100       pass=true  error=false no data=false
	// checkout: status(502)<=0   pass=false error=false no data=true
	// checkout: p99<1s           pass=true  error=false no data=false
	// chekout: p99<1s            pass=false error=true  no data=false
}

// ExampleParseThreshold reads a threshold and writes it back.
func ExampleParseThreshold() {
	t, err := report.ParseThreshold("apply: p95(failed) < 2s")
	if err != nil {
		panic(err)
	}
	fmt.Println(t, t.Metric.Side() == report.Failures, t == report.OnLatency("apply", report.Quantile(0.95).Of(report.Failures)).Below(2*time.Second))
	_, err = report.ParseThreshold("p95th < 12ms")
	fmt.Println(err != nil)
	// Output:
	// apply: p95(failed)<2s true true
	// true
}

// ExampleWriteBenchmark writes a run in the Go benchmark format, for
// benchstat (to a file, or os.Stdout); here, the names of its lines and
// the units of the iterations' line.
func ExampleWriteBenchmark() {
	var b strings.Builder
	if err := report.WriteBenchmark(&b, "Checkout", run()); err != nil {
		panic(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if f := strings.Fields(line); len(f) > 2 && strings.HasPrefix(f[0], "Benchmark") {
			var units []string
			for i := 3; i < len(f); i += 2 {
				units = append(units, f[i])
			}
			fmt.Println(f[0], f[1], strings.Join(units, " "))
		}
	}
	// Output:
	// BenchmarkCheckout/scenario=checkout/step=iteration 100 p50-ns p90-ns p95-ns p99-ns mean-ns max-ns ops/s errors error_rate
}
