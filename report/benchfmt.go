package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// BenchmarkMetrics are the metrics [WriteBenchmark] writes for every row,
// in order.
func BenchmarkMetrics() []Metric {
	return []Metric{Quantile(0.5), Quantile(0.9), Quantile(0.95), Quantile(0.99), Mean(), Max(), Rate(), Errors(), ErrorRate()}
}

// BenchmarkUnit returns the unit name under which the Go benchmark format
// carries m: the metric's name with "-ns" for latencies (p95-ns,
// p95(failed)-ns), "ops/s" for the rate, the name otherwise (errors,
// error_rate, dropped_share).
func BenchmarkUnit(m Metric) string {
	switch {
	case m.Unit() == Latency:
		return m.String() + "-ns"
	case m == Rate():
		return "ops/s"
	}
	return m.String()
}

// WriteBenchmark writes runs in the Go benchmark format, one line per run
// and row, so that benchstat compares them: write the baseline's
// repetitions to one file, the candidate's to another, and run `benchstat
// old.txt new.txt`. Names are Benchmark<name>/<[BenchmarkName] of the row>;
// each line carries the row's [BenchmarkValues]. The units' metadata
// (assume=nothing, better=lower/higher) is written first, so the unit
// names survive benchstat's tidying.
func WriteBenchmark(w io.Writer, name string, runs ...*loadgen.Result) error {
	var b strings.Builder
	for _, m := range append(BenchmarkMetrics(), DroppedShare()) {
		better := "lower"
		if m.HigherIsBetter() {
			better = "higher"
		}
		fmt.Fprintf(&b, "Unit %s assume=nothing better=%s\n", BenchmarkUnit(m), better)
	}
	base := "Benchmark" + benchName(name)
	for _, res := range runs {
		for _, r := range Rows(res) {
			st, _, _ := RowStats(res, r)
			fmt.Fprintf(&b, "%s/%s %d", base, BenchmarkName(r), max(st.Count(), 1))
			for _, v := range BenchmarkValues(res, r) {
				fmt.Fprintf(&b, " %s %s", strconv.FormatFloat(v.Value, 'f', -1, 64), v.Unit)
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// BenchmarkName names row r as a sub-benchmark: scenario=<s>/step=<step>,
// with step=iteration for a scenario's iterations and step=schedule_lag
// for an open scenario's lag. Spaces, slashes and '=' in names become '_'.
func BenchmarkName(r Row) string {
	step := benchName(r.Step)
	switch r.Key().Kind {
	case metrics.KindIteration:
		step = "iteration"
	case metrics.KindScheduleLag:
		step = "schedule_lag"
	}
	return "scenario=" + benchName(r.Scenario) + "/step=" + step
}

// BenchmarkValue is one figure of a row in the Go benchmark format.
type BenchmarkValue struct {
	Metric Metric
	Unit   string // [BenchmarkUnit] of Metric
	Value  float64
}

// BenchmarkValues returns the figures of row r of a run in the benchmark
// format: the [BenchmarkMetrics] that apply to the row (see [Row.Applies])
// and, for an open scenario's iterations, dropped_share. A figure with no
// data (the latency of successes when every operation failed) is left out,
// never written as 0, which benchstat would read as an improvement.
func BenchmarkValues(res *loadgen.Result, r Row) []BenchmarkValue {
	st, window, ok := RowStats(res, r)
	if !ok {
		return nil
	}
	ms := BenchmarkMetrics()
	if sc := res.Plan.Scenario(r.Scenario); sc != nil && sc.Open && r.Key().Kind == metrics.KindIteration {
		ms = append(ms, DroppedShare())
	}
	var out []BenchmarkValue
	for _, m := range ms {
		if !r.Applies(m) {
			continue
		}
		if v, ok := m.Value(st, window); ok {
			out = append(out, BenchmarkValue{Metric: m, Unit: BenchmarkUnit(m), Value: v})
		}
	}
	return out
}

// benchName makes s safe inside a benchmark name: no spaces, slashes or
// '=' (which separate sub-benchmark keys).
func benchName(s string) string {
	if s == "" {
		return "Load"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '/' || r == '=' {
			return '_'
		}
		return r
	}, s)
}
