// Command failover answers the questions of a cache failover under load:
// with an open-model load running, a timeline event fails the cache's
// primary over halfway through. Did any request fail, and how large and how
// long was the latency spike? Both are read from the per-second series.
//
//	go run ./examples/failover [-duration 60s] [-rate 200] [-botched]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false); err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(1)
	}
}

// run runs the command. inMemory serves the demo service in memory instead
// of on a loopback port: the tests do, on a fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	fs := flag.NewFlagSet("failover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", time.Minute, "length of the run; the failover happens halfway")
	rate := fs.Int("rate", 200, "requests per second")
	botched := fs.Bool("botched", false, "botch the failover: some requests fail while it lasts")
	spike := fs.Duration("spike", 3*time.Second, "how long the replica takes to warm up")
	htmlPath := fs.String("html", "", "also write an HTML report here")
	timeline := fs.Bool("timeline", false, "also print the run second by second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, err := demo.Start(demo.Options{InMemory: inMemory})
	if err != nil {
		return err
	}
	defer svc.Close()
	const event = "fail over cache primary"
	j := scenario.Must("read", scenario.Parts{scenario.GET("detail", svc.URL+"/meetings/1", scenario.Timeout(5*time.Second))},
		scenario.WithClient(scenario.Client{Dial: svc.Dial})) // svc.Dial: nil unless in memory
	res, err := loadgen.Run(ctx, &loadgen.Plan{
		Name: "cache failover under load",
		Scenarios: []loadgen.Scenario{j.Scenario(loadgen.ConstantRate{
			Rate: *rate, Duration: *duration, PreAllocatedVUs: 20, MaxVUs: 2000,
		})},
		Events: []loadgen.Event{loadgen.At(*duration/2, event, func(context.Context) error {
			svc.FailOver(*spike, *botched)
			return nil
		})},
		OnInterval: report.NewProgress(stderr, report.ProgressOptions{}),
	})
	if err != nil {
		return err
	}
	if *htmlPath != "" {
		if err := report.Summarize(res).SaveHTML(*htmlPath, report.HTMLOptions{}); err != nil {
			return err
		}
	}
	if err := analyse(stdout, res, event); err != nil {
		return err
	}
	if *timeline {
		fmt.Fprintln(stdout)
		return report.Summarize(res).WriteTimeline(stdout)
	}
	return nil
}

// analyse reads the per-second series: the errors, and the spike as the
// intervals from the event on whose p99 exceeds three times the median
// p99 before it.
func analyse(w io.Writer, res *loadgen.Result, event string) error {
	snap := res.Metrics
	m := snap.SeriesOf(metrics.Key{Scenario: "read", Step: "detail", Kind: metrics.KindStep})
	var at time.Time
	for _, e := range res.Events {
		if e.Name == event && !e.Skipped {
			at = e.At
		}
	}
	if at.IsZero() {
		return fmt.Errorf("the event %q did not run", event)
	}
	fmt.Fprintf(w, "event %q at %s\n", event, format.Duration(at.Sub(res.Start)))
	var before []time.Duration
	for _, p := range m.Points {
		if p.Start.Add(snap.Interval).Before(at) && p.Latency.Count() > 0 {
			before = append(before, p.Quantile(0.99))
		}
	}
	if len(before) == 0 {
		return fmt.Errorf("no interval before the event to compare with")
	}
	slices.Sort(before)
	normal := before[len(before)/2]
	var peak time.Duration
	var peakAt, spikeFrom, spikeTo time.Duration
	for _, p := range m.Points {
		if p.Start.Add(snap.Interval).Before(at) || p.Latency.Count() == 0 {
			continue
		}
		q := p.Quantile(0.99)
		off := p.Start.Sub(res.Start)
		if q > peak {
			peak, peakAt = q, off
		}
		if q > 3*normal {
			if spikeFrom == 0 {
				spikeFrom = off
			}
			spikeTo = off + snap.Interval
		}
	}
	total := m.Total
	fmt.Fprintf(w, "requests: %d, failed: %d (%s)\n", total.Count(), total.Errors(), format.Percent(total.ErrorRate()))
	for _, c := range report.FiguresOf(&total, report.RateBasis{}).ErrorsByClass {
		fmt.Fprintf(w, "  %s: %d\n", c.Class, c.Count)
	}
	fmt.Fprintf(w, "p99 before the event: %s (median of the per-second p99s)\n", format.Duration(normal))
	if spikeFrom == 0 {
		fmt.Fprintf(w, "no spike: p99 stayed under 3× normal (peak %s)\n", format.Duration(peak))
		return nil
	}
	fmt.Fprintf(w, "spike: p99 peaked at %s in the second from %s; above 3× normal from %s to %s (%s)\n",
		format.Duration(peak), format.Duration(peakAt), format.Duration(spikeFrom), format.Duration(spikeTo), format.Duration(spikeTo-spikeFrom))
	return nil
}
