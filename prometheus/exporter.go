package stampedeprom

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// DefaultBuckets returns the classic histogram bucket upper bounds used
// when [Options.Buckets] is empty: 500 µs to 60 s.
func DefaultBuckets() []time.Duration {
	return []time.Duration{
		500 * time.Microsecond,
		time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
		10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2500 * time.Millisecond, 5 * time.Second,
		10 * time.Second, 30 * time.Second, 60 * time.Second,
	}
}

// NativeSchema is the schema of the native histograms the exporter writes:
// bucket boundaries grow by a factor of 2^(1/8) ≈ 1.09, so a bucket's
// midpoint is within about 4.5% of any value in it (the resolution of
// client_golang's usual NativeHistogramBucketFactor of 1.1).
const NativeSchema = 3

// Options configures an [Exporter]. The zero value is valid: the
// [DefaultBuckets] and no constant labels.
type Options struct {
	// Buckets are the upper bounds of the classic histogram buckets, written
	// beside the native buckets for scrapers that do not read native
	// histograms. Empty means [DefaultBuckets]; otherwise each must be > 0
	// and they must be strictly increasing.
	Buckets []time.Duration
	// ConstLabels are added to every metric, for example {"run": "nightly"}
	// to tell runs apart. Keep their values bounded. Names must be valid
	// Prometheus label names and must not be one of the exporter's own
	// labels (scenario, step, kind, outcome) or "le".
	ConstLabels map[string]string
}

