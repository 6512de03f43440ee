package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		stuckMain()
		return
	}
	goleak.VerifyTestMain(m)
}

// childEnv makes the test binary run stuckMain instead of the tests.
const childEnv = "STAMPEDE_CLI_TEST_CHILD"

// stuckMain is a tool whose iterations wait for their context: only the
// end of a graceful stop ends them. It says "ready" once they run.
func stuckMain() {
	var ready sync.Once
	os.Args = []string{"stuck", "-quiet", "-vus", "2", "-duration", "1m"}
	(&Tool{Plan: func(f *Flags, run int) (*loadgen.Plan, error) {
		return &loadgen.Plan{Name: "stuck", Scenarios: []loadgen.Scenario{{
			Name: "stuck", Executor: f.Executor(), GracefulStop: 30 * time.Second,
			Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
				ready.Do(func() { os.Stderr.WriteString("ready\n") })
				<-ctx.Done()
				return ctx.Err()
			},
		}}}, nil
	}}).Main()
}

// tool is a tool whose iterations take -latency (10 ms by default).
func tool() *Tool {
	var latency time.Duration
	return &Tool{
		Name:        "probe",
		Description: "probe loads a service of known latency.",
		Defaults:    Flags{VUs: 2, Duration: 2 * time.Second, Thresholds: report.MustParseThresholds("p95<50ms")},
		Flags: func(fs *flag.FlagSet) {
			fs.DurationVar(&latency, "latency", 10*time.Millisecond, "how long each iteration takes")
		},
		Plan: func(f *Flags, run int) (*loadgen.Plan, error) {
			return &loadgen.Plan{Name: "probe", Warmup: f.Warmup, Scenarios: []loadgen.Scenario{{
				Name: "probe", Executor: f.Executor(),
				Iteration: func(ctx context.Context, it *loadgen.Iteration) error { time.Sleep(latency); return nil },
			}}}, nil
		},
	}
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	synctest.Test(t, func(t *testing.T) { code = tool().Run(t.Context(), args, &out, &errOut) })
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	code, out, errOut := run(t, "-quiet")
	assert.Equal(t, ExitPass, code, errOut)
	assert.Contains(t, out, "  p95<50ms   10.0ms  pass\n")
	assert.Empty(t, errOut, "-quiet: no progress line")

	code, out, errOut = run(t, "-quiet", "-latency", "80ms")
	assert.Equal(t, ExitFail, code)
	assert.Contains(t, errOut, "  p95<50ms   80.0ms  FAIL\n")
	assert.Contains(t, errOut, "the rows they look at", "why it failed, on stderr")
	assert.Contains(t, out, "thresholds: 1 of 1 failed (the failure report is on stderr)")
	assert.Equal(t, 1, strings.Count(out+errOut, "p95<50ms   80.0ms"), "the thresholds are printed once")

	code, _, errOut = run(t, "-vus", "0")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "-vus must be >= 1, got 0")
	assert.Contains(t, errOut, "usage: probe [flags]", "bad usage shows the usage")

	code, _, errOut = run(t, "-nosuch")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "flag provided but not defined: -nosuch")

	code, _, errOut = run(t, "-threshold", "p95th<1s")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `invalid value "p95th<1s" for flag -threshold`)

	code, _, errOut = run(t, "-warmup", "3s")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "-warmup must be shorter than -duration (2s), got 3s")

	code, _, errOut = run(t, "-warmup", "1500ms")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "-warmup must be a whole number of the plan's intervals (1s), got 1.5s", "the flag, not a field of the plan")

	code, _, errOut = run(t, "-duration", "-3s")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "-duration must be > 0, got -3s")
	complaints, _, _ := strings.Cut(errOut, "usage:")
	assert.NotContains(t, complaints, "-warmup", "one complaint, about the flag that is wrong")

	code, _, errOut = run(t, "-duration", "5")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `invalid value "5" for flag -duration: want a duration with its unit, such as 30s, 1m30s or 500ms, got "5"`)

	code, _, errOut = run(t, "-max-dropped", "150%")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "-max-dropped must be a share from 0 to 1 (or 0% to 100%), got 1.5")

	code, _, errOut = run(t, "-correction", "bonferroni")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `invalid value "bonferroni" for flag -correction: want holm, benjamini-hochberg (bh) or per-metric, got "bonferroni"`)

	code, _, errOut = run(t, "-until-decided", "20")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "-until-decided needs -baseline and at least max(-runs, 4) runs, got 20")

	code, help, _ := run(t, "-h")
	assert.Equal(t, ExitPass, code)
	assert.Contains(t, help, "-correction value")

	code, _, errOut = run(t, "-save-baseline", "a", "-baseline", "b")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "give -save-baseline or -baseline, not both")

	code, _, errOut = run(t, "-rate", "2000000", "-vus", "1")
	assert.Equal(t, ExitUsage, code, "a plan that does not validate")
	assert.Contains(t, errOut, "ConstantRate.Rate must be between 1 and 1000000 per second (RateLimit), got 2000000 per 1s")
}

