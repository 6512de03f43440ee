package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/perf/benchfmt"

	goldenfile "github.com/stampede-go/stampede/internal/golden"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

var (
	updateFixtures = flag.Bool("update-fixtures", false, "rewrite ../testdata/results/v2-fixed.json from the fixed plan (when the result format changes)")
)

// fixedFile is the stored result that the renderers' golden files are made
// from: today's format, written by runFixed.
const fixedFile = "../testdata/results/v2-fixed.json"

// fixedResult reads the stored result of the fixed plan (see runFixed).
func fixedResult(t *testing.T) *loadgen.Result {
	t.Helper()
	if *updateFixtures {
		res := runFixed(t)
		require.NoError(t, res.SaveJSON(fixedFile))
	}
	res, err := loadgen.LoadResult(fixedFile)
	require.NoError(t, err)
	return res
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(goldenfile.NoOrphans(m)) }

// runFixed runs a small deterministic plan on a fake clock: one VU per
// scenario, latencies that depend only on the iteration number, and no
// recording at an interval boundary (where goroutine order would decide the
// interval): step latencies carry odd microseconds, and the open scenario
// starts 10 ms in.
func runFixed(t *testing.T) *loadgen.Result {
	t.Helper()
	var res *loadgen.Result
	synctest.Test(t, func(t *testing.T) {
		var keys struct{ list, apply metrics.Handle }
		plan := &loadgen.Plan{
			Name:   "sign-up rush",
			Warmup: time.Second,
			Scenarios: []loadgen.Scenario{
				{
					Name:     "signup",
					Executor: loadgen.PerVUIterations{VUs: 1, Iterations: 40},
					Setup: func(ctx context.Context, env *loadgen.Env) (loadgen.Instance, error) {
						keys.list = env.Recorder.Handle(metrics.Key{Scenario: "signup", Step: "list", Kind: metrics.KindStep})
						keys.apply = env.Recorder.Handle(metrics.Key{Scenario: "signup", Step: "apply", Kind: metrics.KindStep})
						return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
							d := time.Duration(10+it.Number%7)*time.Millisecond + 37*time.Microsecond
							time.Sleep(d)
							it.Shard.Record(keys.list, time.Now(), d, metrics.OK)
							d2 := time.Duration(50+3*(it.Number%11))*time.Millisecond + 41*time.Microsecond
							time.Sleep(d2)
							if it.Number%10 == 9 {
								it.Shard.Record(keys.apply, time.Now(), d2, metrics.HTTP5xx)
								return metrics.WithOutcome(errors.New("POST /apply: status 503"), metrics.HTTP5xx)
							}
							it.Shard.Record(keys.apply, time.Now(), d2, metrics.OK)
							return nil
						}}, nil
					},
				},
				{
					Name:       "api",
					StartAfter: 10 * time.Millisecond,
					Executor:   loadgen.ConstantRate{Rate: 20, Duration: 3 * time.Second, MaxVUs: 1},
					Iteration:  func(ctx context.Context, it *loadgen.Iteration) error { time.Sleep(20 * time.Millisecond); return nil },
				},
			},
			Events: []loadgen.Event{loadgen.At(1500*time.Millisecond, "fail over cache", nil)},
			Gauges: []loadgen.Gauge{{Name: "heap-mb", Sample: func() float64 { return 64 }}},
		}
		var err error
		res, err = loadgen.Run(t.Context(), plan)
		require.NoError(t, err)
	})
	return res
}

func golden(t *testing.T, name string, got []byte) { t.Helper(); goldenfile.Check(t, name, got) }

// load reads a stored result file of ../testdata/results.
func load(t *testing.T, name string) *loadgen.Result {
	t.Helper()
	res, err := loadgen.LoadResult(filepath.Join("..", "testdata", "results", name))
	require.NoError(t, err)
	return res
}

// TestTextAndMarkdownGolden renders every stored result file as text and
// Markdown and compares with the golden files.
func TestTextAndMarkdownGolden(t *testing.T) {
	for _, name := range []string{"v2-fixed.json", "v2-http.json", "v1-fixed.json"} {
		t.Run(name, func(t *testing.T) {
			s := Summarize(load(t, name))
			var txt, md bytes.Buffer
			require.NoError(t, s.WriteText(&txt))
			require.NoError(t, s.WriteMarkdown(&md))
			base := strings.TrimSuffix(name, ".json")
			golden(t, "summary-"+base+".golden.txt", txt.Bytes())
			golden(t, "summary-"+base+".golden.md", md.Bytes())
		})
	}
}

