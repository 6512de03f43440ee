package stampedeprom_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	stampedeprom "github.com/stampede-go/stampede/prometheus"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    stampedeprom.Options
		errs []string
	}{
		{name: "zero"},
		{name: "custom", o: stampedeprom.Options{Buckets: []time.Duration{time.Millisecond, time.Second}, ConstLabels: map[string]string{"run": "a"}}},
		{name: "bad buckets", o: stampedeprom.Options{Buckets: []time.Duration{0, time.Second, time.Second}}, errs: []string{
			"Options.Buckets[0] must be > 0, got 0s",
			"Options.Buckets must be strictly increasing, got 1s after 1s at index 2",
		}},
		{name: "bad labels", o: stampedeprom.Options{ConstLabels: map[string]string{"scenario": "x", "le": "1", "": "y"}}, errs: []string{
			`Options.ConstLabels must not set the exporter's own label "scenario"`,
			`Options.ConstLabels must not set the exporter's own label "le"`,
			`Options.ConstLabels[""]`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			_, newErr := stampedeprom.New(tc.o)
			if len(tc.errs) == 0 {
				assert.NoError(t, err)
				assert.NoError(t, newErr)
				return
			}
			require.Error(t, err)
			assert.Equal(t, err, newErr, "New reports what Validate does")
			for _, want := range tc.errs {
				assert.Contains(t, err.Error(), want)
			}
			assert.Len(t, strings.Split(err.Error(), "\n"), len(tc.errs), "every problem, once: %v", err)
		})
	}
}

func TestCollectBeforeFirstReport(t *testing.T) {
	e := stampedeprom.MustNew(stampedeprom.Options{})
	assert.Equal(t, 0, testutil.CollectAndCount(e))
}

