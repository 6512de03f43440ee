// Package report turns a [loadgen.Result] into what people and programs
// act on: a summary and its renderings, and pass/fail thresholds, all in
// one vocabulary of metrics. Its companions: package report/compare sets
// a candidate against a baseline, and package report/reporttest holds the
// go test helpers.
//
// Start with [Summarize] for the figures and [Check] for thresholds:
//
//	vs := report.Check(res, report.MustParseThresholds("p95<500ms", "error_rate<1%")...)
//	s := report.Summarize(res)
//	s.WriteText(os.Stdout)
//	vs.WriteText(os.Stdout)
//	err := s.SaveHTML("report.html", report.HTMLOptions{Verdicts: vs})
//	if !vs.Passed() { ... }
//
// Everything here is computed from the Result's recorded histograms and
// counters, so any report can be rebuilt from a saved file
// ([loadgen.LoadResult]). Figures cover the measured window: the warm-up is
// left out. Rates are over the load window ([LoadWindow]): the planned
// load after the warm-up, so that the tail in which VUs finish their last
// iterations is counted but does not dilute them. Percentiles are read from histograms, never averaged across
// runs or intervals. Latency figures are those of successful operations;
// the latency of failed ones is kept and shown apart, so that fast failures
// never make a service look fast.
//
// # Metrics
//
// A [Metric] is one figure: [Quantile] (p50, p95, p99.9), [Mean], [Min] and
// [Max] of successful operations (or, with [Metric.Of], of [Failures] or
// [All] operations: p95(failed), max(all)); [Count], [Rate] (per second of
// the load window), [Errors], [ErrorRate]; [Status] (responses with
// one status code: status(503), or a protocol's on a selector of its kind,
// by number or name: checkout[grpc]: status(UNAVAILABLE)); and for open
// models [Dropped],
// [DroppedRate] and [DroppedShare] (of the scheduled arrivals). The same
// definitions serve summaries, thresholds, comparisons, budgets and the
// benchmark format. A [Selector] picks the rows a metric is computed over:
// a step, a scenario's iterations, every scenario, with an optional kind
// such as schedule_lag or http_ttfb (see [Selector] for the grammar).
//
// # Summaries and renderers
//
// [Summarize] computes, per scenario and step, the count, rate, errors by
// class and by status code, and the latency of successful operations (min,
// mean, p50, p90, p95, p99, p99.9, max) with that of failed ones apart;
// iterations by fate (started, completed, failed, interrupted, dropped);
// schedule lag; the HTTP phases; what steps of other protocols record
// beside their latency (a gRPC step's status codes by name, a stream's
// messages), each a row named as a selector picks it ("watch[grpc_msg]");
// the generator's health and what it may
// have added to each scenario's latency ([GeneratorSummary]); gauges and
// events; and the warnings a reader must see, among them that the
// generator, not the service, may have made the numbers. [Summary.WriteText] renders it for a terminal,
// [Summary.WriteMarkdown] for a pull request, [Summary.WriteHTML] as a
// self-contained page with charts. [Summary.WriteTimeline] shows each
// scenario interval by interval (requests, errors by class, p50 and p95,
// VUs, drops: which seconds had errors). [Summary.WriteJSON] writes a
// designed, versioned JSON summary for CI jobs and dashboards, with the
// timeline and the verdicts of thresholds. [WriteBenchmark] writes runs in the Go
// benchmark format, so that benchstat compares them. [NewProgress] shows a
// live progress line.
//
// # Thresholds
//
// A [Threshold] bounds one metric of a selection. Parse one with
// [ParseThreshold], or build one in Go with [On] or [OnLatency]; both give
// the same value:
//
//	report.ParseThreshold("apply: p95 < 500ms")
//	report.OnLatency("apply", report.Quantile(0.95)).Below(500 * time.Millisecond)
//
// The grammar:
//
//	threshold := [ selector ":" ] metric op value
//	selector  := see Selector; none means every scenario's iterations
//	metric    := "p" number [ side ]      a percentile, 0 < number < 100: p95, p99.9
//	           | ( "mean" | "min" | "max" ) [ side ]
//	           | "count" | "rate" | "errors" | "error_rate"
//	           | "status(" code ")"       responses with that status code: HTTP's
//	                                      (100..999), or on a selector of another
//	                                      protocol's kind its code, by number or name
//	           | "dropped" | "dropped_rate" | "dropped_share"
//	side      := "(failed)" | "(all)"     latency of failed or all operations;
//	                                      none means successful ones
//	op        := "<" | "<=" | ">" | ">="
//	value     := duration                 latencies: 500ms, 1.5s
//	           | number "%" | number      error_rate, dropped_share: 1% or 0.01
//	           | number "/s"              rate, dropped_rate: 100/s
//	           | integer                  count, errors, status, dropped
//
// Examples: "p95<500ms", "apply: p99<=1s", "apply: p95(failed)<2s",
// "error_rate<1%", "rate>=100/s", "signup/apply: errors<=0",
// "checkout: status(503)<=0", "checkout[grpc]: status(UNAVAILABLE)<=0",
// "checkout: dropped_share<0.1%",
// "[schedule_lag]: p99<1ms". A syntax error is a [*SyntaxError] that points
// at the character; [Threshold.String] gives back text that parses to the
// same value.
//
// Thresholds hold the generator to account too: "[go_sched]: p99<1ms"
// bounds the Go scheduler's latency of the processes that generated the
// load, "[schedule_lag]: p99<1ms" the open models' lag (see
// [GeneratorSummary]).
//
// Nothing passes silently: [Check] fails a threshold whose selector matches
// nothing in the run, whose metric does not apply to what it selects, or
// whose latency has no data. [AbortOn] checks thresholds live, through the
// engine's AbortWhen hook, once a delay has passed.
package report