func TestSummaryFigures(t *testing.T) {
	s := Summarize(fixedResult(t))
	require.Len(t, s.Scenarios, 2)
	sc := s.Scenarios[0]
	assert.Equal(t, []string{"list", "apply"}, []string{sc.Steps[0].Name, sc.Steps[1].Name}, "journey order")
	assert.Equal(t, sc.Started, sc.Completed+sc.Failed+sc.Interrupted)
	apply := sc.Steps[1].Figures
	assert.Equal(t, int64(3), apply.Errors)
	assert.Equal(t, int64(3), apply.Failed.Count, "the failures' latency is kept apart")
	assert.Equal(t, apply.Count-3, apply.Latency.Count)
	assert.Equal(t, []ClassCount{{"http_5xx", 3}}, apply.ErrorsByClass)
	api := s.Scenarios[1]
	assert.True(t, api.Open)
	require.NotNil(t, api.Lag)
	// 60 arrivals, 1 s of warm-up left out: 40 measured.
	assert.Equal(t, int64(40), api.Started+api.Dropped)
	// The rate is over the load window, [1 s, 3 s): 20/s as planned, not
	// 40 over the measured window, which runs to the end of the last
	// iteration (2.076 s).
	assert.Equal(t, 2*time.Second, s.RateWindow)
	assert.Greater(t, s.Window, s.RateWindow)
	assert.InDelta(t, 20.0, api.Iteration.Rate, 1e-9)
	assert.Equal(t, 20*time.Millisecond, api.Iteration.Latency.P99)
	require.Len(t, s.Gauges, 1)
	assert.Equal(t, 64.0, s.Gauges[0].Mean)
	assert.Equal(t, "completed", s.Status())
}

// TestVersion1ResultSaysItsLatencyIncludesFailures: a result of format
// version 1 renders, with a warning that its latencies mix in failures.
func TestVersion1ResultSaysItsLatencyIncludesFailures(t *testing.T) {
	s := Summarize(load(t, "v1-fixed.json"))
	require.NotEmpty(t, s.Warnings)
	assert.Contains(t, s.Warnings[0], "format version 1")
	assert.Contains(t, s.Warnings[0], "include failures")
}

func TestBenchmarkFormatReadsBack(t *testing.T) {
	res := fixedResult(t)
	var buf bytes.Buffer
	require.NoError(t, WriteBenchmark(&buf, "signup rush", res, res))
	r := benchfmt.NewReader(&buf, "stampede.txt")
	var names []string
	var p95 []float64
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.Result:
			names = append(names, string(rec.Name.Full()))
			if strings.HasSuffix(string(rec.Name.Full()), "step=apply") {
				v, ok := rec.Value("p95-sec") // benchfmt tidies -ns units into seconds
				require.True(t, ok)
				p95 = append(p95, v)
			}
		case *benchfmt.SyntaxError:
			t.Fatal(rec)
		}
	}
	require.NoError(t, r.Err())
	assert.Contains(t, names, "signup_rush/scenario=signup/step=apply", "benchfmt drops the Benchmark prefix")
	assert.Contains(t, names, "signup_rush/scenario=api/step=iteration")
	assert.Contains(t, names, "signup_rush/scenario=api/step=schedule_lag")
	assert.Len(t, names, 2*5, "two runs × (two steps + two scenarios' iterations + the open one's schedule lag)")
	st, _, _ := RowStats(res, Row{Scenario: "signup", Step: "apply"})
	require.Len(t, p95, 2)
	assert.Equal(t, float64(st.Quantile(0.95)), p95[0]*1e9, "benchfmt tidies p95-ns into seconds")
	u := r.Units().Get("p95-ns", "better")
	require.NotNil(t, u)
	assert.Equal(t, "lower", u.Value)
	assert.Equal(t, "p95-ns", u.OrigUnit, "the unit name survives")
	assert.Equal(t, "higher", r.Units().Get("ops/s", "better").Value)
}

// TestBenchmarkFormatOfNothing: a scenario that recorded nothing (a
// result file may hold one) writes no line, where it once dereferenced a
// nil Stats; and a write error is returned, not dropped.
func TestBenchmarkFormatOfNothing(t *testing.T) {
	res, err := loadgen.ReadResult(strings.NewReader(`{"version":2,"plan":{"interval_ns":1000000000,"scenarios":[{"name":"idle"}]},"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","metrics":{"version":2,"start":"2026-01-01T00:00:00Z","interval_ns":1000000000,"metrics":[]}}`))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteBenchmark(&buf, "idle", res))
	r := benchfmt.NewReader(&buf, "idle.txt")
	for r.Scan() {
		switch rec := r.Result().(type) {
		case *benchfmt.Result:
			t.Errorf("a line for %s, which recorded nothing", rec.Name.Full())
		case *benchfmt.SyntaxError:
			t.Error(rec)
		}
	}
	require.NoError(t, r.Err())
	assert.NotNil(t, r.Units().Get("p95-ns", "better"), "the units are described all the same")

	broken := errors.New("disk full")
	assert.ErrorIs(t, WriteBenchmark(failWriter{broken}, "fixed", fixedResult(t)), broken)
}

