// Command baseline-file is the CI pattern for regressions: on main, run the
// baseline and save its runs as JSON files; on a branch, run the candidate
// and compare it with them, exiting 1 on a regression beyond the budget.
// It is a tool of the command-line kit (package report/cli): -h lists its
// flags.
//
//	go run ./examples/baseline-file -save-baseline bl -benchfmt old.txt          # on main
//	go run ./examples/baseline-file -baseline bl -slow -benchfmt new.txt         # a slower branch: exits 1
//	go run golang.org/x/perf/cmd/benchstat old.txt new.txt
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report/cli"
	"github.com/stampede-go/stampede/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false)
	stop()
	os.Exit(code)
}

// run runs the command and returns its exit code. inMemory serves the demo
// service in memory instead of on a loopback port: the tests do, on a fake
// clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) int {
	var slow bool
	var svc *demo.Service
	defer func() {
		if svc != nil {
			svc.Close()
		}
	}()
	tool := &cli.Tool{
		Name:        "baseline-file",
		Description: "baseline-file runs 8 VUs browsing the demo service, to save a baseline or compare with one.",
		Defaults:    cli.Flags{VUs: 8, Duration: 2 * time.Second, Runs: 7},
		Flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&slow, "slow", false, "simulate a regression: the candidate's table has lost its index")
		},
		Pause:     200 * time.Millisecond,
		Benchmark: "Browse",
		Plan: func(f *cli.Flags, _ int) (*loadgen.Plan, error) {
			if svc == nil {
				// Without the index, each query scans 20 000 rows (20 ms)
				// instead of taking 1 ms.
				var err error
				if svc, err = demo.Start(demo.Options{Rows: 20000, NoIndex: slow, InMemory: inMemory}); err != nil {
					return nil, fmt.Errorf("baseline-file: %w", err)
				}
			}
			j, err := scenario.New("browse", scenario.Parts{
				scenario.GET("list", svc.URL+"/meetings"),
				scenario.GET("detail", svc.URL+"/meetings/3"),
				scenario.Pacing(20 * time.Millisecond),
			}, scenario.WithClient(scenario.Client{Dial: svc.Dial})) // svc.Dial: nil unless in memory
			if err != nil {
				return nil, err
			}
			return &loadgen.Plan{Name: "browse", Warmup: f.Warmup, Scenarios: []loadgen.Scenario{j.Scenario(f.Executor())}}, nil
		},
	}
	return tool.Run(ctx, args, stdout, stderr)
}
