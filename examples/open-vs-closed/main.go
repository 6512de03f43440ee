// Command open-vs-closed shows what coordinated omission hides. The same
// service stalls for one second in the middle of a run and is measured
// twice: by a closed model (a fixed number of users, each waiting for its
// last request before sending the next) and by an open model (requests
// arriving on a schedule, timed from when they were due). The closed model
// sends almost nothing during the stall, so its percentiles barely notice;
// the open model's p99 shows what users arriving during the stall saw.
//
//	go run ./examples/open-vs-closed [-duration 10s] [-stall 1s]
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
	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false); err != nil {
		fmt.Fprintln(os.Stderr, "open-vs-closed:", err)
		os.Exit(1)
	}
}

// run runs the command. inMemory serves the demo service in memory instead
// of on a loopback port: the tests do, on a fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	fs := flag.NewFlagSet("open-vs-closed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 10*time.Second, "length of each run; the stall starts halfway")
	stall := fs.Duration("stall", time.Second, "how long the service stalls")
	if err := fs.Parse(args); err != nil {
		return err
	}
	svc, err := demo.Start(demo.Options{InMemory: inMemory})
	if err != nil {
		return err
	}
	defer svc.Close()
	j := scenario.Must("get", scenario.Parts{scenario.GET("report", svc.URL+"/v2/report")},
		scenario.WithClient(scenario.Client{Dial: svc.Dial})) // svc.Dial: nil unless in memory
	const vus, rate = 10, 500 // 10 users × ~2 ms per request ≈ 5000/s closed; 500/s open
	models := []struct {
		name string
		exec loadgen.Executor
	}{
		{"closed", loadgen.ConstantVUs{VUs: vus, Duration: *duration}},
		{"open", loadgen.ConstantRate{Rate: rate, Duration: *duration, PreAllocatedVUs: vus, MaxVUs: 2000}},
	}
	figs := map[string]report.Figures{}
	for _, m := range models {
		fmt.Fprintf(stderr, "%s model: %s…\n", m.name, m.exec)
		res, err := loadgen.Run(ctx, &loadgen.Plan{
			Scenarios: []loadgen.Scenario{j.Scenario(m.exec)},
			Events: []loadgen.Event{loadgen.At(*duration/2, "stall", func(context.Context) error {
				svc.Stall(*stall)
				return nil
			})},
		})
		if err != nil {
			return err
		}
		st, w, _ := report.RowStats(res, report.Row{Scenario: "get", Step: "report"})
		figs[m.name] = report.FiguresOf(st, w)
	}
	fmt.Fprintf(stdout, "the service stalled for %s in the middle of each %s run\n\n", *stall, *duration)
	fmt.Fprintf(stdout, "  %-7s %9s %9s %9s %9s %9s\n", "model", "requests", "p50", "p99", "p99.9", "max")
	for _, name := range []string{"closed", "open"} {
		f := figs[name]
		fmt.Fprintf(stdout, "  %-7s %9d %9s %9s %9s %9s\n", name, f.Count, format.Duration(f.Latency.P50), format.Duration(f.Latency.P99), format.Duration(f.Latency.P999), format.Duration(f.Latency.Max))
	}
	fmt.Fprintf(stdout, "\nclosed-model p99 %s vs open-model p99 %s: the closed model waited out the stall with %d requests in flight and timed only those; the open model timed every request from when it was due.\n",
		format.Duration(figs["closed"].Latency.P99), format.Duration(figs["open"].Latency.P99), vus)
	return nil
}