func TestCollect(t *testing.T) {
	e := stampedeprom.MustNew(stampedeprom.Options{ConstLabels: map[string]string{"run": "r1"}})
	e.OnInterval(fixture(true))
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(e))

	const want = `
# HELP stampede_active_vus Live virtual users at the end of the latest interval.
# TYPE stampede_active_vus gauge
stampede_active_vus{run="r1",scenario="shop"} 3
# HELP stampede_dropped_iterations_total Open-model arrivals that found no free VU and never started.
# TYPE stampede_dropped_iterations_total counter
stampede_dropped_iterations_total{run="r1",scenario="shop"} 2
# HELP stampede_received_bytes_total Payload bytes received by steps; only keys that received any.
# TYPE stampede_received_bytes_total counter
stampede_received_bytes_total{kind="http_ttfb",run="r1",scenario="shop",step="checkout"} 12000
# HELP stampede_sent_bytes_total Payload bytes sent by steps; only keys that sent any.
# TYPE stampede_sent_bytes_total counter
stampede_sent_bytes_total{kind="http_ttfb",run="r1",scenario="shop",step="checkout"} 400
# HELP stampede_run_elapsed_seconds Time since the run started, as of the latest interval.
# TYPE stampede_run_elapsed_seconds gauge
stampede_run_elapsed_seconds{run="r1"} 2
# HELP stampede_run_finished 1 once the run has ended and its final figures are shown, else 0.
# TYPE stampede_run_finished gauge
stampede_run_finished{run="r1"} 1
# HELP stampede_exporter_reports_total Interval reports the exporter has received from the engine.
# TYPE stampede_exporter_reports_total counter
stampede_exporter_reports_total{run="r1"} 1
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"stampede_active_vus", "stampede_dropped_iterations_total", "stampede_received_bytes_total",
		"stampede_sent_bytes_total", "stampede_run_elapsed_seconds", "stampede_run_finished",
		"stampede_exporter_reports_total"))

	mfs, err := reg.Gather()
	require.NoError(t, err)
	byName := map[string]bool{}
	for _, mf := range mfs {
		byName[mf.GetName()] = true
	}
	assert.Equal(t, describedNames(t, e), byName, "the fixture shows every described metric, and nothing else")

	families := map[string]int{}
	byFamily := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		families[mf.GetName()] = len(mf.GetMetric())
		byFamily[mf.GetName()] = mf
	}
	assert.Equal(t, 2*(int(metrics.NumOutcomes)-1), families["stampede_operations_total"], "2 keys × every outcome but dropped")
	assert.Equal(t, int(metrics.NumOutcomes)-1, families["stampede_iterations_total"], "every outcome but dropped")
	assert.Equal(t, 2, families["stampede_operation_duration_seconds"], "the step and its phase")

	count := func(name string, l map[string]string) float64 {
		for _, mf := range mfs {
			if mf.GetName() == name {
				return sum(map[string]*dto.MetricFamily{name: mf}, name, l)
			}
		}
		return -1
	}
	assert.Equal(t, 3.0, count("stampede_operations_total", labels("kind", "step", "outcome", "ok")))
	assert.Equal(t, 1.0, count("stampede_operations_total", labels("kind", "step", "outcome", "http_5xx")))
	assert.Equal(t, 0.0, count("stampede_operations_total", labels("kind", "step", "outcome", "timeout")), "zeros are exported")
	assert.Equal(t, 4.0, count("stampede_operations_total", labels("kind", "http_ttfb")))
	assert.Equal(t, 3.0, count("stampede_iterations_total", labels("outcome", "ok")))
	assert.Equal(t, 4.0, count("stampede_iterations_total", nil), "dropped arrivals never started")
	assert.Equal(t, 1, families["stampede_failed_operation_duration_seconds"], "the step only")
	assert.Equal(t, 4, families["stampede_responses_total"], "200 and 503, FINE and GONE")
	assert.Equal(t, 1.0, count("stampede_responses_total", labels("kind", "step", "code", "503")))
	assert.Equal(t, 1.0, count("stampede_responses_total", labels("scenario", "shop", "step", "lookup", "kind", "tproto", "code", "GONE")), "a protocol's code by its name, on its kind")
	assert.Equal(t, 64.0, count("stampede_gauge", labels("name", "heap MiB")), "the mean of the interval's samples")
	assert.Equal(t, 1, families["stampede_gauge"], "the generator's gauges have names of their own")
	assert.Equal(t, 0.25, count("stampede_generator_cpu_share", nil))
	assert.Equal(t, 40.0, count("stampede_generator_goroutines", nil))
	assert.Equal(t, float64(1<<20), count("stampede_generator_heap_bytes", nil))
	sched := find(byFamily, "stampede_generator_sched_latency_seconds", nil).GetHistogram()
	assert.Equal(t, uint64(3), sched.GetSampleCount())
	assert.InDelta(t, 0.000303, sched.GetSampleSum(), 1e-12)
	assert.Equal(t, uint64(1), find(byFamily, "stampede_generator_gc_pause_seconds", nil).GetHistogram().GetSampleCount())
	failed := find(byFamily, "stampede_failed_operation_duration_seconds", labels("kind", "step")).GetHistogram()
	assert.Equal(t, uint64(1), failed.GetSampleCount())
	assert.InDelta(t, 0.050, failed.GetSampleSum(), 1e-12, "the 50 ms failure")

	for _, mf := range mfs {
		if mf.GetName() != "stampede_operation_duration_seconds" {
			continue
		}
		h := find(map[string]*dto.MetricFamily{mf.GetName(): mf}, mf.GetName(), labels("kind", "step")).GetHistogram()
		assert.Equal(t, uint64(3), h.GetSampleCount(), "successes only")
		assert.InDelta(t, 0.009, h.GetSampleSum(), 1e-12, "exact sum of 2+3+4 ms")
		assert.Equal(t, int32(stampedeprom.NativeSchema), h.GetSchema())
		assert.NotEmpty(t, h.GetPositiveSpan(), "native buckets")
		assert.Len(t, h.GetBucket(), len(stampedeprom.DefaultBuckets()), "classic buckets")
	}
}

func TestCollectSharesOneConversionPerReport(t *testing.T) {
	e := stampedeprom.MustNew(stampedeprom.Options{})
	e.OnInterval(fixture(false))
	a, b := testutil.CollectAndCount(e), testutil.CollectAndCount(e)
	assert.Equal(t, a, b)
	e.OnInterval(nil) // ignored
	assert.Equal(t, a, testutil.CollectAndCount(e))
	assert.Equal(t, 0.0, gaugeValue(t, e, "stampede_run_finished"))
	e.OnInterval(fixture(true))
	assert.Equal(t, 1.0, gaugeValue(t, e, "stampede_run_finished"), "a new report is converted anew")
}

func gaugeValue(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(c))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestConcurrentReportsAndScrapes runs the engine's side and several
// scrapers at once; the race detector checks the locking.
func TestConcurrentReportsAndScrapes(t *testing.T) {
	e := stampedeprom.MustNew(stampedeprom.Options{})
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(e))
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 200 {
			e.OnInterval(fixture(i == 199))
		}
	})
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1.0, gaugeValue(t, e, "stampede_run_finished"))
}

func TestChain(t *testing.T) {
	var calls []string
	f := func(name string) func(*loadgen.Progress) {
		return func(*loadgen.Progress) { calls = append(calls, name) }
	}
	assert.Nil(t, stampedeprom.Chain())
	assert.Nil(t, stampedeprom.Chain(nil, nil), "nothing to call: the engine may skip its reports")
	stampedeprom.Chain(nil, f("a"))(nil)
	assert.Equal(t, []string{"a"}, calls)
	calls = nil
	stampedeprom.Chain(f("a"), nil, f("b"))(nil)
	assert.Equal(t, []string{"a", "b"}, calls)

	e := stampedeprom.MustNew(stampedeprom.Options{})
	calls = nil
	plan := &loadgen.Plan{OnInterval: f("user")}
	e.Attach(plan)
	plan.OnInterval(fixture(true))
	assert.Equal(t, []string{"user"}, calls, "the plan's callback still runs")
	assert.Equal(t, 1.0, gaugeValue(t, e, "stampede_run_finished"), "and the exporter sees the report")
}

func TestServeStopsWithContext(t *testing.T) {
	e := stampedeprom.MustNew(stampedeprom.Options{})
	e.OnInterval(fixture(true))
	ctx, cancel := context.WithCancel(t.Context())
	addr, err := e.Serve(ctx, "")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(addr, "127.0.0.1:"), "loopback by default, got %s", addr)
	mfs := scrape(t, addr, false)
	assert.Contains(t, mfs, "stampede_run_finished")
	cancel()
	require.NoError(t, e.Wait())
	_, err = client.Get("http://" + addr + "/metrics")
	assert.Error(t, err, "the server is gone once ctx is done")

	_, err = e.Serve(t.Context(), "256.0.0.1:0")
	assert.ErrorContains(t, err, `stampedeprom: listening on "256.0.0.1:0"`)
}

// TestNamesThatAreNotUTF8: two steps named "step\xff" and "step\xfe" once
// had the one label "step\uFFFD", and every scrape failed (500: duplicate
// label sets). Each name keeps a label of its own, in both formats.
func TestNamesThatAreNotUTF8(t *testing.T) {
	var st metrics.Stats
	st.Latency.Record(time.Millisecond)
	st.Outcomes[metrics.OK] = 1
	p := &loadgen.Progress{Elapsed: time.Second, Interval: 1, Final: true}
	for _, step := range []string{"step\xff", "step\xfe", `step\xff`} {
		p.Series = append(p.Series, loadgen.SeriesProgress{
			Key:         metrics.Key{Scenario: "shop\xff", Step: step, Kind: metrics.KindStep},
			KeyProgress: metrics.KeyProgress{Last: st, Total: st, All: st},
		})
	}
	p.Scenarios = []loadgen.ScenarioProgress{{Name: "shop\xff", VUs: 2}}
	for i, name := range []string{"heap\xff", "heap\xfe"} {
		v := float64(i + 1)
		p.Gauges = append(p.Gauges, loadgen.GaugeProgress{Name: name, Last: metrics.GaugePoint{Min: v, Max: v, Sum: v, N: 1}})
	}
	e := stampedeprom.MustNew(stampedeprom.Options{})
	e.OnInterval(p)
	addr := serve(t, e)
	for _, proto := range []bool{false, true} {
		mfs := scrape(t, addr, proto) // fails unless 200
		assert.Len(t, mfs["stampede_operation_duration_seconds"].GetMetric(), 3, "three steps, three series (proto %v)", proto)
		for _, step := range []string{`step\xff`, `step\xfe`, `step\\xff`} {
			ok := labels("scenario", `shop\xff`, "step", step, "kind", "step", "outcome", "ok")
			assert.Equal(t, 1.0, sum(mfs, "stampede_operations_total", ok), "%s (proto %v)", step, proto)
		}
		assert.Equal(t, 2.0, sum(mfs, "stampede_active_vus", labels("scenario", `shop\xff`)))
		assert.Equal(t, 1.0, sum(mfs, "stampede_gauge", labels("name", `heap\xff`)))
		assert.Equal(t, 2.0, sum(mfs, "stampede_gauge", labels("name", `heap\xfe`)))
	}
}
