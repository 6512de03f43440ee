package stampedeprom_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	stampedeprom "github.com/stampede-go/stampede/prometheus"
)

// Example attaches an exporter to a plan, serves it on a loopback port for
// the length of the run, and reads the final figures back the way
// Prometheus would.
func Example() {
	exp, err := stampedeprom.New(stampedeprom.Options{})
	if err != nil {
		panic(err)
	}
	plan := &loadgen.Plan{Scenarios: []loadgen.Scenario{{
		Name:     "browse",
		Executor: loadgen.PerVUIterations{VUs: 4, Iterations: 25},
		Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
			if it.VU.ID == 0 && it.Number == 24 {
				return metrics.WithOutcome(fmt.Errorf("HTTP 503"), metrics.HTTP5xx)
			}
			return nil // a real iteration calls the system under test here
		},
	}}}
	exp.Attach(plan)

	// Serve until ctx is done. A real program passes a fixed address that
	// its prometheus.yml names, and keeps serving after the run until
	// Prometheus has scraped the final figures (two scrape intervals).
	ctx, stop := context.WithCancel(context.Background())
	addr, err := exp.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer func() {
		stop()
		if err := exp.Wait(); err != nil {
			panic(err)
		}
	}()

	if _, err := loadgen.Run(ctx, plan); err != nil {
		panic(err)
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "stampede_iterations_total") && !strings.HasSuffix(line, " 0") {
			fmt.Println(line)
		}
	}
	// Output:
	// stampede_iterations_total{outcome="http_5xx",scenario="browse"} 1
	// stampede_iterations_total{outcome="ok",scenario="browse"} 99
}

// ExampleExporter_Attach registers the exporter in a registry of one's own
// and keeps the plan's own progress callback.
func ExampleExporter_Attach() {
	exp := stampedeprom.MustNew(stampedeprom.Options{ConstLabels: map[string]string{"run": "example"}})
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp) // beside any other collectors; serve reg with promhttp

	var final bool
	plan := &loadgen.Plan{
		Scenarios: []loadgen.Scenario{{
			Name:      "browse",
			Executor:  loadgen.SharedIterations{VUs: 2, Iterations: 10},
			Iteration: func(ctx context.Context, it *loadgen.Iteration) error { return nil },
		}},
		OnInterval: func(p *loadgen.Progress) { final = p.Final },
	}
	exp.Attach(plan) // the exporter first, then the plan's own callback
	if _, err := loadgen.Run(context.Background(), plan); err != nil {
		panic(err)
	}

	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "stampede_run_finished" {
			fmt.Println("own callback saw the final report:", final)
			fmt.Println("stampede_run_finished", mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	// Output:
	// own callback saw the final report: true
	// stampede_run_finished 1
}