func TestHelpExitsZero(t *testing.T) {
	for _, h := range []string{"-h", "-help", "--help"} {
		code, out, errOut := run(t, h)
		assert.Equal(t, ExitPass, code, h)
		assert.Contains(t, out, "usage: probe [flags]")
		assert.Contains(t, out, "probe loads a service of known latency.")
		assert.Contains(t, out, "-threshold value")
		assert.Contains(t, out, "-latency duration", "the tool's own flags")
		assert.Contains(t, out, "Exit status: 0 when every threshold passed")
		assert.Empty(t, errOut)
	}
}

// TestRepeatedFlags: -threshold given twice replaces the defaults with
// both; the progress line says which run it is.
func TestRepeatedFlags(t *testing.T) {
	code, out, errOut := run(t, "-threshold", "p99<1s", "-threshold", "error_rate<1%", "-runs", "2")
	assert.Equal(t, ExitPass, code, errOut)
	assert.Contains(t, out, "  p99<1s")
	assert.Contains(t, out, "  error_rate<1%")
	assert.NotContains(t, out, "p95<50ms", "the defaults are replaced")
	assert.Contains(t, out, "run 1/2: completed, thresholds pass\nrun 2/2: completed, thresholds pass\n")
	assert.Contains(t, errOut, "run 2/2 ")
}

// TestBaselineAndRegression: six runs saved as the baseline; six runs
// 50 % slower break the default budget (p95 +10 %) and exit 1; the same
// speed passes.
func TestBaselineAndRegression(t *testing.T) {
	dir := t.TempDir()
	html, js := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.json")
	code, out, errOut := run(t, "-quiet", "-runs", "6", "-save-baseline", filepath.Join(dir, "base"), "-html", html, "-json", js)
	require.Equal(t, ExitPass, code, errOut)
	assert.Contains(t, out, "saved 6 run(s) as the baseline in "+filepath.Join(dir, "base"))
	for _, p := range []string{html, js, filepath.Join(dir, "base", "run-5.json")} {
		_, err := os.Stat(p)
		assert.NoError(t, err, p)
	}
	code, out, _ = run(t, "-quiet", "-runs", "6", "-baseline", filepath.Join(dir, "base"), "-latency", "15ms")
	assert.Equal(t, ExitFail, code)
	assert.Contains(t, out, "REGRESSION probe")
	code, out, _ = run(t, "-quiet", "-runs", "6", "-baseline", filepath.Join(dir, "base"), "-budget", "p95 +60%")
	assert.Equal(t, ExitPass, code)
	assert.Contains(t, out, "no regression beyond the budgets")
	code, _, errOut = run(t, "-quiet", "-baseline", filepath.Join(dir, "nothing"))
	assert.Equal(t, ExitUsage, code)
	assert.True(t, strings.HasPrefix(errOut, "no baseline runs"), errOut)
}

func TestExecutorFromFlags(t *testing.T) {
	f := &Flags{VUs: 50, Duration: time.Minute}
	assert.Equal(t, loadgen.ConstantVUs{VUs: 50, Duration: time.Minute}, f.Executor())
	f.Rate = 200
	assert.Equal(t, loadgen.ConstantRate{Rate: 200, Duration: time.Minute, PreAllocatedVUs: 20, MaxVUs: 50}, f.Executor())
}

