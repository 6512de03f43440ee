// Package loadgen is the engine: it runs iterations under a load model and
// returns a [Result]. It knows nothing of HTTP, journeys or reports; an
// iteration is any func(ctx, *Iteration) error.
//
// Start with [Run]: give it a [Plan] of scenarios, each an executor (the
// load model) and what one iteration does. It returns when the plan ends
// or ctx is cancelled, with every latency and outcome recorded:
//
//	res, err := loadgen.Run(ctx, &loadgen.Plan{
//		Warmup: 10 * time.Second,
//		Scenarios: []loadgen.Scenario{{
//			Name:     "checkout",
//			Executor: loadgen.ConstantRate{Rate: 200, Duration: time.Minute, MaxVUs: 100},
//			Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
//				return checkout(ctx) // an error fails the iteration, classed by its kind
//			},
//		}},
//	})
//
// Package report summarises and checks res; package scenario builds
// iterations out of HTTP and Go steps.
//
// # Plans, scenarios and executors
//
// A [Plan] holds scenarios that run at the same time. Each [Scenario] has a
// name, an [Executor] (its load model), an optional start offset and an
// iteration function. [Run] validates the plan (every problem at once,
// naming the scenario, the field, the value and what is allowed), runs it
// and blocks until every goroutine it started has returned.
//
// Closed models keep a population of virtual users (VUs), each starting its
// next iteration when the last one ends: [ConstantVUs], [RampingVUs],
// [PerVUIterations], [SharedIterations]. Use them to model a fixed number of
// users, such as "300 members refreshing the sign-up page". The VUs of a
// ConstantVUs begin over a short span ([ConstantVUs.Stagger]), so that
// users with a constant think time do not send in lockstep.
//
// Open models start iterations on a schedule, whatever the response times:
// [ConstantRate], [RampingRate]. Use them to model arrivals, such as "1000
// requests per second", and to find a throughput ceiling. The i-th arrival
// is due at start + i/rate (or on a Poisson schedule), never relative to
// when the previous one ran; at each wake-up the scheduler releases every
// arrival that is due, each with its own intended time.
//
// An executor is behaviour, not a closed set: any type with the methods of
// [Executor] plugs in, such as a load shape of your own (VUs as a function
// of time, or a sequence of arrival offsets) returned by its Load method.
// The engine splits it into segments, counts its drops and keeps its
// accounting as for the executors above.
//
// # The numbers
//
// An open-model iteration's latency is measured from its intended start, so
// a stalled target shows up in full (no coordinated omission); how late it
// actually started is recorded as its own metric, [metrics.KindScheduleLag].
// An arrival that finds no free VU when MaxVUs are busy is counted as
// dropped, never silently skipped. Every scenario records its iterations
// under [metrics.KindIteration]: completed (ok), failed (by error class,
// see [metrics.OutcomeOf]), interrupted and dropped, so that
// started = completed + failed + interrupted and, in open models,
// scheduled = started + dropped.
//
// # The generator's own health
//
// A run cannot tell a slow service from a slow generator unless it
// measures itself, so every run on the real clock does: once per interval
// the engine records the Go scheduler's latency and the GC's pauses (under
// the scenario name [metrics.Generator]), and the process's CPU use
// against its processors, goroutines and heap (the gauges [GaugeCPU],
// [GaugeGoroutines], [GaugeHeap]); [Result.Generators] describes the
// process, its clock's resolution and its timers' lateness. A sample costs
// a few microseconds a second (BenchmarkHealthSample). Package report
// turns this into what the generator may have added to each scenario's
// latency and a warning when that is material. On a fake clock
// (testing/synctest) nothing is recorded: the generator's real delays are
// not the run's.
//
// # Stopping
//
// When a scenario's executor ends, when ctx is cancelled, or when
// [Plan.AbortWhen] returns a reason, no new iterations start; iterations in
// flight get the scenario's GracefulStop to finish, then their context is
// cancelled and, if they return an error, they count as interrupted. A
// cancelled or aborted run returns its partial Result together with the
// cause. A panic in an iteration is recovered, counted as
// [metrics.Panic], and its stack kept (the first few distinct panics, each
// with a count) in the Result; the VU goes on. So does a VU whose
// iteration calls runtime.Goexit (t.FailNow in a step): the iteration
// counts as [metrics.Other]. Panics in Setup, Teardown, gauges, events,
// OnInterval and AbortWhen are recovered and kept too: no user code takes
// the process down. Values no real test needs ([VULimit], [RateLimit],
// [DurationLimit], more than [metrics.MaxIntervals] intervals) are refused
// by Validate.
//
// # Time
//
// Results are series of intervals (one second by default) plus totals that
// leave out the warm-up. Timeline events ([At]) run user code at an offset
// and are marked in the Result; gauges are sampled once per interval;
// [Plan.OnInterval] sees a [Progress] after each interval. A [Segment] makes
// this process run its exact share of the plan, and [Merge] joins the
// segments' results into the whole.
//
// # Scale
//
// A result's size depends on its series (steps, phases), its intervals and
// the distinct latencies an interval sees, not on the number of requests.
// Measured on a 2-core machine (scale_bench_test.go has the commands):
//
//   - One process's hour of a 10-step journey with every HTTP phase, 1 s
//     intervals, 100 requests a step each second (BenchmarkResultOfAnHour):
//     a 20.3 MB file (90 MB in result format 4), written in 3.5 s and read
//     in 1.0–1.4 s; 20.6 MB as a log block.
//   - 100 segments of that hour, 0.6 MB a file, merged one file at a time
//     (BenchmarkMergeHours): 12.3 s, with the heap at most 745 MB, of
//     which the merged result holds 106 MB.
//   - 1 000 segments of a 10-minute run, a request a step each second in
//     each, 0.18 MB a file (BenchmarkMergeTenMinutes): 21.3 s, with the
//     heap at most 276 MB, of which the merged result holds 29 MB.
//
// Merging reads and adds one result at a time ([Merger]): memory is that of
// the merge and one file, whatever the number of segments. [Result.WriteLog]
// and [LogResults] carry results through a process's log, for clusters
// where no volume is shared.
package loadgen
