// Command ramp-compare measures an old and a refactored API endpoint at
// 100, 200 and 300 virtual users (scaled by -scale for smaller machines),
// holding each level for -hold, while the target's heap is sampled as a
// gauge. It prints, per level, the p95 of each endpoint and the change, and
// the heap at that level.
//
//	go run ./examples/ramp-compare [-scale 1] [-hold 10s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"time"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
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

// level is one plateau of the ramp: its VU count and its hold window
// (offsets from the start of the run).
type level struct {
	vus        int
	from, till time.Duration
}

// run runs the command. inMemory serves the demo service in memory instead
// of on a loopback port: the tests do, on a fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	fs := flag.NewFlagSet("ramp-compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.Float64("scale", 1, "multiplies the VU levels 100, 200, 300")
	hold := fs.Duration("hold", 10*time.Second, "how long each level is held (a whole number of seconds)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *hold < time.Second || *hold%time.Second != 0 || *scale <= 0 {
		return fmt.Errorf("-hold must be a whole number of seconds >= 1s and -scale > 0, got %v and %v", *hold, *scale)
	}
	svc, err := demo.Start(demo.Options{InMemory: inMemory})
	if err != nil {
		return err
	}
	defer svc.Close()

	// Ramp 1 s to each level, then hold it.
	var stages []loadgen.Stage
	var levels []level
	at := time.Duration(0)
	for _, n := range []int{100, 200, 300} {
		vus := max(1, int(float64(n)**scale))
		stages = append(stages, loadgen.Stage{Duration: time.Second, Target: vus}, loadgen.Stage{Duration: *hold, Target: vus})
		at += time.Second
		levels = append(levels, level{vus, at, at + *hold})
		at += *hold
	}
	results := map[string]*loadgen.Result{}
	for _, api := range []string{"v1", "v2"} {
		j := scenario.Must("report-"+api, scenario.Parts{
			scenario.GET("report", svc.URL+"/"+api+"/report"),
			scenario.Pacing(100 * time.Millisecond), // each user asks for a report ten times a second at most
		}, scenario.WithClient(scenario.Client{Dial: svc.Dial})) // svc.Dial: nil unless in memory
		fmt.Fprintf(stderr, "running /%s/report through %d levels…\n", api, len(levels))
		res, err := loadgen.Run(ctx, &loadgen.Plan{
			Name:      "/" + api + "/report",
			Scenarios: []loadgen.Scenario{j.Scenario(loadgen.RampingVUs{Stages: stages, GracefulRampDown: time.Second})},
			Gauges:    []loadgen.Gauge{{Name: "heap MiB", Sample: heapMiB}},
		})
		if err != nil {
			return err
		}
		results[api] = res
		runtime.GC()
	}
	fmt.Fprintln(stdout, "p95 of GET /report per level (held part only), old (v1) vs refactored (v2):")
	fmt.Fprintf(stdout, "  %5s  %10s  %10s  %8s  %12s  %12s\n", "VUs", "v1 p95", "v2 p95", "change", "v1 heap max", "v2 heap max")
	for _, l := range levels {
		v1, h1 := window(results["v1"], "report-v1", l)
		v2, h2 := window(results["v2"], "report-v2", l)
		change := float64(v2.Quantile(0.95))/float64(v1.Quantile(0.95)) - 1
		fmt.Fprintf(stdout, "  %5d  %10s  %10s  %+7.1f%%  %9.1f MiB  %9.1f MiB\n", l.vus,
			format.Duration(v1.Quantile(0.95)), format.Duration(v2.Quantile(0.95)), 100*change, h1, h2)
	}
	return nil
}

// window merges the intervals inside a level's hold window: the step's
// stats there, and the heap gauge's maximum.
func window(res *loadgen.Result, sc string, l level) (metrics.Stats, float64) {
	snap := res.Metrics
	var st metrics.Stats
	m := snap.SeriesOf(metrics.Key{Scenario: sc, Step: "report", Kind: metrics.KindStep})
	inside := func(start time.Time) bool {
		off := start.Sub(snap.Start)
		return off >= l.from && off+snap.Interval <= l.till
	}
	for _, p := range m.Points {
		if inside(p.Start) {
			st.Merge(&p.Stats)
		}
	}
	heap := 0.0
	if g := snap.Gauge("heap MiB"); g != nil {
		for _, p := range g.Points {
			if inside(p.Start) && p.N > 0 {
				heap = max(heap, p.Max)
			}
		}
	}
	return st, heap
}

func heapMiB() float64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}
