package report

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
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
)

var (
	update         = flag.Bool("update", false, "rewrite the golden files")
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
		require.NoError(t, SaveFile(fixedFile, res))
	}
	res, err := LoadFile(fixedFile)
	require.NoError(t, err)
	return res
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

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

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./report -update to create it")
	if !bytes.Equal(want, got) {
		_ = os.WriteFile(path+".got", got, 0o644)
		t.Errorf("%s differs from the golden file; see %s.got (run with -update to accept)", name, path)
	}
}

func TestTextAndMarkdownGolden(t *testing.T) {
	res := fixedResult(t)
	var txt, md bytes.Buffer
	require.NoError(t, WriteText(&txt, Summarize(res)))
	require.NoError(t, WriteMarkdown(&md, Summarize(res)))
	golden(t, "TestTextAndMarkdownGolden.golden.txt", txt.Bytes())
	golden(t, "TestTextAndMarkdownGolden.golden.md", md.Bytes())
}

func TestSummaryFigures(t *testing.T) {
	res := fixedResult(t)
	s := Summarize(res)
	require.Len(t, s.Scenarios, 2)
	sc := s.Scenarios[0]
	assert.Equal(t, []string{"list", "apply"}, []string{sc.Steps[0].Name, sc.Steps[1].Name}, "journey order")
	assert.Equal(t, sc.Started, sc.Completed+sc.Failed+sc.Interrupted)
	api := s.Scenarios[1]
	assert.True(t, api.Open)
	require.NotNil(t, api.Lag)
	// 60 arrivals, 1 s of warm-up left out: 40 measured.
	assert.Equal(t, int64(40), api.Started+api.Dropped)
	assert.InDelta(t, 40/s.Window.Seconds(), api.Iteration.Rate, 1e-9)
	assert.Equal(t, 20*time.Millisecond, api.Iteration.P99)
	require.Len(t, s.Gauges, 1)
	assert.Equal(t, 64.0, s.Gauges[0].Mean)
}

func TestJSONRoundTripRendersIdentically(t *testing.T) {
	res := fixedResult(t)
	var js bytes.Buffer
	require.NoError(t, WriteJSON(&js, res))
	back, err := ReadJSON(&js)
	require.NoError(t, err)
	var a, b bytes.Buffer
	require.NoError(t, WriteText(&a, Summarize(res)))
	require.NoError(t, WriteText(&b, Summarize(back)))
	assert.Equal(t, a.String(), b.String())

	path := filepath.Join(t.TempDir(), "run.json")
	require.NoError(t, SaveFile(path, res))
	again, err := LoadFile(path)
	require.NoError(t, err)
	assert.Equal(t, res.Iterations("signup").Outcomes, again.Iterations("signup").Outcomes)
	_, err = LoadFile(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorContains(t, err, "no such file")
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
	assert.Len(t, names, 2*4, "two runs × (two steps + two scenarios' iterations)")
	st, _, _ := RunStats(res, Row{"signup", "apply"})
	require.Len(t, p95, 2)
	assert.Equal(t, float64(st.Quantile(0.95)), p95[0]*1e9, "benchfmt tidies p95-ns into seconds")
	u := r.Units().Get("p95-ns", "better")
	require.NotNil(t, u)
	assert.Equal(t, "lower", u.Value)
	assert.Equal(t, "p95-ns", u.OrigUnit, "the unit name survives")
	assert.Equal(t, "higher", r.Units().Get("req/s", "better").Value)
}

func TestParseThreshold(t *testing.T) {
	valid := []struct {
		in   string
		want Threshold
	}{
		{"p95<500ms", Threshold{"", "p95", "<", float64(500 * time.Millisecond)}},
		{"apply: p99<=1s", Threshold{"apply", "p99", "<=", float64(time.Second)}},
		{"signup/apply:p99.9 < 2.5s", Threshold{"signup/apply", "p99.9", "<", float64(2500 * time.Millisecond)}},
		{"error_rate<1%", Threshold{"", "error_rate", "<", 0.01}},
		{"error_rate <= 0.05", Threshold{"", "error_rate", "<=", 0.05}},
		{"rate>=100/s", Threshold{"", "rate", ">=", 100}},
		{"checkout: median > 1ms", Threshold{"checkout", "median", ">", float64(time.Millisecond)}},
		{"mean<300ms", Threshold{"", "mean", "<", float64(300 * time.Millisecond)}},
		{"max<10s", Threshold{"", "max", "<", float64(10 * time.Second)}},
		{"errors<=0", Threshold{"", "errors", "<=", 0}},
		{"count>=1000", Threshold{"", "count", ">=", 1000}},
		{"p100<1s", Threshold{"", "p100", "<", float64(time.Second)}},
	}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseThreshold(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			again, err := ParseThreshold(got.String())
			require.NoError(t, err, "String() parses back: %q", got.String())
			assert.Equal(t, got, again)
		})
	}
	invalid := []struct{ in, msg string }{
		{"", "at column 1: expected a metric"},
		{"p95", "at column 4: expected an operator"},
		{"p95<", "at column 5: expected a value"},
		{"p95<5xx", `at column 5: expected a duration such as 500ms or 1.5s, got "5xx"`},
		{"p101<1s", `unknown metric "p101"`},
		{"latency<1s", `at column 1: unknown metric "latency"`},
		{"error_rate<abc", "expected a percentage"},
		{"rate>100", `expected a rate such as 100/s, got "100"`},
		{"count>1.5", "expected a whole number"},
		{": p95<1s", "empty selector"},
		{"apply: p95 = 1s", "at column 12: expected an operator"},
		{"p95<-1s", "expected a duration"},
	}
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
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p95<500ms", "apply: p99<=1s", "error_rate<1%", "rate>=100/s", "count>=3", "a/b:max>1h"} {
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
		again, err := ParseThreshold(th.String())
		if err != nil {
			t.Fatalf("%q parsed to %+v whose String %q does not parse: %v", s, th, th.String(), err)
		}
		if again != th {
			t.Fatalf("%q: %+v != %+v", s, th, again)
		}
	})
}