// failWriter fails every write with err.
type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestParseThreshold(t *testing.T) {
	ms := time.Millisecond
	valid := []struct {
		in   string
		want Threshold
	}{
		{"p95<500ms", OnLatency("", Quantile(0.95)).Below(500 * ms)},
		{"apply: p99<=1s", OnLatency("apply", Quantile(0.99)).AtMost(time.Second)},
		{"signup/apply:p99.9 < 2.5s", OnLatency("signup/apply", Quantile(0.999)).Below(2500 * ms)},
		{"apply: p95(failed)<2s", OnLatency("apply", Quantile(0.95).Of(Failures)).Below(2 * time.Second)},
		{"max(all)<10s", OnLatency("", Max().Of(All)).Below(10 * time.Second)},
		{"error_rate<1%", On("", ErrorRate()).Below(0.01)},
		{"error_rate <= 0.05", On("", ErrorRate()).AtMost(0.05)},
		{"rate>=100/s", On("", Rate()).AtLeast(100)},
		{"checkout: p50 > 1ms", OnLatency("checkout", Quantile(0.5)).Above(ms)},
		{"mean<300ms", OnLatency("", Mean()).Below(300 * ms)},
		{"min>=1ms", OnLatency("", Min()).AtLeast(ms)},
		{"errors<=0", On("", Errors()).AtMost(0)},
		{"count>=1000000", On("", Count()).AtLeast(1e6)},
		{"checkout: status(503)<=0", On("checkout", Status(503)).AtMost(0)},
		{"dropped<1", On("", Dropped()).Below(1)},
		{"checkout: dropped_share<0.1%", On("checkout", DroppedShare()).Below(0.001)},
		{"dropped_rate<=5/s", On("", DroppedRate()).AtMost(5)},
		{"[schedule_lag]: p99<1ms", OnLatency("[schedule_lag]", Quantile(0.99)).Below(ms)},
		{"apply[http_ttfb]: p95<100ms", OnLatency("apply[http_ttfb]", Quantile(0.95)).Below(100 * ms)},
		// The extremes: the largest duration, a tiny fraction, the largest count.
		{"p95<9223372036854775807ns", OnLatency("", Quantile(0.95)).Below(math.MaxInt64)},
		{"error_rate<1e-100", On("", ErrorRate()).Below(1e-100)},
		{"count<=9007199254740991", On("", Count()).AtMost(1<<53 - 1)},
	}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseThreshold(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "parsed and built thresholds are the same value")
			again, err := ParseThreshold(got.String())
			require.NoError(t, err, "String() parses back: %q", got.String())
			assert.Equal(t, got, again)
		})
	}
	assert.Equal(t, "count>=1000000", On("", Count()).AtLeast(1e6).String(), "no exponent in a count")
	assert.Equal(t, "p95<2562047h47m16.854775807s", MustParseThresholds("p95<9223372036854775807ns")[0].String(), "not wrapped to a negative duration")
	assert.Equal(t, "error_rate<1e-100", On("", ErrorRate()).Below(1e-100).String(), "the fraction, when its percentage does not read back")
	assert.Equal(t, "error_rate<0.1%", On("", ErrorRate()).Below(0.001).String())
}

