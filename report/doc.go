// Package report turns a [loadgen.Result] into what people and programs
// act on: summaries and their renderings, pass/fail thresholds, go test
// helpers, repetitions, and baseline-versus-candidate comparison.
//
// Everything here is computed from the Result's recorded histograms and
// counters, so any report can be rebuilt from a saved JSON file
// ([SaveFile], [LoadFile]). Figures cover the measured window: the warm-up
// is left out. Percentiles are read from histograms, never averaged across
// runs or intervals.
//
// # Summaries and renderers
//
// [Summarize] computes, per scenario and step, the count, rate, errors by
// class, min, mean, median, p90, p95, p99, p99.9 and max; iterations by
// fate (started, completed, failed, interrupted, dropped); the HTTP phases;
// gauges and events. [WriteText] renders it for a terminal,
// [WriteMarkdown] for a pull request, [WriteJSON] writes the Result's own
// lossless encoding, and [WriteBenchmark] writes the Go benchmark format so
// that benchstat can compare runs.
//
// # Thresholds
//
// A [Threshold] bounds one figure: build it in Go (P95("apply").Below(500 *
// time.Millisecond), ErrorRate("").Below(0.01)) or parse it from a string
// with [ParseThreshold]. The grammar:
//
//	threshold := [ selector ":" ] metric op value
//	selector  := scenario "/" step   (that step of that scenario)
//	           | name                (the step of that name in every scenario,
//	                                  or else the iterations of that scenario)
//	                                 (no selector: every scenario's iterations)
//	metric    := "p" number          (a percentile, 0 to 100: p95, p99.9)
//	           | "median" | "mean" | "min" | "max"
//	           | "error_rate" | "rate" | "count" | "errors"
//	op        := "<" | "<=" | ">" | ">="
//	value     := duration            (latencies: 500ms, 1.5s)
//	           | number "%" | number (error_rate: 1% or 0.01)
//	           | number "/s"         (rate: 100/s)
//	           | integer             (count, errors)
//
// Examples: "p95<500ms", "apply: p99<=1s", "error_rate<1%", "rate>=100/s",
// "signup/apply: errors<=0". A syntax error is a [*SyntaxError] that points
// at the character. A threshold whose selector matches nothing fails with
// "no data": it never passes silently.
//
// [Check] checks thresholds after a run; [AbortOn] checks them live, through
// the engine's AbortWhen hook, once a delay has passed.
//
// # go test
//
// [Require] fails a test with a table of every failed threshold;
// [Benchmark] runs a plan inside a Go benchmark and reports p50, p95, p99
// and the iteration rate with b.ReportMetric.
//
// # Repetitions
//
// [Repeat] runs a plan n times; [SummarizeRuns] gives per step each run's
// own figures, the median of the per-run figures, and the figures of all
// runs' histograms merged, labelled apart.
//
// # Comparison
//
// [Compare] sets a candidate's runs against a baseline's, per step and
// metric (median, p90, p95, p99, mean, max, rate, error rate). The values
// shown come from each side's merged histograms. Whether a change is real
// is decided on the per-run values, one per run, each from that run's own
// histogram: a two-sided Mann-Whitney U test (golang.org/x/perf/benchmath,
// assuming nothing about the distribution) at α = 0.05, with the size of
// the change estimated by Hodges-Lehmann, as a ratio for latencies and
// rates, with a distribution-free 95 % interval from the exact U
// distribution. Pooled per-request samples are never tested: requests of
// one run are autocorrelated, and a test on them finds differences that are
// not there. Fewer than 4 runs per side give the verdict "inconclusive"
// (7 are recommended); [RepeatInterleaved] runs baseline and candidate in
// turn so that drift of the machine is not mistaken for a change.
//
// A [Budget] turns "p95 worse by more than 10 %" into a failure: a row
// violates it when the change is significant and the whole interval lies
// beyond the budget ([Comparison.Violations], [RequireNoRegression]).
package report
