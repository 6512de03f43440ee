// Command ramp-compare answers "is the refactored API faster at 100, 200
// and 300 users?": it runs the demo service's old (v1) and refactored (v2)
// report endpoints at each level (scaled by -scale for smaller machines),
// users thinking 0.25–0.75 s between requests, -runs times a level, and
// prints the levels of each side and, level by level, the change of the
// request's own latency with its significance and 95 % interval, as text
// or as Markdown for a pull request.
//
//	go run ./examples/ramp-compare [-scale 1] [-runs 5] [-level 6s] [-markdown]
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
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/capacity"
	"github.com/stampede-go/stampede/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false); err != nil {
		fmt.Fprintln(os.Stderr, "ramp-compare:", err)
		os.Exit(1)
	}
}

// run runs the command. inMemory serves the demo service in memory instead
// of on a loopback port: the tests do, on a fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	fs := flag.NewFlagSet("ramp-compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.Float64("scale", 1, "multiplies the VU levels 100, 200, 300")
	runs := fs.Int("runs", 5, "runs per level and endpoint (4 or more for a test of significance)")
	levelFor := fs.Duration("level", 6*time.Second, "how long each run of a level lasts, warm-up included")
	warmup := fs.Duration("warmup", time.Second, "each run's warm-up, left out of its figures")
	markdown := fs.Bool("markdown", false, "print the comparison as Markdown")
	jsonPath := fs.String("json", "", "also write the comparison as JSON here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scale <= 0 || *runs < 1 {
		return fmt.Errorf("-scale must be > 0 and -runs >= 1, got %v and %d", *scale, *runs)
	}
	svc, err := demo.Start(demo.Options{InMemory: inMemory})
	if err != nil {
		return err
	}
	defer svc.Close()

	var levels []int
	for _, n := range []int{100, 200, 300} {
		levels = append(levels, max(1, int(float64(n)**scale)))
	}
	reps := map[string]*capacity.Report{}
	for _, api := range []string{"v1", "v2"} {
		j, err := scenario.New("users", scenario.Parts{
			scenario.GET("report", svc.URL+"/"+api+"/report"),
			scenario.Think(scenario.Uniform(250*time.Millisecond, 750*time.Millisecond)),
		}, scenario.WithClient(scenario.Client{Dial: svc.Dial})) // svc.Dial: nil unless in memory
		if err != nil {
			return err
		}
		rep, err := capacity.Steps(ctx, capacity.Options{
			Plan: capacity.ClosedLoad(j.Scenario, *levelFor, *warmup),
			SLO:  report.MustParseThresholds("report: p95<50ms", "error_rate<1%"),
			Runs: *runs, // Rows: "" is the steps, the request's own time, not the thinking
			OnLevel: func(l capacity.Level) {
				fmt.Fprintf(stderr, "/%s/report at %d VUs: %d runs, p95 %s\n", api, l.Load, len(l.Runs), l.Figures.Latency.P95.Round(10*time.Microsecond))
			},
		}, levels...)
		if err != nil {
			return err
		}
		reps[api] = rep
	}
	c, err := capacity.CompareSteps(reps["v1"], reps["v2"])
	if err != nil {
		return err
	}
	if *jsonPath != "" {
		if err := c.SaveJSON(*jsonPath); err != nil {
			return err
		}
	}
	if *markdown {
		fmt.Fprintf(stdout, "GET /report, old (v1) against refactored (v2), users thinking 0.25–0.75 s:\n\n")
		return c.WriteMarkdown(stdout)
	}
	for _, api := range []string{"v1", "v2"} {
		fmt.Fprintf(stdout, "/%s/report:\n", api)
		if err := reps[api].WriteText(stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "old (v1) against refactored (v2):\n")
	return c.WriteText(stdout)
}
