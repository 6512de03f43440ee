package cli_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/cli"
)

// A tool supplies its plan; the kit parses the flags, runs, reports and
// returns the exit code a CI job acts on. Here every tenth iteration
// fails.
func Example() {
	tool := &cli.Tool{
		Name:     "probe",
		Defaults: cli.Flags{VUs: 4, Duration: 200 * time.Millisecond, Thresholds: report.MustParseThresholds("error_rate<20%")},
		Plan: func(f *cli.Flags, run int) (*loadgen.Plan, error) {
			return &loadgen.Plan{Scenarios: []loadgen.Scenario{{
				Name: "probe", Executor: loadgen.PerVUIterations{VUs: f.VUs, Iterations: 50},
				Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					if it.Number%10 == 9 {
						return metrics.WithOutcome(errors.New("status 503"), metrics.HTTP5xx)
					}
					return nil
				},
			}}}, nil
		},
	}
	for _, args := range [][]string{
		{"-quiet"},                            // 10 % errors: passes
		{"-quiet", "-threshold", "errors<=0"}, // fails
		{"-quiet", "-threshold", "p95th<1s"},  // bad usage
		{"-h"},                                // usage, on stdout
	} {
		fmt.Println(args, "→ exit", tool.Run(context.Background(), args, io.Discard, io.Discard))
	}
	// Output:
	// [-quiet] → exit 0
	// [-quiet -threshold errors<=0] → exit 1
	// [-quiet -threshold p95th<1s] → exit 2
	// [-h] → exit 0
}
