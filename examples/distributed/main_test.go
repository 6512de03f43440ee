package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The child process of TestFourProcessesMergeToTheWhole reads its target
// from this; its segment and start time come from the STAMPEDE_*
// variables, as on Kubernetes.
const envChildTarget = "DISTRIBUTED_TEST_CHILD_TARGET"

// TestSegmentChild is one segment's process, started by
// TestFourProcessesMergeToTheWhole; it skips when run on its own. Like a
// pod of k8s/job.yaml, it writes its result to its log (-log): stdout,
// which the parent captures together with stderr and the test
// framework's own lines, as a container's log holds them.
func TestSegmentChild(t *testing.T) {
	target := os.Getenv(envChildTarget)
	if target == "" {
		t.Skip("runs only as a child process of TestFourProcessesMergeToTheWhole")
	}
	require.NoError(t, run(t.Context(), []string{"-target", target, "-log"}, os.Stdout, os.Stderr, false))
}

const segments = 4

// TestFourProcessesMergeToTheWhole runs the plan as one process and as four
// OS processes (this test binary, re-executed) starting together, each
// writing its result to its log, as on Kubernetes without a shared volume;
// merges the four results from the logs put together, as `kubectl logs`
// prints them for the Job's pods, and checks that the merge is the whole
// plan, exactly.
func TestFourProcessesMergeToTheWhole(t *testing.T) {
	svc, err := demo.Start(demo.Options{})
	require.NoError(t, err)
	defer svc.Close()
	dir := t.TempDir()

	// Four processes, one per segment, sharing a start time far enough
	// ahead for every child to be up (a race-instrumented binary starts in
	// well under a second; one that is late still runs on the same grid).
	startAt := time.Now().Add(1500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	files := make([]string, segments)
	cmds := make([]*exec.Cmd, segments)
	outs := make([]*bytes.Buffer, segments)
	for i := range segments {
		files[i] = filepath.Join(dir, fmt.Sprintf("segment-%d.log", i))
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSegmentChild$", "-test.v")
		cmd.Env = append(os.Environ(),
			loadgen.EnvSegmentIndex+"="+strconv.Itoa(i),
			loadgen.EnvSegmentCount+"="+strconv.Itoa(segments),
			loadgen.EnvStartAt+"="+startAt.UTC().Format(time.RFC3339Nano),
			envChildTarget+"="+svc.URL,
		)
		outs[i] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		cmd.WaitDelay = 5 * time.Second
		require.NoError(t, cmd.Start())
		cmds[i] = cmd
	}
	var logs bytes.Buffer // every pod's log, one after another
	for i, cmd := range cmds {
		err := cmd.Wait()
		require.NoError(t, err, "segment %d:\n%s", i, outs[i])
		require.NoError(t, os.WriteFile(files[i], outs[i].Bytes(), 0o644))
		logs.Write(outs[i].Bytes())
	}
	podLogs := filepath.Join(dir, "pods.log")
	require.NoError(t, os.WriteFile(podLogs, logs.Bytes(), 0o644))

	// Then one process, this one, runs the whole plan.
	whole := filepath.Join(dir, "whole.json")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"run", "-target", svc.URL, "-segment", "1/1",
		"-start-at", time.Now().Add(100 * time.Millisecond).Format(time.RFC3339Nano), "-out", whole}, &stdout, &stderr, false), stderr.String())
	wholeRes, err := loadgen.LoadResult(whole)
	require.NoError(t, err)

	parts := make([]*loadgen.Result, segments)
	for i, f := range files {
		for r, err := range loadgen.LogResults(bytes.NewReader(must(os.ReadFile(f)))) {
			require.NoError(t, err)
			require.Nil(t, parts[i], "one result in the log of segment %d", i)
			parts[i] = r
		}
		require.NotNil(t, parts[i], "the log of segment %d holds its result", i)
		assert.Equal(t, loadgen.Segment{Index: i, Count: segments}, parts[i].Segment)
		if parts[i].StartLate > 0 {
			t.Logf("segment %d started %v late", i, parts[i].StartLate) // still on the grid: Start is StartAt
		}
	}

	// Merge through the command, as a user would.
	mergedPath, htmlPath := filepath.Join(dir, "merged.json"), filepath.Join(dir, "report.html")
	stdout.Reset()
	stderr.Reset()
	require.NoError(t, run(t.Context(), []string{"merge", "-json", mergedPath, "-html", htmlPath, podLogs}, &stdout, &stderr, false), stderr.String())
	t.Log(stdout.String())
	assert.Contains(t, stdout.String(), planName)
	assert.Contains(t, stdout.String(), fmt.Sprintf("iterations: %d started = %d completed", browseIterations, browseIterations))
	html, err := os.ReadFile(htmlPath)
	require.NoError(t, err)
	assert.Contains(t, string(html), "<svg")
	merged, err := loadgen.LoadResult(mergedPath)
	require.NoError(t, err)

	// Counts: exactly the plan's, and the same as the one-process run's.
	openIterations := int64(openRate * openDuration / time.Second)
	for _, c := range []struct {
		scenario, step string
		want           int64
	}{
		{"browse", "list", browseIterations},
		{"open", "detail", openIterations},
	} {
		it := metrics.Key{Scenario: c.scenario, Kind: metrics.KindIteration}
		req := metrics.Key{Scenario: c.scenario, Step: c.step, Kind: metrics.KindStep}
		for _, k := range []metrics.Key{it, req} {
			m, w := merged.Metrics.SeriesOf(k), wholeRes.Metrics.SeriesOf(k)
			require.NotNil(t, m, "%v merged", k)
			require.NotNil(t, w, "%v whole", k)
			assert.Equal(t, c.want, m.Total.Count(), "%v merged", k)
			assert.Equal(t, c.want, m.Total.Outcomes[metrics.OK], "%v merged: all ok", k)
			assert.Equal(t, w.Total.Outcomes, m.Total.Outcomes, "%v: merged vs one process", k)
		}
	}

	// The grid: every segment's series and the merged series start at
	// StartAt and step by the interval, and the merged intervals add up to
	// the merged totals (the plan has no warm-up).
	checkGrid := func(name string, snap *metrics.Snapshot) {
		t.Helper()
		assert.True(t, snap.Start.Equal(startAt), "%s starts at %v, not StartAt %v", name, snap.Start, startAt)
		assert.Equal(t, interval, snap.Interval, name)
		for _, m := range snap.Series {
			for i, p := range m.Points {
				want := startAt.Add(time.Duration(i) * interval)
				assert.True(t, p.Start.Equal(want), "%s: %v point %d starts at %v, want %v", name, m.Key, i, p.Start, want)
			}
		}
	}
	for i, p := range parts {
		assert.True(t, p.Start.Equal(startAt), "segment %d: Start %v, want StartAt %v", i, p.Start, startAt)
		checkGrid(fmt.Sprintf("segment %d", i), p.Metrics)
	}
	checkGrid("merged", merged.Metrics)
	for _, m := range merged.Metrics.Series {
		var sum metrics.Stats
		for _, p := range m.Points {
			sum.Merge(&p.Stats)
		}
		assert.Equal(t, m.Total.Outcomes, sum.Outcomes, "%v: intervals vs total", m.Key)
		assert.True(t, m.Total.Latency.Hist.Equal(&sum.Latency.Hist), "%v: interval histograms vs total", m.Key)
	}

	// Percentiles: the merge's are those of the segments' totals merged by
	// hand, exactly (HDR histograms add without loss).
	for _, k := range []metrics.Key{
		{Scenario: "browse", Step: "list", Kind: metrics.KindStep},
		{Scenario: "open", Step: "detail", Kind: metrics.KindStep},
		{Scenario: "open", Kind: metrics.KindIteration},
	} {
		var hand metrics.Stats
		for _, p := range parts {
			m := p.Metrics.SeriesOf(k)
			require.NotNil(t, m, "%v in segment %v", k, p.Segment)
			hand.Merge(&m.Total)
		}
		got := merged.Metrics.SeriesOf(k).Total
		for _, q := range []float64{0.5, 0.95, 0.99} {
			assert.Equal(t, hand.Quantile(q), got.Quantile(q), "%v q=%v", k, q)
		}
		assert.True(t, hand.Latency.Hist.Equal(&got.Latency.Hist), "%v: histograms", k)
		assert.Equal(t, hand.Latency.Min, got.Latency.Min, k)
		assert.Equal(t, hand.Latency.Max, got.Latency.Max, k)
	}

	// Refusals reach the user, naming what is wrong.
	mergeErr := func(files ...string) string {
		t.Helper()
		err := run(t.Context(), append([]string{"merge"}, files...), &bytes.Buffer{}, &bytes.Buffer{}, false)
		require.Error(t, err)
		return err.Error()
	}
	msg := mergeErr(files[0], files[1], files[3])
	assert.Contains(t, msg, "loadgen: segment 3/4 is missing (MergePartial merges without it)")
	assert.Contains(t, msg, "segment 3/4 is missing")

	// Asked to, it merges without the lost segment, and says so.
	stdout.Reset()
	require.NoError(t, run(t.Context(), []string{"merge", "-partial", files[0], files[1], files[3]}, &stdout, &stderr, false), stderr.String())
	assert.Contains(t, stdout.String(), "segments: 3 of 4 merged (3/4 missing)")
	assert.Contains(t, stdout.String(), "a partial merge: segment(s) 3/4 of 4 missing")
	msg = mergeErr(files[0], files[1], files[1], files[3])
	assert.Contains(t, msg, "loadgen: segment 2/4 appears twice")
	assert.Contains(t, msg, "segment 2/4 is given 2 times: "+files[1]+", result 1 in the log, "+files[1]+", result 1 in the log")
	assert.Contains(t, msg, "segment 3/4 is missing")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"outside host", []string{"-target", "http://example.com"},
			`-target must be a loopback URL (127.0.0.1, [::1] or localhost; this example loads no other host), got "http://example.com"`},
		{"not a URL", []string{"-target", "127.0.0.1:8080"}, `-target must be an http:// or https:// URL, got "127.0.0.1:8080"`},
		{"bad segment", []string{"-segment", "0/4"}, `loadgen: segment "0/4": i must be in [1, 4], got 0`},
		{"bad start", []string{"-segment", "1/4", "-start-at", "tomorrow"},
			`-start-at must be an RFC 3339 time such as "2026-05-01T12:00:00Z", got "tomorrow"`},
		{"stray argument", []string{"-segment", "1/4", "extra"}, `run takes no arguments besides flags, got ["extra"]`},
		{"merge without files", []string{"merge"}, "merge needs the result of every segment, in result files or logs, e.g. merge -html report.html results/*.json"},
		{"log and out", []string{"-segment", "1/4", "-log", "-out", "r.json"}, "-log writes the result to stdout: give -log or -out, not both"},
		{"merge flag after files", []string{"merge", "a.json", "-html", "r.html"}, `merge: flags go before the files, got "-html" after "a.json"`},
		{"merge missing file", []string{"merge", "does-not-exist.json"}, "open does-not-exist.json: no such file or directory"},
		{"merge neither result nor log", []string{"merge", "doc.go"}, "doc.go: neither a result file (JSON) nor a log with a result block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(t.Context(), tc.args, &bytes.Buffer{}, &bytes.Buffer{}, true)
			assert.EqualError(t, err, tc.err)
		})
	}
}

