// Command quickstart runs a load test against a demo service started in the
// same process: virtual users ramp up, hold and ramp down while each one
// lists the meetings, opens one, applies for it and reloads its page. It
// prints a live progress line, then the report, checks two thresholds, and
// writes an HTML report with charts.
//
//	go run ./examples/quickstart [-duration 20s] [-vus 50] [-html stampede-report.html]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"time"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run runs the command. inMemory serves the demo service in memory instead
// of on a loopback port: the tests do, on a fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 20*time.Second, "how long the test runs (ramp up a quarter, hold half, ramp down a quarter)")
	vus := fs.Int("vus", 50, "peak number of virtual users")
	htmlPath := fs.String("html", "stampede-report.html", "where to write the HTML report")
	jsonPath := fs.String("json", "stampede-summary.json", "where to write the JSON summary (for CI and dashboards)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration < time.Second || *vus < 1 {
		return fmt.Errorf("-duration must be >= 1s and -vus >= 1, got %v and %d", *duration, *vus)
	}

	svc, err := demo.Start(demo.Options{Rows: 5000, InMemory: inMemory})
	if err != nil {
		return err
	}
	defer svc.Close()

	// Test data: member names, each with the meeting they want.
	var rows [][]string
	for i := range 200 {
		rows = append(rows, []string{fmt.Sprintf("member-%03d", i), strconv.Itoa(1 + i%20)})
	}
	members, err := scenario.NewFeeder("members", []string{"name", "meeting"}, rows, scenario.Sequential, scenario.Wrap)
	if err != nil {
		return err
	}
	think := scenario.Think(scenario.Uniform(100*time.Millisecond, 300*time.Millisecond))
	signup, err := scenario.New("signup", scenario.Parts{
		scenario.Feed(members),
		scenario.GET("list", svc.URL+"/meetings", scenario.Contains(`"items"`)),
		think,
		scenario.GET("detail", svc.URL+"/meetings/{{meeting}}", scenario.Contains("<h1>")),
		think,
		scenario.POST("apply", svc.URL+"/meetings/{{meeting}}/apply", `{"name":"{{name}}"}`,
			scenario.Header("Content-Type", "application/json"), scenario.Expect(201)),
		think,
		scenario.GET("detail-again", svc.URL+"/meetings/{{meeting}}"),
	}, scenario.WithClient(scenario.Client{Dial: svc.Dial})) // svc.Dial: nil unless in memory
	if err != nil {
		return err
	}

	quarter := *duration / 4
	plan := &loadgen.Plan{
		Name:   "quickstart: sign-up journey",
		Warmup: quarter.Truncate(time.Second), // the ramp-up is left out of the figures
		Scenarios: []loadgen.Scenario{signup.Scenario(loadgen.RampingVUs{
			Stages: []loadgen.Stage{
				{Duration: quarter, Target: *vus},
				{Duration: *duration - 2*quarter, Target: *vus},
				{Duration: quarter, Target: 0},
			},
			GracefulRampDown: time.Second,
		})},
		Gauges:     []loadgen.Gauge{{Name: "heap MiB", Sample: heapMiB}}, // the demo service shares this process
		OnInterval: report.NewProgress(stderr, report.ProgressOptions{}),
	}
	res, err := loadgen.Run(ctx, plan)
	if res == nil {
		return err
	}
	if err != nil {
		fmt.Fprintln(stderr, "run stopped early:", err)
	}

	summary := report.Summarize(res)
	if err := summary.WriteText(stdout); err != nil {
		return err
	}
	verdicts := report.Check(res, report.MustParseThresholds("apply: p95<500ms", "error_rate<1%")...)
	fmt.Fprintln(stdout, "\nthresholds")
	if err := verdicts.WriteText(stdout); err != nil {
		return err
	}
	if err := summary.SaveHTML(*htmlPath, report.HTMLOptions{Verdicts: verdicts}); err != nil {
		return err
	}
	if err := summary.SaveJSON(*jsonPath, verdicts); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nHTML report: %s\nJSON summary: %s\n", *htmlPath, *jsonPath)
	return nil
}

func heapMiB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}
