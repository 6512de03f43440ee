package stampedeprom_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	stampedeprom "github.com/stampede-go/stampede/prometheus"
)

// TestPrometheusServer has a real Prometheus (the Debian package's binary)
// scrape two exporters every second, each beside one of the two segments
// of a 3 s open-model run, as it would scrape every pod of a distributed
// run, during the run and after it; then asks Prometheus for the final
// counts through its HTTP API, summed over both, and compares them with
// the merged result: counters and the summed native histograms' counts
// exactly, quantiles within one native bucket. The server runs with native
// histograms on, so it reads the protobuf exposition and the native
// buckets too.
func TestPrometheusServer(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("no prometheus binary on PATH (on Debian: apt-get install prometheus); skipping the end-to-end test")
	}
	if testing.Short() {
		t.Skip("-short: skipping the end-to-end test with a Prometheus server")
	}
	deadline := time.Now().Add(30 * time.Second) // the whole test, generously

	key := metrics.Key{Scenario: "api", Step: "get", Kind: metrics.KindStep}
	plan := func(seg loadgen.Segment) *loadgen.Plan {
		var h metrics.Handle
		return &loadgen.Plan{Segment: seg, Scenarios: []loadgen.Scenario{{
			Name:     "api",
			Executor: loadgen.ConstantRate{Rate: 100, Duration: 3 * time.Second, PreAllocatedVUs: 4, MaxVUs: 20},
			Setup: func(_ context.Context, env *loadgen.Env) (loadgen.Instance, error) {
				h = env.Recorder.Handle(key)
				return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					it.Shard.Record(h, time.Now(), time.Duration(1+it.Number%7)*time.Millisecond, metrics.OK)
					return nil
				}}, nil
			},
		}}}
	}
	plans := []*loadgen.Plan{plan(loadgen.Segment{Index: 0, Count: 2}), plan(loadgen.Segment{Index: 1, Count: 2})}
	var targets []string
	for _, p := range plans {
		e := stampedeprom.MustNew(stampedeprom.Options{})
		e.Attach(p)
		targets = append(targets, serve(t, e))
	}

	promAddr := freeLoopbackAddr(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(config, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: stampede
    static_configs:
      - targets: [%q, %q]
`, targets[0], targets[1]), 0o644))
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	defer logFile.Close()
	cmd := exec.Command(bin,
		"--config.file="+config,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr,
		"--enable-feature=native-histograms",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // "signal: killed", as expected
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("prometheus log:\n%s", b)
			}
		}
	}()

	api := "http://" + promAddr
	waitFor(t, deadline, "Prometheus to be ready", func() (bool, error) {
		resp, err := client.Get(api + "/-/ready")
		if err != nil {
			return false, nil // not listening yet
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})

	// Prometheus applies new targets within 5 s of starting; wait for its
	// first scrape of both, so that it sees the run as it goes.
	waitFor(t, deadline, "Prometheus's first scrape", func() (bool, error) {
		v, ok, err := query(t.Context(), api, `count(up{job="stampede"} == 1)`)
		return ok && v == 2, err
	})

	// The two segments start together, as a distributed run's do.
	startAt := time.Now().Add(200 * time.Millisecond)
	parts := make([]*loadgen.Result, len(plans))
	errs := make([]error, len(plans))
	var wg sync.WaitGroup
	for i, p := range plans {
		p.StartAt = startAt
		wg.Go(func() { parts[i], errs[i] = loadgen.Run(t.Context(), p) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	res, err := loadgen.Merge(parts...)
	require.NoError(t, err)
	want := res.Metrics.SeriesOf(key).Total.Count()
	iters := res.Iterations("api")
	require.Positive(t, want)

	// The exporter keeps serving the final figures; wait until Prometheus
	// has scraped them.
	var got float64
	waitFor(t, deadline, "Prometheus to scrape the final figures", func() (bool, error) {
		v, ok, err := query(t.Context(), api, `count(stampede_run_finished{job="stampede"} == 1)`)
		if err != nil || !ok || v != 2 {
			return false, err
		}
		got, _, err = query(t.Context(), api, `sum(stampede_operations_total{scenario="api",step="get",kind="step"})`)
		return true, err
	})
	assert.Equal(t, float64(want), got, "the request counters' final values add up to the merged Result's count")

	v, _, err := query(t.Context(), api, `sum(stampede_iterations_total{scenario="api"})`)
	require.NoError(t, err)
	assert.Equal(t, float64(iters.Count()), v, "iterations")
	v, _, err = query(t.Context(), api, `sum(stampede_dropped_iterations_total{scenario="api"})`)
	require.NoError(t, err)
	assert.Equal(t, float64(iters.Outcomes[metrics.Dropped]), v, "dropped iterations")
	// Native histograms made it through, and summed over the exporters
	// they count every request.
	v, ok, err := query(t.Context(), api, `histogram_count(sum(stampede_operation_duration_seconds{scenario="api",step="get"}))`)
	require.NoError(t, err)
	assert.True(t, ok, "a native histogram series exists")
	assert.Equal(t, float64(want), v, "summed native histograms' count")
	// Their quantiles lie within one native bucket of the merged HDR
	// histogram's: latencies are 1..7 ms evenly, schema 3 buckets are
	// 2^(1/8) = 9.05 % wide, and Prometheus interpolates within one.
	hdr := res.Metrics.SeriesOf(key).Total
	for _, q := range []float64{0.5, 0.99} {
		v, _, err = query(t.Context(), api, fmt.Sprintf(`histogram_quantile(%g, sum(stampede_operation_duration_seconds{scenario="api",step="get"}))`, q))
		require.NoError(t, err)
		exact := hdr.Quantile(q).Seconds()
		assert.InEpsilon(t, exact, v, 0.0905, "p%g: %.5f s from the summed native buckets, %.5f s merged", 100*q, v, exact)
	}

	// Every query of the Grafana dashboard is valid PromQL for this server;
	// its native p99 latency query has data.
	expand := strings.NewReplacer("$scenario", ".*", "$__rate_interval", "1m")
	withData := 0
	for _, q := range dashboardQueries(t) {
		if strings.HasPrefix(q, "label_values(") {
			continue // Grafana's own function, for the variable's values
		}
		n, err := queryCount(t.Context(), api, expand.Replace(q))
		assert.NoError(t, err, "dashboard query %s", q)
		if n > 0 {
			withData++
		}
		if strings.HasPrefix(q, "histogram_quantile(0.99, sum by (scenario, step) (rate(stampede_operation_duration_seconds{") {
			assert.Positive(t, n, "native p99 latency has data: %s", q)
		}
	}
	t.Logf("%d dashboard queries, %d with data", len(dashboardQueries(t)), withData)
}

// freeLoopbackAddr returns a loopback address whose port was free a moment
// ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// waitFor polls cond every 200 ms until it holds, fails or the deadline
// passes.
func waitFor(t *testing.T, deadline time.Time, what string, cond func() (bool, error)) {
	t.Helper()
	for {
		ok, err := cond()
		require.NoError(t, err, "waiting for %s", what)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
}

// query runs an instant PromQL query that returns at most one sample and
// returns its value; ok is false when it returns none.
func query(ctx context.Context, api, q string) (v float64, ok bool, err error) {
	vals, err := queryAll(ctx, api, q)
	switch {
	case err != nil:
		return 0, false, err
	case len(vals) > 1:
		return 0, false, fmt.Errorf("query %q: %d samples, want at most 1", q, len(vals))
	case len(vals) == 0:
		return 0, false, nil
	}
	return vals[0], true, nil
}

// queryCount runs an instant PromQL query and returns how many samples
// it returned.
func queryCount(ctx context.Context, api, q string) (int, error) {
	vals, err := queryAll(ctx, api, q)
	return len(vals), err
}

// queryAll runs an instant PromQL query and returns its samples' values.
func queryAll(ctx context.Context, api, q string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, body.Error)
	}
	var vals []float64
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %v: %w", q, r.Value[1], err)
		}
		vals = append(vals, v)
	}
	return vals, nil
}