func TestSegmentFromEnvironment(t *testing.T) {
	t.Setenv(loadgen.EnvSegmentIndex, "")
	t.Setenv(loadgen.EnvJobCompletionIndex, "2")
	t.Setenv(loadgen.EnvSegmentCount, "")
	err := run(t.Context(), []string{"-target", "http://127.0.0.1:1"}, &bytes.Buffer{}, &bytes.Buffer{}, false)
	assert.EqualError(t, err, `loadgen: JOB_COMPLETION_INDEX is set ("2") but STAMPEDE_SEGMENT_COUNT is not: set both, or neither for the whole plan`)
	t.Setenv(loadgen.EnvSegmentCount, "4")
	t.Setenv(loadgen.EnvStartAt, "__START_AT__")
	err = run(t.Context(), []string{"-target", "http://127.0.0.1:1"}, &bytes.Buffer{}, &bytes.Buffer{}, false)
	assert.EqualError(t, err, `loadgen: STAMPEDE_START_AT must be an RFC 3339 time such as "2026-05-01T12:00:00Z", got "__START_AT__"`)
}

// TestWithoutTargetStartsTheDemo runs the whole plan with no -target, to
// stdout: the command starts its own demo service (here in memory, on a
// fake clock, so the counts are exact).
func TestWithoutTargetStartsTheDemo(t *testing.T) {
	t.Setenv(loadgen.EnvSegmentIndex, "")
	t.Setenv(loadgen.EnvJobCompletionIndex, "")
	t.Setenv(loadgen.EnvSegmentCount, "")
	t.Setenv(loadgen.EnvStartAt, "")
	synctest.Test(t, func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		require.NoError(t, run(t.Context(), nil, &stdout, &stderr, true), stderr.String())
		assert.Contains(t, stderr.String(), "no -target: started the demo service at http://demo.internal")
		res, err := loadgen.ReadResult(&stdout)
		require.NoError(t, err)
		assert.True(t, res.Segment.IsWhole())
		assert.Equal(t, int64(browseIterations), res.Iterations("browse").Outcomes[metrics.OK])
		assert.Equal(t, int64(openRate*openDuration/time.Second), res.Iterations("open").Outcomes[metrics.OK])
		assert.Equal(t, time.Millisecond, res.Metrics.SeriesOf(metrics.Key{Scenario: "open", Step: "detail", Kind: metrics.KindStep}).Total.Latency.Max)
	})
}

