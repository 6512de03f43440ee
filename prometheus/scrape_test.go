package stampedeprom_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	stampedeprom "github.com/stampede-go/stampede/prometheus"
)

// TestScrapeMatchesResult runs a short closed-model plan with the exporter
// attached, scrapes it over loopback while the run goes on and after it,
// and checks that the final figures equal the Result's totals (the plan has
// no warm-up, so the Result's totals cover the whole run).
func TestScrapeMatchesResult(t *testing.T) {
	const vus, perVU = 4, 50
	key := metrics.Key{Scenario: "shop", Step: "browse", Kind: metrics.KindStep}
	var h metrics.Handle
	plan := &loadgen.Plan{
		Interval: 20 * time.Millisecond,
		Scenarios: []loadgen.Scenario{{
			Name:     "shop",
			Executor: loadgen.PerVUIterations{VUs: vus, Iterations: perVU, MaxDuration: 20 * time.Second},
			Setup: func(_ context.Context, env *loadgen.Env) (loadgen.Instance, error) {
				h = env.Recorder.Handle(key)
				return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					time.Sleep(time.Millisecond) // so that the run spans a few intervals
					// Latencies 1.3, 2.3, 3.3, 4.3 and 5.3 ms, away from bucket bounds.
					d := time.Duration(1+it.Number%5)*time.Millisecond + 300*time.Microsecond
					if it.Number%10 == 9 {
						it.Shard.Record(h, time.Now(), d, metrics.HTTP5xx)
						return metrics.WithOutcome(errors.New("HTTP 503"), metrics.HTTP5xx)
					}
					it.Shard.Record(h, time.Now(), d, metrics.OK)
					return nil
				}}, nil
			},
		}},
	}
	// A scrape in each report but the last, after the exporter's (Attach
	// puts the exporter first): what a scraper sees part-way.
	var addr string
	var partWay []float64
	plan.OnInterval = func(p *loadgen.Progress) {
		if p.Final {
			return
		}
		mfs, err := scrapeErr(context.Background(), addr, false)
		if err != nil {
			t.Error(err)
			return
		}
		partWay = append(partWay, sum(mfs, "stampede_operations_total", nil))
	}
	e := stampedeprom.MustNew(stampedeprom.Options{})
	e.Attach(plan)
	addr = serve(t, e)

	// Scrape during the run: counters never go down.
	done := make(chan struct{})
	var wg sync.WaitGroup
	var seen []float64
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			mfs, err := scrapeErr(context.Background(), addr, false)
			if err != nil {
				t.Error(err)
				return
			}
			seen = append(seen, sum(mfs, "stampede_operations_total", nil))
		}
	})
	res, err := loadgen.Run(t.Context(), plan)
	close(done)
	wg.Wait()
	require.NoError(t, err)
	assert.IsNonDecreasing(t, seen, "operations_total during the run")
	// The run lasts at least 50 ms (50 sleeps of 1 ms per VU), so the
	// reports at 20 and 40 ms show it part-way: at most 4 VUs × 40
	// iterations of 1 ms or more, and some done.
	assert.True(t, slices.ContainsFunc(partWay, func(v float64) bool { return v > 0 && v < vus*perVU }),
		"a scrape during the run saw it part-way: %v", partWay)

	total := res.Metrics.SeriesOf(key).Total
	iters := res.Iterations("shop")
	require.Equal(t, int64(vus*perVU), total.Count())

	mfs := scrape(t, addr, false)
	step := labels("scenario", "shop", "step", "browse", "kind", "step")
	for o := range metrics.NumOutcomes {
		if o == metrics.Dropped {
			continue
		}
		want := labels("scenario", "shop", "step", "browse", "kind", "step", "outcome", o.String())
		assert.Equal(t, float64(total.Outcomes[o]), sum(mfs, "stampede_operations_total", want), "operations %s", o)
		want = labels("scenario", "shop", "outcome", o.String())
		assert.Equal(t, float64(iters.Outcomes[o]), sum(mfs, "stampede_iterations_total", want), "iterations %s", o)
	}
	assert.Equal(t, 180.0, sum(mfs, "stampede_operations_total", labels("outcome", "ok")))
	assert.Equal(t, 20.0, sum(mfs, "stampede_operations_total", labels("outcome", "http_5xx")))
	assert.Equal(t, float64(iters.Count()), sum(mfs, "stampede_iterations_total", nil))
	assert.Equal(t, 0.0, sum(mfs, "stampede_dropped_iterations_total", nil))
	assert.Equal(t, 0.0, sum(mfs, "stampede_active_vus", labels("scenario", "shop")), "every VU has returned")
	assert.Equal(t, 1.0, sum(mfs, "stampede_run_finished", nil))

	m := find(mfs, "stampede_operation_duration_seconds", step)
	require.NotNil(t, m)
	hist := m.GetHistogram()
	assert.Equal(t, uint64(total.Latency.Count()), hist.GetSampleCount())
	assert.Equal(t, total.Latency.Sum.Seconds(), hist.GetSampleSum(), "the exact sum")
	// Successful operations only: the 20 failures (5.3 ms) are apart.
	want := map[float64]uint64{0.0005: 0, 0.001: 0, 0.0025: 80, 0.005: 160, 0.01: 180, 60: 180}
	got := map[float64]uint64{}
	for _, b := range hist.GetBucket() {
		if _, ok := want[b.GetUpperBound()]; ok {
			got[b.GetUpperBound()] = b.GetCumulativeCount()
		}
	}
	assert.Equal(t, want, got, "classic buckets")
	it := find(mfs, "stampede_iteration_duration_seconds", labels("scenario", "shop")).GetHistogram()
	assert.Equal(t, uint64(iters.Latency.Count()), it.GetSampleCount())

	// The protobuf exposition carries the native buckets beside them.
	nh := find(scrape(t, addr, true), "stampede_operation_duration_seconds", step).GetHistogram()
	require.NotNil(t, nh)
	assert.Equal(t, int32(stampedeprom.NativeSchema), nh.GetSchema())
	var n, c int64
	for _, d := range nh.GetPositiveDelta() {
		c += d
		n += c
	}
	assert.Equal(t, total.Latency.Count(), n, "native buckets hold every value")
	assert.Len(t, nh.GetBucket(), len(stampedeprom.DefaultBuckets()))
}
