// Package reporttest holds the go test helpers of stampede: a test that
// fails, with everything needed to understand why, when a run misses its
// thresholds or a candidate regresses; and a benchmark that reports each
// step of a plan in the Go benchmark format. It is the only package of the
// module that imports testing, so programs that use report and compare
// outside tests do not link it.
//
// Start with [Require] in a test that runs load:
//
//	func TestSignupHoldsItsSLO(t *testing.T) {
//		res, err := loadgen.Run(t.Context(), plan)
//		require.NoError(t, err)
//		reporttest.Require(t, res, report.MustParseThresholds("p95<500ms", "error_rate<1%")...)
//	}
package reporttest

import (
	"strings"
	"testing"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/compare"
)

// Require checks thresholds against a run and, unless every one passes,
// fails t once with the verdicts, the figures of the rows the failed ones
// look at, the errors by class with example messages, the dropped arrivals
// and the warnings (see [report.Summary.WriteFailure]). A threshold that
// cannot be checked (its selector matches nothing) fails too. It returns
// whether all passed.
func Require(t testing.TB, res *loadgen.Result, ts ...report.Threshold) bool {
	t.Helper()
	vs := report.Check(res, ts...)
	if vs.Passed() {
		return true
	}
	var b strings.Builder
	b.WriteString("the load test failed its thresholds\n")
	_ = report.Summarize(res).WriteFailure(&b, vs) // a strings.Builder does not fail
	t.Error(b.String())
	return false
}

// RequireTrustedGenerator fails t when the summary of res warns that the
// generator, not the target, may have made its numbers (see
// [report.GeneratorSummary] for the rule), with the warnings and the
// generator's health; it returns whether there was no such warning. A run
// that did not record the generator (on a fake clock) passes.
func RequireTrustedGenerator(t testing.TB, res *loadgen.Result) bool {
	t.Helper()
	s := report.Summarize(res)
	ws := s.GeneratorWarnings()
	if len(ws) == 0 {
		return true
	}
	var b strings.Builder
	b.WriteString("the generator may have made the numbers:\n")
	for _, w := range ws {
		b.WriteString("- " + w + "\n")
	}
	b.WriteString("\n")
	_ = s.WriteText(&b)
	t.Error(b.String())
	return false
}

// RequireNoRegression fails t, with the comparison table and one line per
// violation, when the candidate breaks a budget or a budget cannot be
// checked; it returns whether none was broken.
func RequireNoRegression(t testing.TB, c *compare.Comparison, budgets ...compare.Budget) bool {
	t.Helper()
	vs, err := c.Violations(budgets...)
	if len(vs) == 0 && err == nil {
		return true
	}
	var b strings.Builder
	b.WriteString("the candidate regressed\n")
	_ = c.WriteText(&b)
	for _, v := range vs {
		b.WriteString("REGRESSION " + v.Row.String() + ": " + v.Reason + "\n")
	}
	if err != nil {
		b.WriteString("budgets that could not be checked: " + err.Error() + "\n")
	}
	t.Error(b.String())
	return false
}

// Benchmark runs the plan once inside a Go benchmark and reports each row
// of the run — every step, each scenario's iterations and an open
// scenario's schedule lag — as a sub-benchmark named by
// [report.BenchmarkName], so that benchstat compares steps, not only whole
// iterations. Each reports the row's [report.BenchmarkValues], with ns/op
// set to the mean latency of its successful operations (and left out when
// none succeeded). A run is the unit of repetition: use -count for
// several, as benchstat wants. It fails the benchmark if the run fails,
// and returns the Result.
func Benchmark(b *testing.B, plan *loadgen.Plan) *loadgen.Result {
	b.Helper()
	res, err := loadgen.Run(b.Context(), plan)
	if err != nil {
		b.Fatalf("reporttest.Benchmark: %v", err)
	}
	for _, r := range report.Rows(res) {
		vs := report.BenchmarkValues(res, r)
		b.Run(report.BenchmarkName(r), func(b *testing.B) {
			b.ReportMetric(0, "ns/op") // 0 leaves the loop's own timing out
			for _, v := range vs {
				unit := v.Unit
				if v.Metric == report.Mean() {
					unit = "ns/op"
				}
				b.ReportMetric(v.Value, unit)
			}
		})
	}
	return res
}