// TestWrongThresholdsAreErrors: typos of metrics, operators, selectors and
// units are errors that say what is allowed.
func TestWrongThresholdsAreErrors(t *testing.T) {
	invalid := []struct{ in, msg string }{
		{"", "at column 1: expected a metric (p<N> (0 < N < 100), mean, min, max"},
		{"p95", "at column 4: expected an operator: <, <=, > or >="},
		{"p95<", "at column 5: expected a value"},
		{"p95th<12ms", `unknown metric "p95th" (want p<N>`},
		{"p101<1s", "quantile p101 must be above p0 and below p100 (use min or max)"},
		{"p100<1s", "use min or max"},
		{"p0>1ms", "use min or max"},
		{"median<1s", `unknown metric "median"`},
		{"latency<1s", `at column 1: unknown metric "latency"`},
		{"p95(failure)<1s", `unknown qualifier "failure" (want failed or all)`},
		{"error_rate(failed)<1%", "only p<N>, mean, min and max take (failed) or (all)"},
		{"status(5xx)<=0", "want status(<code>), such as status(503)"},
		{"status(42)<=0", "status code must be 100..999, got 42"},
		{"p95 = 1s", "at column 5: expected an operator"},
		{"p95=<1s", "expected an operator"},
		{"p95<5xx", `at column 5: expected a duration such as 500ms or 1.5s, got "5xx"`},
		{"p95<-1s", "expected a duration"},
		{"p95<500", "expected a duration"},
		{"error_rate<abc", "expected a percentage"},
		{"error_rate<NaN", "expected a percentage"},
		{"error_rate<Inf%", "expected a percentage"},
		{"rate>100", `expected a rate such as 100/s, got "100"`},
		{"count>1.5", "expected a whole number"},
		{"count>1e6", "expected a whole number"},
		{": p95<1s", "empty selector"},
		{"a/: p95<1s", "want scenario/step with both parts"},
		{"apply[http_ttfb: p95<1s", "want name[kind]"},
		{"apply]: p95<1s", "unexpected bracket"},
	}
	require.GreaterOrEqual(t, len(invalid), 20)
	for _, tc := range invalid {
		t.Run("bad "+tc.in, func(t *testing.T) {
			_, err := ParseThreshold(tc.in)
			var se *SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Contains(t, err.Error(), "\n\t"+tc.in+"\n\t"+strings.Repeat(" ", se.Pos)+"^", "points at the character")
		})
	}
	_, err := ParseThresholds("p95<1s", "bogus", "rate>x")
	assert.ErrorContains(t, err, "bogus")
	assert.ErrorContains(t, err, "rate>x")
	// Built thresholds are checked when checked.
	for _, th := range []Threshold{
		{Metric: Metric{}, Op: Less},
		{Metric: Quantile(0.95), Op: Op(9)},
		{Metric: Quantile(0.95), Op: Less, Value: math.NaN()},
		{Metric: Count(), Op: Less, Value: 1.5},
		{Selector: "a/", Metric: Count(), Op: Less},
		{Metric: ErrorRate().Of(Failures), Op: Less},
	} {
		assert.Error(t, th.Validate(), "%+v", th)
	}
	// Bounds beyond what ParseThreshold reads, which String could not write.
	assert.EqualError(t, Threshold{Metric: Quantile(0.95), Op: Less, Value: 1e19}.Validate(),
		"report: a bound on p95 must be at most 2562047h47m16.854775807s (the largest duration), got 10000000000000000000 ns")
	assert.EqualError(t, Threshold{Metric: Count(), Op: Less, Value: 1 << 53}.Validate(),
		"report: a bound on count must be at most 9007199254740991, got 9007199254740992")
	assert.NoError(t, Threshold{Metric: Max(), Op: Less, Value: math.MaxInt64}.Validate(), "the largest duration, 2^63 as a float64")
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p95<500ms", "apply: p99<=1s", "error_rate<1%", "rate>=100/s", "count>=3", "a/b:max>1h",
		"p95(failed)<1s", "status(503)<=0", "[schedule_lag]: p99<1ms", "x[http_ttfb]: min>0s", "dropped_share<0.5%",
		"p95<9223372036854775807ns", "error_rate<1e-100", "dropped_share<=3e-300%", "count<9007199254740991", "rate>1e-320/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Pos < 0 || se.Pos > len(s) {
				t.Fatalf("bad error for %q: %v", s, err)
			}
			return
		}
		if err := th.Validate(); err != nil {
			t.Fatalf("%q parsed to an invalid threshold: %v", s, err)
		}
		again, err := ParseThreshold(th.String())
		if err != nil {
			t.Fatalf("%q parsed to %+v whose String %q does not parse: %v", s, th, th.String(), err)
		}
		if again != th {
			t.Fatalf("%q: %+v != %+v", s, th, again)
		}
	})
}

// FuzzThresholdString: every threshold that validates, built in Go with
// any bound, prints as what ParseThreshold reads back to the same
// threshold.
func FuzzThresholdString(f *testing.F) {
	ms := []Metric{Quantile(0.95), Mean().Of(All), Count(), Rate(), ErrorRate(), Status(503), DroppedShare(), DroppedRate()}
	for _, v := range []float64{0, 1, 0.01, 1e-100, math.MaxInt64, 1<<63 - 1024, 1<<53 - 1, 5e-324, math.MaxFloat64} {
		for m := range ms {
			f.Add(uint8(m), uint8(Less), v)
		}
	}
	f.Fuzz(func(t *testing.T, m, op uint8, v float64) {
		th := Threshold{Selector: "a/b", Metric: ms[int(m)%len(ms)], Op: Op(op), Value: v}
		if th.Validate() != nil {
			return
		}
		again, err := ParseThreshold(th.String())
		if err != nil {
			t.Fatalf("%+v: String %q does not parse: %v", th, th.String(), err)
		}
		if again != th {
			t.Fatalf("%+v: String %q parses to %+v", th, th.String(), again)
		}
	})
}