// TestSegmentsMergeExactlyInMemory runs the four segments side by side and
// the whole plan, on a fake clock with the demo service in memory, and
// merges the segments through the command: every request takes exactly
// 1 ms there, so the merge equals the whole plan's result in every count
// and every histogram bucket of the steps, iterations and schedule lag.
// (Not of the connection phases: four processes open more connections
// than one, and reuse each fewer times.)
func TestSegmentsMergeExactlyInMemory(t *testing.T) {
	for _, v := range []string{loadgen.EnvSegmentIndex, loadgen.EnvJobCompletionIndex, loadgen.EnvSegmentCount, loadgen.EnvStartAt} {
		t.Setenv(v, "")
	}
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		startAt := time.Now().Add(time.Second)
		files := make([]string, segments)
		var wg sync.WaitGroup
		for i := range segments {
			files[i] = filepath.Join(dir, fmt.Sprintf("segment-%d.log", i))
			wg.Go(func() {
				var out, errOut bytes.Buffer
				assert.NoError(t, run(t.Context(), []string{"-segment", fmt.Sprintf("%d/%d", i+1, segments),
					"-start-at", startAt.Format(time.RFC3339Nano), "-out", files[i]}, &out, &errOut, true), errOut.String())
			})
		}
		wg.Wait()
		var out, errOut bytes.Buffer
		whole := filepath.Join(dir, "whole.json")
		require.NoError(t, run(t.Context(), []string{"-out", whole}, &out, &errOut, true), errOut.String())
		merged := filepath.Join(dir, "merged.json")
		require.NoError(t, run(t.Context(), append([]string{"merge", "-json", merged}, files...), &out, &errOut, true), errOut.String())
		w, err := loadgen.LoadResult(whole)
		require.NoError(t, err)
		m, err := loadgen.LoadResult(merged)
		require.NoError(t, err)
		require.Equal(t, len(w.Metrics.Series), len(m.Metrics.Series))
		for _, wm := range w.Metrics.Series {
			if !slices.Contains([]metrics.Kind{metrics.KindStep, metrics.KindIteration, metrics.KindScheduleLag}, wm.Kind) {
				continue
			}
			mm := m.Metrics.SeriesOf(wm.Key)
			require.NotNil(t, mm, "%v", wm.Key)
			assert.Equal(t, wm.Total.Outcomes, mm.Total.Outcomes, "%v", wm.Key)
			assert.True(t, wm.Total.Latency.Hist.Equal(&mm.Total.Latency.Hist), "%v: histograms", wm.Key)
			assert.Equal(t, wm.Total.Latency.Sum, mm.Total.Latency.Sum, "%v", wm.Key)
		}
		assert.Equal(t, int64(browseIterations), m.Iterations("browse").Outcomes[metrics.OK])
		assert.Equal(t, int64(openRate*openDuration/time.Second), m.Iterations("open").Outcomes[metrics.OK])
	})
}

