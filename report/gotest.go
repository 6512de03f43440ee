package report

import (
	"context"
	"strings"
	"testing"

	"github.com/stampede-go/stampede/loadgen"
)

// TestingT is the part of *testing.T that [Require] uses.
type TestingT interface {
	Errorf(format string, args ...any)
}

// Require checks thresholds against a run and fails t, with one Errorf per
// failed threshold and a table of all of them, unless every one passes. It
// returns whether they all passed.
func Require(t TestingT, res *loadgen.Result, ts ...Threshold) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	vs := Check(res, ts...)
	if Passed(vs) {
		return true
	}
	var b strings.Builder
	verdictTable(vs, false).text(&b, "    ")
	for _, v := range vs {
		if !v.Pass {
			t.Errorf("threshold %s failed: actual %s\n%s", v.Threshold, v.ActualString(), b.String())
		}
	}
	return false
}

// Benchmark runs the plan inside a Go benchmark, once per b.Loop
// iteration, and reports the last run's iteration figures (all scenarios
// together): p50-ns, p95-ns, p99-ns, iters/s and errors. It fails the
// benchmark if the run fails. It returns the last Result.
func Benchmark(b *testing.B, plan *loadgen.Plan) *loadgen.Result {
	b.Helper()
	var res *loadgen.Result
	for b.Loop() {
		var err error
		res, err = loadgen.Run(context.Background(), plan)
		if err != nil {
			b.Fatalf("report.Benchmark: %v", err)
		}
	}
	src := resultSource(res)
	st, _ := src.selectStats("")
	f := FiguresOf(st, src.window)
	b.ReportMetric(float64(f.Median), "p50-ns")
	b.ReportMetric(float64(f.P95), "p95-ns")
	b.ReportMetric(float64(f.P99), "p99-ns")
	b.ReportMetric(f.Rate, "iters/s")
	b.ReportMetric(float64(f.Errors), "errors")
	return res
}