func TestCheckThresholds(t *testing.T) {
	res := fixedResult(t)
	vs := Check(res,
		OnLatency("apply", Quantile(0.95)).Below(200*time.Millisecond),
		On("signup", ErrorRate()).Below(0.05),
		MustParseThresholds("api: rate>=10/s")[0],
		On("", Rate()).AtLeast(1e6),
		OnLatency("nothing-here", Quantile(0.99)).Below(time.Second),
		On("signup/list", Count()).AtLeast(1),
		On("list", Dropped()).AtMost(0),
		On("api", Dropped()).AtMost(0),
		OnLatency("apply", Quantile(0.95).Of(Failures)).Below(time.Second),
		OnLatency("list", Quantile(0.95).Of(Failures)).Below(time.Second),
		OnLatency("[schedule_lag]", Quantile(0.99)).AtMost(0),
		On("[schedule_lag]", ErrorRate()).Below(0.01),
		On("signup/list", Status(502)).AtMost(0),
	)
	assert.True(t, vs[0].Pass)
	assert.False(t, vs[1].Pass, "10%% of sign-ups fail")
	assert.InDelta(t, 3.0/27, vs[1].Actual, 1e-9, "3 of the 27 measured iterations")
	assert.True(t, vs[2].Pass)
	assert.False(t, vs[3].Pass)
	require.Error(t, vs[4].Err, "a selector that matches nothing")
	assert.Contains(t, vs[4].Err.Error(), `selector "nothing-here" matches nothing in this run (scenarios: signup, api; steps: signup/list, signup/apply`)
	assert.False(t, vs[4].Pass, "and so fails")
	assert.True(t, vs[5].Pass)
	assert.ErrorContains(t, vs[6].Err, "dropped counts a scenario's arrivals: select a scenario")
	assert.True(t, vs[7].Pass)
	assert.True(t, vs[8].Pass, "the three failures took 77 ms")
	assert.True(t, vs[9].NoData, "list never failed: no failed latency")
	assert.False(t, vs[9].Pass, "no data fails")
	assert.True(t, vs[10].Pass, "a fake clock: no schedule lag")
	assert.ErrorContains(t, vs[11].Err, "error_rate does not apply to the schedule lag", "not a vacuous pass")
	assert.True(t, vs[12].NoData, "a plain Go step records no status codes")
	assert.False(t, vs[12].Pass)
	assert.False(t, vs.Passed())
	assert.Error(t, vs.Err())
	var b bytes.Buffer
	require.NoError(t, vs.WriteText(&b))
	assert.Contains(t, b.String(), "nothing-here: p99<1s")
	assert.Contains(t, b.String(), "no data")
	assert.Contains(t, b.String(), "FAIL: selector")
}

