// Command signup-rush replays the sign-up rush: at noon hundreds of members
// list the meetings, open one, apply and reload it, looping without pause.
// The baseline runs against a table that lost its index, the candidate
// against the fixed one; baseline and candidate run in turn (B C B C …),
// seven times each, and the comparison says per step what changed and
// whether the change is real. An HTML comparison is written too.
//
//	go run ./examples/signup-rush [-duration 10s] [-vus 50] [-reps 7]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
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
		fmt.Fprintln(os.Stderr, "signup-rush:", err)
		os.Exit(1)
	}
}

// run runs the command. inMemory serves the demo service in memory instead
// of on a loopback port: the tests do, on a fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	fs := flag.NewFlagSet("signup-rush", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 10*time.Second, "length of each run")
	vus := fs.Int("vus", 50, "virtual users looping without pause")
	reps := fs.Int("reps", 7, "runs per side (at least 4 for a verdict; 6 or more for an interval in benchstat)")
	rows := fs.Int("rows", 20000, "meetings in the table")
	htmlPath := fs.String("html", "signup-rush.html", "where to write the HTML comparison")
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, err := demo.Start(demo.Options{Rows: *rows, InMemory: inMemory})
	if err != nil {
		return err
	}
	defer svc.Close()

	var data [][]string
	for i := range 500 {
		data = append(data, []string{fmt.Sprintf("member-%03d", i), strconv.Itoa(1 + i%20)})
	}
	members, err := scenario.NewFeeder("members", []string{"name", "meeting"}, data, scenario.Sequential, scenario.Wrap)
	if err != nil {
		return err
	}
	journey := scenario.Must("signup", scenario.Parts{
		scenario.Feed(members),
		scenario.GET("list", svc.URL+"/meetings"),
		scenario.GET("detail", svc.URL+"/meetings/{{meeting}}"),
		scenario.POST("apply", svc.URL+"/meetings/{{meeting}}/apply", `{"name":"{{name}}"}`, scenario.SendJSON(), scenario.Expect(201)),
		scenario.GET("detail-again", svc.URL+"/meetings/{{meeting}}"),
	}, scenario.WithClient(scenario.Client{Dial: svc.Dial})) // svc.Dial: nil unless in memory
	warmup := time.Duration(0)
	if *duration >= 4*time.Second {
		warmup = time.Second
	}
	plan := func(index bool) func(int) *loadgen.Plan {
		return func(int) *loadgen.Plan {
			svc.SetIndex(index) // the plan is built just before its run
			return &loadgen.Plan{
				Name:      map[bool]string{false: "before: no index", true: "after: index"}[index],
				Warmup:    warmup,
				Scenarios: []loadgen.Scenario{journey.Scenario(loadgen.ConstantVUs{VUs: *vus, Duration: *duration})},
			}
		}
	}
	fmt.Fprintf(stderr, "running %d × baseline (no index) and %d × candidate (index), interleaved, %v each…\n", *reps, *reps, *duration)
	base, cand, err := compare.RepeatInterleaved(ctx, *reps, plan(false), plan(true), compare.RepeatOptions{Pause: 500 * time.Millisecond})
	if err != nil {
		return err
	}
	c, err := compare.Compare(base, cand)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "before (no index) vs after (index):")
	if err := c.WriteText(stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nheadlines:")
	for _, r := range c.Rows {
		if r.Repeats {
			continue
		}
		for _, m := range []report.Metric{report.Quantile(0.5), report.Quantile(0.95)} {
			if d := r.Delta(m); d != nil {
				fmt.Fprintf(stdout, "  %-22s %s\n", r.Row.String(), d.Line())
			}
		}
	}
	if err := c.SaveHTML(*htmlPath, report.HTMLOptions{}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nHTML comparison: %s\n", *htmlPath)
	return nil
}
