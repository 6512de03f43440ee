// Command quickstart runs a load test against a demo service started in the
// same process: virtual users ramp up, hold and ramp down while each one
// lists the meetings, opens one, applies for it and reloads its page. It
// prints a live progress line, then the report, checks two thresholds, and
// writes an HTML report with charts and a JSON summary. Its flags are those
// of the command-line kit (package report/cli): -h lists them.
//
//	go run ./examples/quickstart [-duration 20s] [-vus 50] [-html stampede-report.html] [-json stampede-summary.json]
package main

import (
	"context"
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
	svc, err := demo.Start(demo.Options{Rows: 5000, InMemory: inMemory})
	if err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return cli.ExitFail
	}
	defer svc.Close()
	tool := &cli.Tool{
		Name:        "quickstart",
		Description: "quickstart ramps virtual users through a sign-up journey against a demo service in this process.",
		Defaults: cli.Flags{VUs: 50, Duration: 20 * time.Second, HTML: "stampede-report.html", JSON: "stampede-summary.json",
			Thresholds: report.MustParseThresholds("apply: p95<500ms", "error_rate<1%")},
		Plan: func(f *cli.Flags, _ int) (*loadgen.Plan, error) { return plan(f, svc) },
	}
	return tool.Run(ctx, args, stdout, stderr)
}

// plan is the sign-up journey, ramping up for a quarter of the run (the
// warm-up, unless -warmup says otherwise), holding half and ramping down;
// with -rate, an open model instead.
func plan(f *cli.Flags, svc *demo.Service) (*loadgen.Plan, error) {
	if f.Duration < time.Second {
		return nil, fmt.Errorf("-duration must be >= 1s, got %v", f.Duration)
	}
	// Test data: member names, each with the meeting they want.
	var rows [][]string
	for i := range 200 {
		rows = append(rows, []string{fmt.Sprintf("member-%03d", i), strconv.Itoa(1 + i%20)})
	}
	members, err := scenario.NewFeeder("members", []string{"name", "meeting"}, rows, scenario.Sequential, scenario.Wrap)
	if err != nil {
		return nil, err
	}
	think := scenario.Think(scenario.Uniform(100*time.Millisecond, 300*time.Millisecond))
	signup, err := scenario.New("signup", scenario.Parts{
		scenario.Feed(members),
		scenario.GET("list", svc.URL+"/meetings", scenario.Contains(`"items"`)),
		think,
		scenario.GET("detail", svc.URL+"/meetings/{{meeting}}", scenario.Contains("<h1>")),
		think,
		scenario.POST("apply", svc.URL+"/meetings/{{meeting}}/apply", `{"name":"{{name}}"}`,
			scenario.SendJSON(), scenario.Expect(201)),
		think,
		scenario.GET("detail-again", svc.URL+"/meetings/{{meeting}}"),
	}, scenario.WithClient(scenario.Client{Dial: svc.Dial})) // svc.Dial: nil unless in memory
	if err != nil {
		return nil, err
	}
	quarter := f.Duration / 4
	warmup := f.Warmup
	if warmup == 0 {
		warmup = quarter.Truncate(time.Second) // the ramp-up is left out of the figures
	}
	var load loadgen.Executor = loadgen.RampingVUs{
		Stages: []loadgen.Stage{
			{Duration: quarter, Target: f.VUs},
			{Duration: f.Duration - 2*quarter, Target: f.VUs},
			{Duration: quarter, Target: 0},
		},
		GracefulRampDown: time.Second,
	}
	if f.Rate > 0 {
		load = f.Executor() // -rate: an open model of -rate journeys per second, up to -vus at once
	}
	return &loadgen.Plan{
		Name:      "quickstart: sign-up journey",
		Warmup:    warmup,
		Scenarios: []loadgen.Scenario{signup.Scenario(load)},
		Gauges:    []loadgen.Gauge{{Name: "heap MiB", Sample: heapMiB}}, // the demo service shares this process
	}, nil
}

func heapMiB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}
