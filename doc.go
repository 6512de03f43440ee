// Package stampede is a library for load testing in plain Go: describe what
// virtual users do, run them under a load model, and read, check and compare
// the results, all from Go code, `go test` or your own tools.
//
// Start with a journey, run it under a load model, and read the result:
//
//	j := scenario.Must("browse", scenario.Parts{
//		scenario.GET("home", base+"/", scenario.Expect(200)),
//		scenario.Think(scenario.Uniform(time.Second, 3*time.Second)),
//	})
//	res, err := loadgen.Run(ctx, &loadgen.Plan{Scenarios: []loadgen.Scenario{
//		j.Scenario(loadgen.ConstantVUs{VUs: 50, Duration: time.Minute}),
//	}})
//	report.Summarize(res).WriteText(os.Stdout)
//
// go run ./examples/quickstart runs this against a demo service built in.
//
// The module is organised in layers, each its own package:
//
//   - [github.com/stampede-go/stampede/metrics] records latencies and
//     outcomes in HDR histograms, per interval and in total, and merges and
//     encodes them exactly.
//   - loadgen is the engine: open- and closed-model executors run
//     iterations and return a Result.
//   - scenario builds user journeys: steps, think time, pacing, data feeders
//     and HTTP steps.
//   - report summarises, renders, checks thresholds and compares a baseline
//     with a candidate.
//
// The numbers are meant to be true: open-model latency is measured from each
// iteration's intended start (no coordinated omission), percentiles come from
// merged histograms and are never averaged, and everything in a report is
// traced to recorded data.
package stampede