// TestFaultStory: a target answers 10 ms, except for 2 s of a 12 s run
// when it answers 503 in 60 µs. The p95 of successful requests does not
// dip, the failures' latency is shown apart, a p95 threshold is judged on
// the successes and passes, and the error-rate threshold fails.
func TestFaultStory(t *testing.T) {
	var res *loadgen.Result
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		key := metrics.Key{Scenario: "shop", Step: "orders", Kind: metrics.KindStep}
		plan := &loadgen.Plan{Scenarios: []loadgen.Scenario{{
			Name: "shop", Executor: loadgen.ConstantRate{Rate: 100, Duration: 12 * time.Second, PreAllocatedVUs: 5, MaxVUs: 5},
			Setup: func(ctx context.Context, env *loadgen.Env) (loadgen.Instance, error) {
				h := env.Recorder.Handle(key)
				return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					began := time.Now()
					if off := began.Sub(start); off >= 6*time.Second && off < 8*time.Second {
						time.Sleep(60 * time.Microsecond)
						it.Shard.Record(h, time.Now(), time.Since(began), metrics.HTTP5xx)
						return metrics.WithOutcome(errors.New("GET /orders: status 503"), metrics.HTTP5xx)
					}
					time.Sleep(10 * time.Millisecond)
					it.Shard.Record(h, time.Now(), time.Since(began), metrics.OK)
					return nil
				}}, nil
			},
		}}}
		var err error
		res, err = loadgen.Run(t.Context(), plan)
		require.NoError(t, err)
	})
	m := res.Metrics.SeriesOf(metrics.Key{Scenario: "shop", Step: "orders", Kind: metrics.KindStep})
	for i, p := range m.Points {
		if p.Latency.Count() > 0 {
			assert.Equal(t, 10*time.Millisecond, p.Quantile(0.5), "interval %d: the p50 of successes does not dip", i)
		}
	}
	f := Summarize(res).Scenarios[0].Steps[0].Figures
	assert.Equal(t, 10*time.Millisecond, f.Latency.P95)
	assert.Equal(t, int64(200), f.Failed.Count)
	assert.Equal(t, 60*time.Microsecond, f.Failed.P95)
	vs := Check(res, MustParseThresholds("orders: p95<50ms", "orders: error_rate<1%", "orders: p95(all)<50ms")...)
	assert.True(t, vs[0].Pass, "judged on successes")
	assert.False(t, vs[1].Pass, "200 of 1200 failed")
	assert.InDelta(t, 200.0/1200, vs[1].Actual, 1e-12)
	assert.True(t, vs[2].Pass)
	// The timeline says which seconds had errors, and that the rest were
	// as fast as ever. An operation counts in the interval it ended in: the
	// arrival at 0.99 s ends at 1.00 s, in interval 1, so interval 0 has 99
	// and each later one 100, but for the fault's edges: the success that
	// started at 5.99 s ends in interval 6 (101), and the failure at 7.99 s
	// ends within interval 7, leaving 99 to interval 8.
	tl := Summarize(res).Scenarios[0].Timeline
	require.Len(t, tl, 12)
	want := []int64{99, 100, 100, 100, 100, 100, 101, 100, 99, 100, 100, 100}
	for i, iv := range tl {
		assert.Equal(t, time.Duration(i)*time.Second, iv.Start)
		assert.Equal(t, want[i], iv.Requests, "interval %d", i)
		if i < 11 {
			assert.Equal(t, int64(5), iv.VUs, "interval %d", i)
		}
		if i == 6 || i == 7 {
			assert.Equal(t, []ClassCount{{"http_5xx", 100}}, iv.ErrorsByClass, "interval %d", i)
			assert.Equal(t, want[i]-100, iv.Successes, "interval %d", i)
		} else {
			assert.Equal(t, int64(0), iv.Errors, "interval %d", i)
		}
		if iv.Successes > 0 {
			assert.Equal(t, 10*time.Millisecond, iv.P95, "interval %d", i)
		}
	}
	var b bytes.Buffer
	require.NoError(t, Summarize(res).WriteTimeline(&b))
	assert.Contains(t, b.String(), "\n    7.00s  8.00s       100     100  http_5xx 100       -       -    5        0\n")
	b.Reset()
	require.NoError(t, Summarize(res).WriteText(&b))
	assert.Contains(t, b.String(), "latency of failed operations")
	assert.Contains(t, b.String(), "  orders          200  60.0µs  60.0µs  60.0µs\n")
}

func TestAbortOnThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plan := &loadgen.Plan{Warmup: time.Second, Scenarios: []loadgen.Scenario{{
			Name: "s", Executor: loadgen.ConstantVUs{VUs: 1, Duration: time.Minute},
			Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
				time.Sleep(90 * time.Millisecond)
				if it.Number > 30 {
					return errors.New("degraded")
				}
				return nil
			},
		}}}
		plan.AbortWhen = AbortOn(5*time.Second, On("", ErrorRate()).Below(0.05))
		res, err := loadgen.Run(t.Context(), plan)
		require.ErrorIs(t, err, loadgen.ErrAborted)
		assert.Contains(t, err.Error(), "threshold error_rate<5% failed")
		// Errors start after ~2.8 s, but the abort waits for the 5 s delay.
		assert.Equal(t, 5040*time.Millisecond, res.Duration())
		plan.AbortWhen = AbortOn(0, OnLatency("typo", Quantile(0.5)).Below(time.Second))
		_, err = loadgen.Run(t.Context(), plan)
		assert.ErrorContains(t, err, `threshold typo: p50<1s cannot be checked: report: selector "typo" matches nothing`)
	})
}

