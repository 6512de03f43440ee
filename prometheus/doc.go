// Package stampedeprom exposes a running load test's metrics to Prometheus,
// and through it to Grafana, while the test runs.
//
// Start with [New], feed it the plan's interval reports, and serve it:
//
//	exp, err := stampedeprom.New(stampedeprom.Options{})
//	plan.OnInterval = exp.OnInterval
//	addr, err := exp.Serve(ctx, "127.0.0.1:9464") // /metrics, until ctx is done
//	res, err := loadgen.Run(ctx, plan)
//
// It lives in its own module, github.com/stampede-go/stampede/prometheus,
// so that the core module does not depend on client_golang; nothing in the
// core module imports it. The package is named stampedeprom, not
// prometheus, so that it does not clash with client_golang's package in the
// files that use both:
//
//	import stampedeprom "github.com/stampede-go/stampede/prometheus"
//
// Its go.mod requires a published version of the core module, as any
// consumer's would; inside the repository, the go.work at the root builds
// it against the core beside it.
//
// # Feeding and serving
//
// An [Exporter] is fed only by the engine's interval reports: set
// [loadgen.Plan.OnInterval] to [Exporter.OnInterval], or call
// [Exporter.Attach] to keep a callback the plan already has (see [Chain]).
// A scrape therefore shows the run as of the latest closed interval (one
// second by default, [loadgen.Plan.Interval]); after the run, the engine's
// final report stays on show, so keep serving until it has been scraped.
//
// The Exporter is a [prometheus.Collector]: register it in your own
// registry, mount [Exporter.Handler] on your own mux, or call
// [Exporter.Serve], which serves /metrics on an address of your choice
// (default 127.0.0.1:0, loopback only) until its ctx is done;
// [Exporter.Wait] waits for those servers. Scrape it with a job such as:
//
//	scrape_configs:
//	  - job_name: stampede
//	    scrape_interval: 1s
//	    static_configs:
//	      - targets: ["127.0.0.1:9464"] # the address Serve returned
//
// The engine calls OnInterval on its clock goroutine once per interval; it
// only copies a few words per metric key under a mutex. Converting the HDR
// histograms to Prometheus buckets happens on the scrape goroutine, at most
// once per report.
//
// # Metrics
//
// Every name starts with stampede_. Labels are bounded by the plan: the
// scenario and step names, the metric kind and the outcome; never a URL, a
// VU or an error message. [Options.ConstLabels] adds labels of your own.
// A name is its own label value unless it holds bytes that are not UTF-8,
// which a label cannot: each is written \xHH, as Go quotes it (the step
// "a\xff" has the label a\xff), and a backslash of the name before an x,
// another backslash or such a byte is doubled, so that distinct names keep
// distinct labels.
//
//	name                                        type       labels
//	stampede_operations_total                   counter    scenario, step, kind, outcome
//	stampede_operation_duration_seconds         histogram  scenario, step, kind
//	stampede_failed_operation_duration_seconds  histogram  scenario, step, kind
//	stampede_responses_total                    counter    scenario, step, kind, code
//	stampede_sent_bytes_total                   counter    scenario, step, kind
//	stampede_received_bytes_total               counter    scenario, step, kind
//	stampede_iterations_total                   counter    scenario, outcome
//	stampede_iteration_duration_seconds         histogram  scenario
//	stampede_failed_iteration_duration_seconds  histogram  scenario
//	stampede_dropped_iterations_total           counter    scenario
//	stampede_schedule_lag_seconds               histogram  scenario
//	stampede_active_vus                         gauge      scenario
//	stampede_gauge                              gauge      name
//	stampede_run_elapsed_seconds                gauge      (none)
//	stampede_run_finished                       gauge      (none)
//	stampede_exporter_reports_total             counter    (none)
//
// The operation metrics come from every metric key other than a scenario's
// iterations and schedule lag: steps (kind "step") and, for HTTP steps,
// their phases (kinds "http_dns", "http_ttfb" and so on), for steps of
// other protocols what they record (a gRPC stream's messages, kind
// "grpc_msg"), so filter on kind="step" to count requests once. The
// response counters hold HTTP's status codes on kind "step" and another
// protocol's on its own kind, named as it names them (kind="grpc",
// code="UNAVAILABLE"). The outcome label takes the values of
// [metrics.Outcome.String]: "ok", the error classes ("timeout", "refused",
// "reset", "http_4xx", "http_5xx", "rejected", "server_error", "check",
// "panic", "other") and
// "interrupted"; every one is exported from the first report on, zeros
// included, so that rate() sees the first error. Dropped arrivals never
// started and have their own counter. The byte counters appear once a key
// has sent or received any payload, the response counters once a code has
// been seen.
//
// As everywhere in stampede, the duration histograms hold successful
// operations: failed ones never make a service look fast. Their latency
// has histograms of its own (stampede_failed_…), and dropped arrivals and
// schedule lag are metrics like any other. The plan's gauges
// ([loadgen.Plan.Gauges], the target's heap, say) and the scenarios' own
// (loadgen.Instance.Gauges: the WebSocket connections a scenario holds,
// "chat.ws_connections") are exported as stampede_gauge, by name, with the
// mean of their samples in the latest interval.
//
// # The numbers
//
// Counters and histograms are cumulative from the start of the run,
// warm-up included ([metrics.KeyProgress].All), so they never go down, and at
// the end of the run they equal the whole-run counts; the run's Result
// leaves the warm-up out of its totals, so the two agree when the plan has
// no warm-up.
//
// Each histogram carries native buckets of schema [NativeSchema] and
// classic buckets ([Options.Buckets], default [DefaultBuckets]) side by
// side, as client_golang's own histograms can: Prometheus uses the native
// ones when its native-histogram feature is on, the classic ones
// otherwise. Both are built from the run's HDR histograms, placing each HDR
// bucket (3 significant digits) by its highest value; the count is exact,
// and so is the sum (from the exact sum of the latencies). Query them with
//
//	histogram_quantile(0.99, sum by (scenario, step) (rate(stampede_operation_duration_seconds{kind="step"}[1m])))
//
// for native histograms, or with the same over the _bucket series summed
// by le for classic ones.
//
// A run split into segments over several processes has an exporter in
// each; Prometheus sums them as it sums any series (counts exactly, native
// histograms bucket by bucket). The Grafana example's README shows the
// scrape configuration for a Kubernetes Job's pods and says what such a
// sum keeps exactly and what it does not.
package stampedeprom
