// Command baseline-file is the CI pattern: save a baseline's runs as JSON
// today, and later compare a candidate against them, failing (exit status
// 1) when p95 regresses by more than the budget.
//
//	go run ./examples/baseline-file -save baseline/         # on main
//	go run ./examples/baseline-file -compare baseline/      # on a branch
//	go run ./examples/baseline-file -compare baseline/ -slow   # a regression
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/compare"
	"github.com/stampede-go/stampede/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false); err != nil {
		fmt.Fprintln(os.Stderr, "baseline-file:", err)
		os.Exit(1)
	}
}

// run runs the command. inMemory serves the demo service in memory instead
// of on a loopback port: the tests do, on a fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	fs := flag.NewFlagSet("baseline-file", flag.ContinueOnError)
	fs.SetOutput(stderr)
	save := fs.String("save", "", "run the baseline and save its runs as JSON files in this directory")
	compareDir := fs.String("compare", "", "run the candidate and compare it with the runs saved in this directory")
	reps := fs.Int("reps", 7, "runs (at least 4 per side for a verdict; 6 or more for an interval in benchstat)")
	duration := fs.Duration("duration", 2*time.Second, "length of each run")
	budget := fs.Float64("budget", 0.10, "allowed p95 regression, as a fraction")
	slow := fs.Bool("slow", false, "simulate a regression: the candidate's table has lost its index")
	bench := fs.String("benchfmt", "", "also write this side's runs in the Go benchmark format (for benchstat) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*save == "") == (*compareDir == "") {
		return errors.New("give exactly one of -save DIR or -compare DIR")
	}
	// Without the index, each query scans 20 000 rows (20 ms) instead of
	// taking 1 ms.
	svc, err := demo.Start(demo.Options{Rows: 20000, NoIndex: *slow, InMemory: inMemory})
	if err != nil {
		return err
	}
	defer svc.Close()
	j := scenario.Must("browse", scenario.Parts{
		scenario.GET("list", svc.URL+"/meetings"),
		scenario.GET("detail", svc.URL+"/meetings/3"),
		scenario.Pacing(20 * time.Millisecond),
	}, scenario.WithClient(scenario.Client{Dial: svc.Dial})) // svc.Dial: nil unless in memory
	plan := func(int) *loadgen.Plan {
		return &loadgen.Plan{Name: "browse", Scenarios: []loadgen.Scenario{j.Scenario(loadgen.ConstantVUs{VUs: 8, Duration: *duration})}}
	}
	runs, err := compare.Repeat(ctx, *reps, plan, compare.RepeatOptions{Pause: 200 * time.Millisecond})
	if err != nil {
		return err
	}
	if *bench != "" {
		if err := writeBench(*bench, runs); err != nil {
			return err
		}
	}
	if *save != "" {
		if err := os.MkdirAll(*save, 0o755); err != nil {
			return err
		}
		for i, res := range runs {
			if err := res.Save(filepath.Join(*save, fmt.Sprintf("run-%d.json", i))); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "saved %d baseline runs in %s\n", len(runs), *save)
		return nil
	}
	files, err := filepath.Glob(filepath.Join(*compareDir, "run-*.json"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no baseline runs (run-*.json) in %s", *compareDir)
	}
	var base []*loadgen.Result
	for _, f := range files {
		res, err := loadgen.LoadResult(f)
		if err != nil {
			return err
		}
		base = append(base, res)
	}
	c, err := compare.Compare(base, runs)
	if err != nil {
		return err
	}
	if err := c.WriteText(stdout); err != nil {
		return err
	}
	vs, err := c.Violations(compare.Budget{Metric: report.Quantile(0.95), Max: *budget})
	if err != nil {
		return err
	}
	for _, v := range vs {
		fmt.Fprintf(stdout, "REGRESSION %v: %s\n", v.Row, v.Reason)
	}
	if len(vs) > 0 {
		return fmt.Errorf("%d regression(s) beyond the %.0f%% p95 budget", len(vs), 100**budget)
	}
	fmt.Fprintf(stdout, "no p95 regression beyond %.0f%%\n", 100**budget)
	return nil
}

func writeBench(path string, runs []*loadgen.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := report.WriteBenchmark(f, "Browse", runs...); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