func TestMetricsAndSelectors(t *testing.T) {
	for _, s := range []string{"p50", "p99.9", "p95(failed)", "max(all)", "count", "rate", "errors", "error_rate", "status(503)", "dropped", "dropped_rate", "dropped_share"} {
		m, err := ParseMetric(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, m.String())
	}
	assert.Equal(t, Quantile(0.999), MustMetric(t, "p99.9"), "built and parsed quantiles are equal")
	var higher []string
	for _, m := range []Metric{Quantile(0.5), Mean(), Min(), Max(), Count(), Rate(), Errors(), ErrorRate(), Status(503), Dropped(), DroppedRate(), DroppedShare()} {
		if m.HigherIsBetter() {
			higher = append(higher, m.String())
		}
	}
	assert.Equal(t, []string{"count", "rate"}, higher, "more operations is better; everything else is better lower")
	keys := []metrics.Key{
		{Scenario: "a", Kind: metrics.KindIteration}, {Scenario: "a", Kind: metrics.KindScheduleLag},
		{Scenario: "a", Step: "get", Kind: metrics.KindStep}, {Scenario: "a", Step: "get", Kind: "http_ttfb"},
		{Scenario: "b", Kind: metrics.KindIteration}, {Scenario: "b", Step: "get", Kind: metrics.KindStep},
	}
	for sel, want := range map[Selector][]int{
		"": {0, 4}, "get": {2, 5}, "a/get": {2}, "b": {4}, "[schedule_lag]": {1}, "get[http_ttfb]": {3}, "a[schedule_lag]": {1},
	} {
		got, err := sel.Match(keys)
		require.NoError(t, err, sel)
		assert.Equal(t, want, got, "selector %q", sel)
	}
	_, err := Selector("c/get").Match(keys)
	assert.ErrorContains(t, err, "scenarios: a, b; steps: a/get, b/get; kinds: iteration, schedule_lag, step, http_ttfb")
}

func MustMetric(t *testing.T, s string) Metric {
	t.Helper()
	m, err := ParseMetric(s)
	require.NoError(t, err)
	return m
}

// TestTextIsPrintable: names, error messages and panic values carrying
// escape sequences, BEL, CR or HTML reach no terminal and no Markdown page
// as such: every text renderer writes them as visible escapes.
func TestTextIsPrintable(t *testing.T) {
	hostile := "x\x1b]0;pwned\a\x1b[2J\r<script>alert(1)</script>\u202e\xff"
	var res *loadgen.Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = loadgen.Run(t.Context(), &loadgen.Plan{Name: "plan " + hostile, Scenarios: []loadgen.Scenario{{
			Name: "scenario " + hostile, Executor: loadgen.PerVUIterations{VUs: 1, Iterations: 4},
			Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
				time.Sleep(10 * time.Millisecond)
				if it.Number%2 == 0 {
					panic("panic " + hostile)
				}
				return metrics.WithOutcome(errors.New("server said "+hostile), metrics.HTTP5xx)
			},
		}}})
		require.NoError(t, err)
	})
	s := Summarize(res)
	vs := Check(res, MustParseThresholds("error_rate<1%")...)
	writers := map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return s.WriteText(b) },
		"failure":  func(b *bytes.Buffer) error { return s.WriteFailure(b, vs) },
		"timeline": func(b *bytes.Buffer) error { return s.WriteTimeline(b) },
		"markdown": func(b *bytes.Buffer) error { return s.WriteMarkdown(b) },
		"verdicts": func(b *bytes.Buffer) error { return vs.WriteText(b) },
	}
	for name, write := range writers {
		var b bytes.Buffer
		require.NoError(t, write(&b))
		out := b.String()
		assert.True(t, utf8.ValidString(out), name)
		for _, r := range out {
			if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u202e' {
				t.Errorf("%s output holds %U:\n%s", name, r, out)
				break
			}
		}
		if name == "markdown" {
			assert.NotContains(t, out, "<script>", "Markdown renders HTML")
			assert.Contains(t, out, `&lt;script>`)
		}
		if name == "text" || name == "markdown" {
			assert.Contains(t, out, `server said x\x1b]0;pwned\x07\x1b[2J\x0d`, name)
		}
	}
	var line bytes.Buffer
	term := true
	progress := NewProgress(&line, ProgressOptions{Terminal: &term, Label: "run \x1b[2J"})
	progress(&loadgen.Progress{Final: true, Scenarios: []loadgen.ScenarioProgress{{Name: "s\x1b[31m"}}})
	assert.Equal(t, 1, strings.Count(line.String(), "\x1b"), "the progress line's own erase, and no other: %q", line.String())
	assert.Contains(t, line.String(), "iteration p95 -", "the line says what its percentile is of")
}