// TestReadResultsFromLogs: merge's reader takes a result file, a log whose
// first line is JSON of a structured logger with a block after it, and
// says what an empty file is.
func TestReadResultsFromLogs(t *testing.T) {
	res, err := loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{{Name: "s",
		Executor:  loadgen.PerVUIterations{VUs: 1, Iterations: 2},
		Iteration: func(context.Context, *loadgen.Iteration) error { return nil }}}})
	require.NoError(t, err)
	dir := t.TempDir()
	var log bytes.Buffer
	log.WriteString(`{"level":"info","msg":"segment 1/1: starting"}` + "\n")
	require.NoError(t, res.WriteLog(&log))
	paths := map[string][]byte{"pod.log": log.Bytes(), "empty.log": nil}
	var js bytes.Buffer
	require.NoError(t, res.WriteJSON(&js))
	paths["result.json"] = js.Bytes()
	for name, b := range paths {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	for _, name := range []string{"pod.log", "result.json"} {
		var got []*loadgen.Result
		require.NoError(t, readResults(filepath.Join(dir, name), func(r *loadgen.Result, _ string) { got = append(got, r) }), name)
		require.Len(t, got, 1, name)
		assert.Equal(t, int64(2), got[0].Iterations("s").Count(), name)
	}
	err = readResults(filepath.Join(dir, "empty.log"), func(*loadgen.Result, string) {})
	assert.EqualError(t, err, filepath.Join(dir, "empty.log")+": empty: neither a result file (JSON) nor a log with a result block")
}
