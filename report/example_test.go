package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
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

// A stored run's timeline: which seconds had errors, and how fast the
// rest were.
func ExampleSummary_WriteTimeline() {
	res, err := loadgen.LoadResult("../testdata/results/v2-fixed.json")
	if err != nil {
		panic(err)
	}
	s := report.Summarize(res)
	s.Scenarios = s.Scenarios[:1] // the first scenario only
	if err := s.WriteTimeline(os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// scenario signup — per-vu-iterations: 1 VUs × 40 iterations (max 10m0s) (requests are its steps; * marks the warm-up)
	//       from     to  requests  errors  by class       p50     p95  VUs
	//   *     0s  1.00s        26       1  http_5xx 1  16.0ms  74.1ms    1
	//      1.00s  2.00s        27       1  http_5xx 1  16.0ms  77.1ms    1
	//      2.00s  3.00s        25       1  http_5xx 1  16.0ms  77.1ms    1
	//      3.00s  3.08s         2       1  http_5xx 1  14.0ms  14.0ms    1
}

// The JSON summary, for a CI job or a dashboard: here its first lines and
// a figure read back.
func ExampleSummary_WriteJSON() {
	res, err := loadgen.LoadResult("../testdata/results/v2-fixed.json")
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	if err := report.Summarize(res).WriteJSON(&b, report.Check(res, report.MustParseThresholds("signup/apply: p95<100ms")...)); err != nil {
		panic(err)
	}
	fmt.Println(strings.Join(strings.Split(b.String(), "\n")[:13], "\n"))
	var doc struct {
		Scenarios []struct {
			Rows []struct {
				Name    string
				Latency struct {
					P95 float64 `json:"p95_ms"`
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(b.String()), &doc); err != nil {
		panic(err)
	}
	apply := doc.Scenarios[0].Rows[1]
	fmt.Printf("%s: p95 %.3f ms\n", apply.Name, apply.Latency.P95)
	// Output:
	// {
	//   "format": "stampede-summary",
	//   "version": 1,
	//   "plan": "sign-up rush",
	//   "started": "2000-01-01T00:00:00Z",
	//   "duration_s": 3.07612,
	//   "measured_s": 2.07612,
	//   "rate_window_s": 2,
	//   "warmup_s": 1,
	//   "interval_s": 1,
	//   "status": "completed",
	//   "passed": true,
	//   "thresholds": [
	// apply: p95 80.041 ms
}