func TestCheckThresholds(t *testing.T) {
	res := fixedResult(t)
	vs := Check(res,
		P95("apply").Below(200*time.Millisecond),
		ErrorRate("signup").Below(0.05),
		MustParseThresholds("api: rate>=10/s")[0],
		Throughput("").AtLeast(1e6),
		P99("nothing-here").Below(time.Second),
		Count("signup/list").AtLeast(1),
	)
	assert.True(t, vs[0].Pass)
	assert.False(t, vs[1].Pass, "10%% of sign-ups fail")
	assert.InDelta(t, 3.0/27, vs[1].Actual, 1e-9, "3 of the 27 measured iterations")
	assert.True(t, vs[2].Pass)
	assert.False(t, vs[3].Pass)
	assert.True(t, vs[4].NoData)
	assert.False(t, vs[4].Pass, "no data fails")
	assert.True(t, vs[5].Pass)
	assert.False(t, Passed(vs))
	var b bytes.Buffer
	require.NoError(t, WriteVerdicts(&b, vs))
	assert.Contains(t, b.String(), "nothing-here: p99<1s")
	assert.Contains(t, b.String(), "no data")
}

type fakeT struct{ errs []string }

func (f *fakeT) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Helper() {}

func TestRequire(t *testing.T) {
	res := fixedResult(t)
	ok := &fakeT{}
	assert.True(t, Require(ok, res, P95("list").Below(time.Second), ErrorRate("list").AtMost(0)))
	assert.Empty(t, ok.errs)
	bad := &fakeT{}
	assert.False(t, Require(bad, res, P95("list").Below(time.Millisecond), ErrorRate("").Below(0.01), Median("list").Below(time.Second)))
	require.Len(t, bad.errs, 2, "every failed threshold is reported")
	assert.Contains(t, bad.errs[0], "threshold list: p95<1ms failed: actual 16.0ms")
	assert.Contains(t, bad.errs[0], "FAIL")
	assert.Contains(t, bad.errs[1], "error_rate<1%")
	assert.Contains(t, bad.errs[1], "list: median<1s", "the table lists passing ones too")
}

func TestAbortOnThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plan := &loadgen.Plan{Scenarios: []loadgen.Scenario{{
			Name: "s", Executor: loadgen.ConstantVUs{VUs: 1, Duration: time.Minute},
			Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
				time.Sleep(90 * time.Millisecond)
				if it.Number > 30 {
					return errors.New("degraded")
				}
				return nil
			},
		}}}
		plan.AbortWhen = AbortOn(5*time.Second, 0, ErrorRate("").Below(0.05))
		res, err := loadgen.Run(t.Context(), plan)
		require.ErrorIs(t, err, loadgen.ErrAborted)
		assert.Contains(t, err.Error(), "threshold error_rate<5% failed")
		// Errors start after ~2.8 s, but the abort waits for the 5 s delay.
		assert.Equal(t, 5040*time.Millisecond, res.Duration())
	})
}

func TestRepetitions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mk := func(run int) *loadgen.Plan {
			return &loadgen.Plan{Scenarios: []loadgen.Scenario{{
				Name: "s", Executor: loadgen.PerVUIterations{VUs: 1, Iterations: 10},
				Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					time.Sleep(time.Duration(10*(run+1)+int(it.Number)) * time.Millisecond)
					return nil
				},
			}}}
		}
		runs, err := Repeat(t.Context(), 5, time.Second, mk)
		require.NoError(t, err)
		require.Len(t, runs, 5)
		rows := SummarizeRuns(runs)
		require.Len(t, rows, 1)
		r := rows[0]
		require.Len(t, r.PerRun, 5)
		// Run k takes 10(k+1) … 10(k+1)+9 ms; the median run is run 2.
		assert.Equal(t, r.PerRun[2].P95, r.MedianOfRuns.P95)
		assert.Equal(t, int64(50), r.Merged.Count)
		assert.Equal(t, 59*time.Millisecond, r.Merged.Max)
		assert.Greater(t, r.Merged.P95, r.MedianOfRuns.P95, "merged and median-of-runs differ and are both shown")
		var b bytes.Buffer
		require.NoError(t, WriteRuns(&b, rows))
		assert.Contains(t, b.String(), "p95 (merged)")
		_, err = Repeat(t.Context(), 0, 0, mk)
		assert.Error(t, err)
	})
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 950: "950ns", 12345: "12.3µs", 4567891: "4.57ms", 3853 * time.Millisecond: "3.85s",
		125 * time.Second: "2m05s", -5 * time.Millisecond: "-5.00ms", 469 * time.Millisecond: "469ms",
	} {
		assert.Equal(t, want, Duration(d))
	}
	assert.Equal(t, "1.23%", Percent(0.0123))
	assert.Equal(t, "<0.01%", Percent(0.00001))
	assert.Equal(t, "12.3/s", Rate(12.34))
	assert.Equal(t, "12.3kB", Bytes(12345))
}
