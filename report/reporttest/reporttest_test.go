package reporttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/perf/benchfmt"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/compare"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a testing.TB that keeps what the helpers report.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()           {}
func (r *recorder) Error(args ...any) { r.errs = append(r.errs, fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// shop runs 2 s of an open scenario, with one VU for 50 arrivals a second
// of 30 ms (so that some are dropped), whose step fails one request in ten
// with a 503, on a fake clock.
func shop(t *testing.T) *loadgen.Result {
	var res *loadgen.Result
	synctest.Test(t, func(t *testing.T) {
		key := metrics.Key{Scenario: "shop", Step: "pay", Kind: metrics.KindStep}
		var err error
		res, err = loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{{
			Name: "shop", Executor: loadgen.ConstantRate{Rate: 50, Duration: 2 * time.Second, MaxVUs: 1},
			Setup: func(ctx context.Context, env *loadgen.Env) (loadgen.Instance, error) {
				h := env.Recorder.Handle(key)
				return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					time.Sleep(30 * time.Millisecond)
					if it.Number%10 == 9 {
						it.Shard.Record(h, time.Now(), 30*time.Millisecond, metrics.HTTP5xx)
						return metrics.WithOutcome(errors.New("POST /pay: status 503"), metrics.HTTP5xx)
					}
					it.Shard.Record(h, time.Now(), 30*time.Millisecond, metrics.OK)
					return nil
				}}, nil
			},
		}}})
		require.NoError(t, err)
	})
	return res
}

// TestRequireExplainsWhy: a failing Require reports, once, the verdicts,
// the rows involved, the errors with example messages and the drops.
func TestRequireExplainsWhy(t *testing.T) {
	res := shop(t)
	ok := &recorder{TB: t}
	assert.True(t, Require(ok, res, report.MustParseThresholds("pay: p95<1s", "pay: error_rate<20%")...))
	assert.Empty(t, ok.errs)
	bad := &recorder{TB: t}
	assert.False(t, Require(bad, res, report.MustParseThresholds("pay: p95<10ms", "error_rate<1%", "pay: p50<1s", "typo: count>0")...))
	require.Len(t, bad.errs, 1, "one report, not one per threshold")
	msg := bad.errs[0]
	for _, want := range []string{
		"pay: p95<10ms", "30.0ms", "FAIL",
		"error_rate<1%", "10.00%",
		"pay: p50<1s", "pass", // the table lists passing ones too
		`FAIL: selector "typo" matches nothing`,
		"the rows they look at", "shop/pay ", // the figures of the rows involved
		"errors by class", "http_5xx",
		"shop http_5xx: POST /pay: status 503", // example messages
		"dropped",                              // one VU cannot hold 50/s of 30 ms
	} {
		assert.Contains(t, msg, want)
	}
	assert.Equal(t, 1, strings.Count(msg, "thresholds:"), "the table is printed once")
}

func TestRequireNoRegression(t *testing.T) {
	base, cand := []*loadgen.Result{shop(t)}, []*loadgen.Result{shop(t)}
	c, err := compare.Compare(base, cand)
	require.NoError(t, err)
	ok := &recorder{TB: t}
	assert.True(t, RequireNoRegression(ok, c, compare.Budget{Metric: report.Quantile(0.95), Max: 0.1}))
	bad := &recorder{TB: t}
	assert.False(t, RequireNoRegression(bad, c, compare.Budget{Selector: "nope", Metric: report.Quantile(0.95), Max: 0.1}))
	require.Len(t, bad.errs, 1)
	assert.Contains(t, bad.errs[0], "budgets that could not be checked")
}

