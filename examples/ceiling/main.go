// Command ceiling finds how many requests per second a service holds
// within its SLO: it raises the arrival rate level by level against the
// demo service's endpoint of known capacity (10 workers of 10 ms: 1000/s),
// stops at the first level that breaks the SLO, bisects to the resolution
// and prints the level table with the ceiling and what limited it.
//
//	go run ./examples/ceiling                 # fails by latency: requests queue
//	go run ./examples/ceiling -shed           # fails by errors: requests are shed with 503
//	go run ./examples/ceiling -max-vus 5      # the generator is too small
package main

import (
	"context"
	"errors"
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
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(2)
	}
}

// run runs the command. inMemory serves the demo service in memory instead
// of on a loopback port: the tests do, on a fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	start := fs.Int("start", 200, "the first level, in arrivals per second")
	step := fs.Int("step", 200, "added at each level")
	resolution := fs.Int("resolution", 50, "bisect between the last good and the first bad level to this many arrivals per second")
	level := fs.Duration("level", 3*time.Second, "how long each level runs, warm-up included")
	warmup := fs.Duration("warmup", time.Second, "each level's warm-up, left out of its figures")
	maxVUs := fs.Int("max-vus", 200, "the most VUs a level may use")
	shed := fs.Bool("shed", false, "the endpoint sheds load (503) instead of queueing it")
	html := fs.String("html", "", "also write the HTML page of the levels here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, err := demo.Start(demo.Options{InMemory: inMemory})
	if err != nil {
		return err
	}
	defer svc.Close()
	url := svc.URL + "/work"
	if *shed {
		url += "?shed=1"
	}
	j, err := scenario.New("work", scenario.Parts{scenario.GET("work", url)}, scenario.WithClient(scenario.Client{Dial: svc.Dial}))
	if err != nil {
		return err
	}
	rep, err := capacity.Search(ctx, capacity.Options{
		Plan:  capacity.OpenLoad(j.Scenario, *level, *warmup, *maxVUs),
		SLO:   report.MustParseThresholds("p95<50ms", "error_rate<1%"),
		Start: *start, Step: *step, Resolution: *resolution,
		OnLevel: func(l capacity.Level) {
			fmt.Fprintf(stderr, "%5d/s: achieved %.0f/s, p95 %v, %s\n", l.Load, l.Rate, l.Figures.Latency.P95.Round(100*time.Microsecond), map[bool]string{true: "pass", false: "FAIL"}[l.Pass])
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "GET /work: 10 workers of 10 ms (1000/s); SLO p95<50ms, error_rate<1%%\n\n")
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if *html != "" {
		return rep.SaveHTML(*html, report.HTMLOptions{Title: "Ceiling of GET /work"})
	}
	return nil
}