// TestCutShortRunsAreNoBaseline: a run that was aborted is not saved as a
// baseline; saving a baseline replaces the runs of an earlier one.
func TestCutShortRunsAreNoBaseline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "base")
	code, _, _ := run(t, "-quiet", "-runs", "6", "-save-baseline", dir)
	require.Equal(t, ExitPass, code)
	code, _, _ = run(t, "-quiet", "-runs", "2", "-save-baseline", dir)
	require.Equal(t, ExitPass, code)
	files, err := filepath.Glob(filepath.Join(dir, "run-*.json"))
	require.NoError(t, err)
	assert.Len(t, files, 2, "the 6 runs of the earlier baseline are gone")

	tl := tool()
	plan := tl.Plan
	tl.Plan = func(f *Flags, run int) (*loadgen.Plan, error) {
		p, err := plan(f, run)
		p.AbortWhen = func(*loadgen.Progress) string { return "stop" }
		return p, err
	}
	other := filepath.Join(t.TempDir(), "cut")
	var out, errOut bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		code = tl.Run(t.Context(), []string{"-quiet", "-save-baseline", other}, &out, &errOut)
	})
	assert.Equal(t, ExitFail, code)
	assert.Contains(t, errOut.String(), "a run was cut short: nothing saved as a baseline")
	_, err = os.Stat(other)
	assert.True(t, os.IsNotExist(err), "nothing saved")
}

// TestOutputsAreCheckedBeforeTheLoad: an output the run could not write
// is bad usage, found before any load starts.
func TestOutputsAreCheckedBeforeTheLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-html", filepath.Join(dir, "no", "such", "dir", "r.html"), "-json", filepath.Join(dir, "s.json")}, "-html: create " + filepath.Join(dir, "no", "such", "dir", "r.html")},
		{[]string{"-json", dir}, "-json: write " + dir + ": not a regular file"},
		{[]string{"-benchfmt", filepath.Join(file, "b.txt")}, "-benchfmt: create " + filepath.Join(file, "b.txt")},
		{[]string{"-save-baseline", filepath.Join(file, "base")}, "-save-baseline: mkdir " + filepath.Join(file, "base")},
		{[]string{"-html", "r.out", "-json", "./r.out"}, "-html and -json name the same path, ./r.out"},
		{[]string{"-baseline", filepath.Join(dir, "none")}, "no baseline runs (run-*.json) in " + filepath.Join(dir, "none")},
	} {
		planned := 0
		tl := tool()
		plan := tl.Plan
		tl.Plan = func(f *Flags, run int) (*loadgen.Plan, error) { planned++; return plan(f, run) }
		var out, errOut bytes.Buffer
		synctest.Test(t, func(t *testing.T) {
			code := tl.Run(t.Context(), append([]string{"-quiet"}, c.args...), &out, &errOut)
			assert.Equal(t, ExitUsage, code)
		})
		assert.Contains(t, errOut.String(), c.want, c.args)
		assert.Zero(t, planned, "no load for %v", c.args)
		assert.Empty(t, out.String())
	}
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "the checks leave nothing behind")
}

// TestEachOutputOnItsOwn: an output that fails after the load (its
// directory removed meanwhile) does not keep the others from being
// written; the run exits 1 and says which failed.
func TestEachOutputOnItsOwn(t *testing.T) {
	dir := t.TempDir()
	gone := filepath.Join(dir, "gone")
	require.NoError(t, os.Mkdir(gone, 0o755))
	tl := tool()
	plan := tl.Plan
	tl.Plan = func(f *Flags, run int) (*loadgen.Plan, error) {
		require.NoError(t, os.Remove(gone))
		return plan(f, run)
	}
	html, js, base := filepath.Join(gone, "r.html"), filepath.Join(dir, "s.json"), filepath.Join(dir, "base")
	var out, errOut bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		code := tl.Run(t.Context(), []string{"-quiet", "-html", html, "-json", js, "-save-baseline", base}, &out, &errOut)
		assert.Equal(t, ExitFail, code)
	})
	assert.Contains(t, errOut.String(), html)
	assert.Contains(t, out.String(), "JSON summary: "+js)
	assert.Contains(t, out.String(), "saved 1 run(s) as the baseline in "+base)
	for _, p := range []string{js, filepath.Join(base, "run-0.json")} {
		_, err := os.Stat(p)
		assert.NoError(t, err, p)
	}
}