// BenchmarkChild is run by TestBenchmarkOutput in a child process of this
// test binary; it does nothing in a normal run.
func BenchmarkChild(b *testing.B) {
	if os.Getenv("STAMPEDE_BENCHMARK_CHILD") != "1" {
		b.Skip("run by TestBenchmarkOutput")
	}
	Benchmark(b, &loadgen.Plan{Scenarios: []loadgen.Scenario{
		{
			Name: "ok", Executor: loadgen.PerVUIterations{VUs: 1, Iterations: 5},
			Iteration: func(context.Context, *loadgen.Iteration) error { return nil },
		},
		{
			Name: "down", Executor: loadgen.ConstantRate{Rate: 50, Duration: 100 * time.Millisecond, PreAllocatedVUs: 2, MaxVUs: 2},
			Iteration: func(context.Context, *loadgen.Iteration) error {
				return metrics.WithOutcome(errors.New("status 503"), metrics.HTTP5xx)
			},
		},
	}})
}

// TestBenchmarkOutput runs BenchmarkChild in a child process and reads its
// output as benchstat would: one result per row, named as in
// report.WriteBenchmark; a row with no successful operation reports no
// latency (not 0, which benchstat would read as an improvement); the
// schedule lag reports latencies only.
func TestBenchmarkOutput(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkChild$", "-test.benchtime=1x", "-test.cpu=1")
	cmd.Env = append(os.Environ(), "STAMPEDE_BENCHMARK_CHILD=1")
	out, err := cmd.Output()
	require.NoError(t, err, "%s", out)
	r := benchfmt.NewReader(bytes.NewReader(out), "child")
	got := map[string]*benchfmt.Result{}
	for r.Scan() {
		if rec, ok := r.Result().(*benchfmt.Result); ok {
			got[string(rec.Name.Full())] = rec.Clone()
		}
	}
	require.NoError(t, r.Err())
	var names []string
	for n := range got {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{
		"Child/scenario=ok/step=iteration", "Child/scenario=down/step=iteration", "Child/scenario=down/step=schedule_lag",
	}, names, "%s", out)
	has := func(name, unit string) bool {
		rec := got[name]
		if rec == nil {
			return false
		}
		_, ok := rec.Value(unit)
		return ok
	}
	assert.True(t, has("Child/scenario=ok/step=iteration", "sec/op"), "ns/op is the mean latency")
	down := "Child/scenario=down/step=iteration"
	assert.False(t, has(down, "sec/op"), "no successes: no latency, not 0")
	assert.False(t, has(down, "p95-sec"))
	if rec := got[down]; assert.NotNil(t, rec) {
		v, _ := rec.Value("error_rate")
		assert.Equal(t, 1.0, v)
		assert.True(t, has(down, "dropped_share"), "an open scenario's iterations carry dropped_share")
	}
	lag := "Child/scenario=down/step=schedule_lag"
	assert.True(t, has(lag, "p95-sec"))
	assert.False(t, has(lag, "ops/s"), "the lag's count is its iterations'")
	assert.False(t, has(lag, "errors"))
}

// TestRequireTrustedGenerator: a run whose generator waited 20 ms for a
// processor on every wake-up, against iterations of 30 ms, fails with the
// warning and the generator's health; the same run on the fake clock,
// which records no generator, passes.
func TestRequireTrustedGenerator(t *testing.T) {
	res := shop(t)
	ok := &recorder{TB: t}
	assert.True(t, RequireTrustedGenerator(ok, res))
	assert.Empty(t, ok.errs)

	slow := *res
	slow.Metrics = res.Metrics.Clone()
	slow.Generators = []loadgen.Generator{{Procs: 2, CPUs: 2}}
	var sched metrics.Stats
	for range 100 {
		sched.Latency.Record(20 * time.Millisecond)
	}
	sched.Outcomes[metrics.OK] = 100
	slow.Metrics.Series = append(slow.Metrics.Series, metrics.Series{Key: metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}, Total: sched})
	bad := &recorder{TB: t}
	assert.False(t, RequireTrustedGenerator(bad, &slow))
	require.Len(t, bad.errs, 1)
	assert.Contains(t, bad.errs[0], `the generator may have made the numbers of scenario "shop"`)
	assert.Contains(t, bad.errs[0], "Go scheduler latency: p50 20.0ms", "the generator's health")
}