// Validate reports every problem with o at once.
func (o Options) Validate() error {
	var errs []error
	for i, b := range o.Buckets {
		if b <= 0 {
			errs = append(errs, fmt.Errorf("stampedeprom: Options.Buckets[%d] must be > 0, got %v", i, b))
		}
		if i > 0 && b <= o.Buckets[i-1] {
			errs = append(errs, fmt.Errorf("stampedeprom: Options.Buckets must be strictly increasing, got %v after %v at index %d",
				b, o.Buckets[i-1], i))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(o.ConstLabels)) {
		switch name {
		case "scenario", "step", "kind", "outcome", "le":
			errs = append(errs, fmt.Errorf("stampedeprom: Options.ConstLabels must not set the exporter's own label %q", name))
			continue
		}
		d := prometheus.NewDesc("stampede_check", "", nil, prometheus.Labels{name: o.ConstLabels[name]})
		if err := d.Err(); err != nil {
			errs = append(errs, fmt.Errorf("stampedeprom: Options.ConstLabels[%q]: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// Exporter exposes a running test's metrics to Prometheus. It implements
// [prometheus.Collector]; feed it by setting [loadgen.Plan.OnInterval] to
// its [Exporter.OnInterval] method (or with [Exporter.Attach]) and serve it
// with [Exporter.Serve], [Exporter.Handler] or a registry of your own.
//
// It sees only what the engine reports at the end of each interval, so a
// scrape shows the run as of the latest closed interval; after the run, the
// final report stays on show until the Exporter is dropped. One Exporter
// follows one run at a time: attached to a second run, its counters restart
// from zero, which Prometheus treats as a counter reset.
//
// All methods are safe for concurrent use.
type Exporter struct {
	classic []float64 // classic bucket upper bounds, seconds
	reg     *prometheus.Registry

	descs struct {
		ops, opDur, failedDur, sent, recv      *prometheus.Desc
		responses                              *prometheus.Desc
		iters, iterDur, failedIterDur, dropped *prometheus.Desc
		lag, vus, gauge                        *prometheus.Desc
		elapsed, finished, report              *prometheus.Desc
		genSched, genPause, genCPU             *prometheus.Desc
		genGoroutines, genHeap                 *prometheus.Desc
	}

	mu     sync.Mutex // guards latest and gen
	latest *state
	gen    uint64

	convMu   sync.Mutex // serialises conversions; guards the fields below
	cache    []prometheus.Metric
	cacheGen uint64

	servers  sync.WaitGroup
	serveMu  sync.Mutex
	serveErr error
}

// state is what the exporter keeps of one Progress: the run-wide figures,
// each scenario's VUs and each key's all-time stats. The Stats are the
// copies the engine made for that Progress; nothing modifies them.
type state struct {
	elapsed   time.Duration
	final     bool
	scenarios []scenarioState
	keys      []keyState
	gauges    []loadgen.GaugeProgress
}

type scenarioState struct {
	name string
	vus  int
}

type keyState struct {
	key metrics.Key
	all metrics.Stats
}

var _ prometheus.Collector = (*Exporter)(nil)

// New returns an Exporter, or an error listing every problem with o.
func New(o Options) (*Exporter, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	buckets := o.Buckets
	if len(buckets) == 0 {
		buckets = DefaultBuckets()
	}
	e := &Exporter{classic: make([]float64, len(buckets))}
	for i, b := range buckets {
		e.classic[i] = b.Seconds()
	}
	cl := prometheus.Labels(maps.Clone(o.ConstLabels))
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, cl)
	}
	d := &e.descs
	d.ops = desc("stampede_operations_total",
		"Operations recorded by steps (kind \"step\") and their phases, by outcome; warm-up included.",
		"scenario", "step", "kind", "outcome")
	d.opDur = desc("stampede_operation_duration_seconds",
		"Latency of the successful operations recorded by steps and their phases; warm-up included.",
		"scenario", "step", "kind")
	d.failedDur = desc("stampede_failed_operation_duration_seconds",
		"Latency of the failed operations recorded by steps; warm-up included.",
		"scenario", "step", "kind")
	d.responses = desc("stampede_responses_total",
		"Responses by status code, where steps report them; warm-up included. kind \"step\" holds HTTP's codes, another kind a protocol's (\"grpc\": OK, UNAVAILABLE ...), by name where it names them.",
		"scenario", "step", "kind", "code")
	d.sent = desc("stampede_sent_bytes_total",
		"Payload bytes sent by steps; only keys that sent any.",
		"scenario", "step", "kind")
	d.recv = desc("stampede_received_bytes_total",
		"Payload bytes received by steps; only keys that received any.",
		"scenario", "step", "kind")
	d.iters = desc("stampede_iterations_total",
		"Iterations started, by outcome (ok, an error class or interrupted); warm-up included.",
		"scenario", "outcome")
	d.iterDur = desc("stampede_iteration_duration_seconds",
		"Latency of whole successful iterations, from their intended start; warm-up included.",
		"scenario")
	d.failedIterDur = desc("stampede_failed_iteration_duration_seconds",
		"Latency of whole failed iterations, from their intended start; warm-up included.",
		"scenario")
	d.dropped = desc("stampede_dropped_iterations_total",
		"Open-model arrivals that found no free VU and never started.",
		"scenario")
	d.lag = desc("stampede_schedule_lag_seconds",
		"How late open-model iterations started after their intended time.",
		"scenario")
	d.vus = desc("stampede_active_vus", "Live virtual users at the end of the latest interval.", "scenario")
	d.gauge = desc("stampede_gauge", "The plan's and the scenarios' gauges (loadgen.Plan.Gauges, loadgen.Instance.Gauges): the mean of their samples in the latest interval.", "name")
	d.elapsed = desc("stampede_run_elapsed_seconds", "Time since the run started, as of the latest interval.")
	d.finished = desc("stampede_run_finished", "1 once the run has ended and its final figures are shown, else 0.")
	d.report = desc("stampede_exporter_reports_total", "Interval reports the exporter has received from the engine.")
	d.genSched = desc("stampede_generator_sched_latency_seconds",
		"The generator's Go scheduler latency: how long its goroutines waited, runnable, for a processor; warm-up included.")
	d.genPause = desc("stampede_generator_gc_pause_seconds", "The generator's stop-the-world GC pauses; warm-up included.")
	d.genCPU = desc("stampede_generator_cpu_share", "The share of its processors (GOMAXPROCS) the generator used in the latest interval; 1 is all of them.")
	d.genGoroutines = desc("stampede_generator_goroutines", "The generator's goroutines at the end of the latest interval.")
	d.genHeap = desc("stampede_generator_heap_bytes", "The generator's heap bytes occupied by objects at the end of the latest interval.")
	e.reg = prometheus.NewRegistry()
	if err := e.reg.Register(e); err != nil {
		return nil, fmt.Errorf("stampedeprom: %w", err)
	}
	return e, nil
}

// MustNew is like [New] but panics on bad options.
func MustNew(o Options) *Exporter {
	e, err := New(o)
	if err != nil {
		panic(err)
	}
	return e
}

// OnInterval takes in the engine's report of one interval; assign it to
// [loadgen.Plan.OnInterval] or use [Exporter.Attach]. It copies the
// report's slices but keeps references to its [metrics.Stats], which the
// engine made for this report alone: callers must not modify a Progress
// after passing it. Its cost is a few small copies per metric key under a
// lock that scrapes hold only briefly; the conversion to Prometheus buckets
// happens on the scrape goroutine. A nil p is ignored.
func (e *Exporter) OnInterval(p *loadgen.Progress) {
	if p == nil {
		return
	}
	s := &state{
		elapsed:   p.Elapsed,
		final:     p.Final,
		scenarios: make([]scenarioState, len(p.Scenarios)),
		keys:      make([]keyState, len(p.Series)),
	}
	for i, sc := range p.Scenarios {
		s.scenarios[i] = scenarioState{name: sc.Name, vus: sc.VUs}
	}
	for i := range p.Series {
		m := &p.Series[i]
		s.keys[i] = keyState{key: m.Key, all: m.All}
	}
	s.gauges = slices.Clone(p.Gauges)
	e.mu.Lock()
	e.latest = s
	e.gen++
	e.mu.Unlock()
}

// Attach makes plan report to e, keeping any OnInterval callback the plan
// already has: e sees each report first, then the previous callback.
func (e *Exporter) Attach(plan *loadgen.Plan) {
	plan.OnInterval = Chain(e.OnInterval, plan.OnInterval)
}

// Chain returns an OnInterval callback that calls each non-nil fn in order
// with the same Progress, or nil if every fn is nil (so that the engine
// skips building reports nobody reads).
func Chain(fns ...func(*loadgen.Progress)) func(*loadgen.Progress) {
	fns = slices.DeleteFunc(slices.Clone(fns), func(f func(*loadgen.Progress)) bool { return f == nil })
	switch len(fns) {
	case 0:
		return nil
	case 1:
		return fns[0]
	}
	return func(p *loadgen.Progress) {
		for _, f := range fns {
			f(p)
		}
	}
}

// Describe sends the descriptors of every metric the exporter can emit; it
// implements [prometheus.Collector].
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	d := &e.descs
	for _, x := range []*prometheus.Desc{
		d.ops, d.opDur, d.failedDur, d.sent, d.recv, d.responses, d.iters, d.iterDur, d.failedIterDur,
		d.dropped, d.lag, d.vus, d.gauge, d.elapsed, d.finished, d.report,
		d.genSched, d.genPause, d.genCPU, d.genGoroutines, d.genHeap,
	} {
		ch <- x
	}
}

// Collect sends the metrics as of the latest report; it implements
// [prometheus.Collector]. Before the first report it sends nothing. The
// metrics are built once per report and shared by later scrapes.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.convMu.Lock()
	defer e.convMu.Unlock()
	e.mu.Lock()
	s, gen := e.latest, e.gen
	e.mu.Unlock()
	if s == nil {
		return
	}
	if gen != e.cacheGen {
		e.cache = e.build(s, gen)
		e.cacheGen = gen
	}
	for _, m := range e.cache {
		ch <- m
	}
}

// build turns one report into const metrics.
func (e *Exporter) build(s *state, reports uint64) []prometheus.Metric {
	d := &e.descs
	var out []prometheus.Metric
	add := func(m prometheus.Metric, err error) {
		if err != nil {
			// Only a label-count mismatch fails here: a bug in this package.
			panic("stampedeprom: " + err.Error())
		}
		out = append(out, m)
	}
	counter := func(desc *prometheus.Desc, v int64, labels ...string) {
		add(prometheus.NewConstMetric(desc, prometheus.CounterValue, float64(v), labels...))
	}
	hist := func(desc *prometheus.Desc, d *metrics.Distribution, labels ...string) {
		add(newHistogram(desc, d, e.classic, labels))
	}
	for i := range s.keys {
		k := &s.keys[i]
		sc, step, kind := label(k.key.Scenario), label(k.key.Step), label(string(k.key.Kind))
		switch {
		case k.key.Scenario == metrics.Generator && k.key.Kind == metrics.KindGoSched:
			hist(d.genSched, &k.all.Latency)
		case k.key.Scenario == metrics.Generator && k.key.Kind == metrics.KindGCPause:
			hist(d.genPause, &k.all.Latency)
		case k.key.Kind == metrics.KindIteration && k.key.Step == "":
			for o := range metrics.NumOutcomes {
				if o != metrics.Dropped {
					counter(d.iters, k.all.Outcomes[o], sc, o.String())
				}
			}
			counter(d.dropped, k.all.Outcomes[metrics.Dropped], sc)
			hist(d.iterDur, &k.all.Latency, sc)
			hist(d.failedIterDur, &k.all.Failed, sc)
		case k.key.Kind == metrics.KindScheduleLag && k.key.Step == "":
			hist(d.lag, &k.all.Latency, sc)
		case k.key.Scenario == metrics.Generator && k.key.Step == "":
			// Other series of the generator's health (how late VUs woke
			// from their pauses) are not operations: not exported.
		case k.key.Kind != metrics.KindStep && k.all.Count() == 0 && len(k.all.Status) > 0:
			// A protocol's status codes, on a kind of their own.
			for _, c := range k.all.Status {
				counter(d.responses, c.Count, sc, step, kind, label(metrics.CodeName(k.key.Kind, c.Code)))
			}
		default:
			for o := range metrics.NumOutcomes {
				if o != metrics.Dropped {
					counter(d.ops, k.all.Outcomes[o], sc, step, kind, o.String())
				}
			}
			hist(d.opDur, &k.all.Latency, sc, step, kind)
			if k.key.Kind == metrics.KindStep {
				hist(d.failedDur, &k.all.Failed, sc, step, kind)
			}
			for _, c := range k.all.Status {
				counter(d.responses, c.Count, sc, step, kind, label(metrics.CodeName(k.key.Kind, c.Code)))
			}
			if k.all.BytesSent > 0 {
				counter(d.sent, k.all.BytesSent, sc, step, kind)
			}
			if k.all.BytesReceived > 0 {
				counter(d.recv, k.all.BytesReceived, sc, step, kind)
			}
		}
	}
	for _, sc := range s.scenarios {
		add(prometheus.NewConstMetric(d.vus, prometheus.GaugeValue, float64(sc.vus), label(sc.name)))
	}
	for _, g := range s.gauges {
		if g.Last.N == 0 {
			continue
		}
		switch g.Name {
		case loadgen.GaugeCPU:
			add(prometheus.NewConstMetric(d.genCPU, prometheus.GaugeValue, g.Last.Mean()))
		case loadgen.GaugeGoroutines:
			add(prometheus.NewConstMetric(d.genGoroutines, prometheus.GaugeValue, g.Last.Mean()))
		case loadgen.GaugeHeap:
			add(prometheus.NewConstMetric(d.genHeap, prometheus.GaugeValue, g.Last.Mean()))
		default:
			add(prometheus.NewConstMetric(d.gauge, prometheus.GaugeValue, g.Last.Mean(), label(g.Name)))
		}
	}
	add(prometheus.NewConstMetric(d.elapsed, prometheus.GaugeValue, s.elapsed.Seconds()))
	finished := 0.0
	if s.final {
		finished = 1
	}
	add(prometheus.NewConstMetric(d.finished, prometheus.GaugeValue, finished))
	add(prometheus.NewConstMetric(d.report, prometheus.CounterValue, float64(reports)))
	return out
}

// label makes the name s a label value: valid UTF-8, and distinct for
// distinct names (replacing bad bytes with U+FFFD made "step\xff" and
// "step\xfe" one label, and every scrape fail). Each byte that is not
// UTF-8 is written \xHH, as Go quotes it; so that a name's own text
// cannot read as such an escape, a backslash before an x, another
// backslash or such a byte is doubled. The rest is kept as it is.
func label(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, `\`) {
		return s
	}
	const hex = "0123456789abcdef"
	invalid := func(i int) bool { // s[i] is a byte that is not UTF-8
		r, n := utf8.DecodeRuneInString(s[i:])
		return r == utf8.RuneError && n == 1
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		_, n := utf8.DecodeRuneInString(s[i:])
		switch c := s[i]; {
		case invalid(i):
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		case c == '\\' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == '\\' || invalid(i+1)):
			b = append(b, '\\', '\\')
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}