// TestRatesAreOverTheLoad: a closed model's rate is that of its steady
// load, not diluted by the graceful stop's tail. 200 VUs run iterations of
// 0.5 s for 4 s, the first second warm-up, VU k beginning at k·2 ms: each
// ends exactly 6 iterations in the load window [1 s, 4 s), 400 a second as
// the timeline shows, and one more in the tail, up to 4.398 s, counted but
// not timed. Over the measured window the 1 400 read as 412 a second; with
// think times drawn at random the tail dilutes the rate instead.
func TestRatesAreOverTheLoad(t *testing.T) {
	var res *loadgen.Result
	synctest.Test(t, func(t *testing.T) {
		plan := &loadgen.Plan{Warmup: time.Second, Scenarios: []loadgen.Scenario{{
			Name: "think", Executor: loadgen.ConstantVUs{VUs: 200, Duration: 4 * time.Second},
			Setup: func(ctx context.Context, env *loadgen.Env) (loadgen.Instance, error) {
				return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					time.Sleep(500 * time.Millisecond)
					return nil
				}}, nil
			},
		}}}
		var err error
		res, err = loadgen.Run(t.Context(), plan)
		require.NoError(t, err)
	})
	s := Summarize(res)
	sc := s.Scenarios[0]
	assert.Equal(t, 3*time.Second, s.RateWindow)
	assert.Equal(t, 3398*time.Millisecond, s.Window, "to the end of the last iteration")
	assert.Equal(t, int64(1400), sc.Iteration.Count, "the tail is counted")
	for _, iv := range sc.Timeline[1:4] {
		assert.Equal(t, int64(400), iv.Requests, "interval at %v", iv.Start)
	}
	assert.Equal(t, 400.0, sc.Iteration.Rate)
	v := Check(res, MustParseThresholds("think: rate>=400/s")...)
	assert.True(t, v[0].Pass, v[0].ActualString())
	assert.Equal(t, 400.0, v[0].Actual)
	for _, bv := range BenchmarkValues(res, Row{Scenario: "think"}) {
		if bv.Metric == Rate() {
			assert.Equal(t, 400.0, bv.Value)
		}
	}
	from, to := LoadWindow(res)
	assert.Equal(t, res.Start.Add(time.Second), from)
	assert.Equal(t, res.Start.Add(4*time.Second), to)
}

// TestSelectMergesRows: Select merges what a selector picks in a run, as a
// threshold on it sees it, and hands back a copy of its own.
func TestSelectMergesRows(t *testing.T) {
	res := fixedResult(t)
	st, b, err := Select(res, "[step]")
	require.NoError(t, err)
	var want int64
	for _, m := range res.Metrics.Series {
		if m.Kind == metrics.KindStep {
			want += m.Total.Count()
		}
	}
	assert.Equal(t, want, st.Count(), "every step of every scenario")
	v := Check(res, MustParseThresholds("[step]: p95<1h", "[step]: rate>0/s")...)
	assert.Equal(t, float64(st.Quantile(0.95)), v[0].Actual)
	r, _ := Rate().Value(&st, b)
	assert.Equal(t, v[1].Actual, r)

	one, _, err := Select(res, "apply")
	require.NoError(t, err)
	apply := &res.Metrics.SeriesOf(metrics.Key{Scenario: "signup", Step: "apply", Kind: metrics.KindStep}).Total
	before, err := json.Marshal(apply)
	require.NoError(t, err)
	one.Merge(&st)
	after, err := json.Marshal(apply)
	require.NoError(t, err)
	assert.JSONEq(t, string(before), string(after), "the run's own totals are untouched")

	_, _, err = Select(res, "nosuch")
	assert.ErrorContains(t, err, `selector "nosuch" matches nothing in this run`)
}

// TestAPartialMergeSaysSo: a run merged from segments 1/3 and 3/3 (the
// second lost) says what it is made of in the header and warns, in every
// rendering, that a share of the load is in no figure.
func TestAPartialMergeSaysSo(t *testing.T) {
	res, err := loadgen.LoadResult(filepath.Join("..", "testdata", "results", "v4-merged.json"))
	require.NoError(t, err)
	require.True(t, res.Partial())
	s := Summarize(res)
	const warn = "a partial merge: segment(s) 2/3 of 3 missing; their share of the load is in no figure (counts and rates are those of 2 segment(s))"
	var text, md, page, js bytes.Buffer
	require.NoError(t, s.WriteText(&text))
	require.NoError(t, s.WriteMarkdown(&md))
	require.NoError(t, s.WriteHTML(&page, HTMLOptions{}))
	require.NoError(t, s.WriteJSON(&js, nil))
	assert.Contains(t, text.String(), "segments: 2 of 3 merged (2/3 missing); every one started on time")
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String(), "html": page.String(), "json": js.String()} {
		assert.Contains(t, out, warn, name)
	}
	assert.Contains(t, js.String(), `"missing_segments": [
    "2/3"
  ],`)
}