// TestSignals: the first signal (SIGTERM here) stops the run gracefully,
// the second ends the graceful stop at once and the report is written; a
// third exits with no report.
func TestSignals(t *testing.T) {
	tl := tool()
	tl.Plan = func(f *Flags, run int) (*loadgen.Plan, error) {
		return &loadgen.Plan{Name: "stuck", Scenarios: []loadgen.Scenario{{
			Name: "stuck", Executor: f.Executor(), GracefulStop: 30 * time.Second,
			Iteration: func(ctx context.Context, it *loadgen.Iteration) error { <-ctx.Done(); return ctx.Err() },
		}}}, nil
	}
	synctest.Test(t, func(t *testing.T) {
		sig := make(chan os.Signal)
		var said, out, errOut bytes.Buffer
		exited := make(chan int, 1)
		ctx, release := onSignals(sig, &said, func(code int) { exited <- code })
		defer release()
		time.AfterFunc(time.Second, func() { sig <- syscall.SIGTERM })
		time.AfterFunc(3*time.Second, func() { sig <- os.Interrupt })
		start := time.Now()
		code := tl.Run(ctx, []string{"-quiet", "-duration", "1m"}, &out, &errOut)
		assert.Equal(t, 3*time.Second, time.Since(start), "the second signal, not the 30s graceful stop, ends the run")
		assert.Equal(t, ExitFail, code)
		assert.Contains(t, errOut.String(), "the run stopped early: terminated signal received")
		assert.Contains(t, out.String(), "stuck", "the report is written")
		sig <- os.Interrupt
		assert.Equal(t, ExitFail, <-exited)
		assert.Contains(t, said.String(), "terminated: stopping; the iterations in flight get their graceful stop")
		assert.Contains(t, said.String(), "interrupt again: interrupting the iterations in flight")
		assert.Contains(t, said.String(), "interrupt a third time: exiting with no report")
	})
}

// TestTrustGenerator: with -trust-generator, a run whose generator made
// the numbers fails (exit 1) and says why; without it, the same run
// passes with the warning in its report. The run is real: an open model
// whose iterations want 1.5 times the CPU of the one processor the test
// leaves, so that arrivals start ever later (the margin is wide: the
// warning fires at 25 % of the p99, and the lag is most of it).
func TestTrustGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("a real-time run")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	tl := tool()
	tl.Plan = func(f *Flags, run int) (*loadgen.Plan, error) {
		return &loadgen.Plan{Interval: 250 * time.Millisecond, Scenarios: []loadgen.Scenario{{
			Name: "busy", Executor: loadgen.ConstantRate{Rate: 500, Duration: time.Second, PreAllocatedVUs: 100, MaxVUs: 1000},
			Iteration: func(context.Context, *loadgen.Iteration) error {
				for start := time.Now(); time.Since(start) < 3*time.Millisecond; {
				}
				return nil
			},
		}}}, nil
	}
	var out, errOut bytes.Buffer
	assert.Equal(t, ExitFail, tl.Run(t.Context(), []string{"-quiet", "-threshold", "count>0", "-trust-generator"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "run 1/1: the generator may have made the numbers (-trust-generator):")
	assert.Contains(t, errOut.String(), `the generator may have made the numbers of scenario "busy"`)

	out.Reset()
	errOut.Reset()
	assert.Equal(t, ExitPass, tl.Run(t.Context(), []string{"-quiet", "-threshold", "count>0"}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), `the generator may have made the numbers of scenario "busy"`, "a warning of the report")
}

// TestDropsFailTheRun: an open model whose arrivals find no free VU did
// not offer the load asked for: past -max-dropped (1 % by default) the run
// fails and says why; a wider -max-dropped lets it pass.
func TestDropsFailTheRun(t *testing.T) {
	// One VU of 7 ms takes every other of 200 arrivals a second (one
	// each 5 ms): the one between finds it busy.
	code, _, errOut := run(t, "-quiet", "-rate", "200", "-vus", "1", "-latency", "7ms", "-threshold", "count>0")
	assert.Equal(t, ExitFail, code)
	assert.Contains(t, errOut, `run 1/1: scenario "probe" dropped 200 of 400 arrivals (50.0%, more than -max-dropped 1%): the load asked for did not happen (raise -vus, or lower -rate)`)

	code, _, errOut = run(t, "-quiet", "-rate", "200", "-vus", "1", "-latency", "7ms", "-threshold", "count>0", "-max-dropped", "0.6")
	assert.Equal(t, ExitPass, code, errOut)
}
