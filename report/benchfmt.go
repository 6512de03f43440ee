package report

import (
	"bufio"
	"io"
	"math"
	"strings"
	"unicode"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchunit"

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
	case m.Unit() == UnitDuration:
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
// each line carries the row's [BenchmarkValues], as golang.org/x/perf's
// benchfmt.Writer prints them (each float's shortest form, with an
// exponent from a million on: 1.2e+07). The units' metadata (assume=nothing, better=lower/higher, one
// "Unit" line each) is written first, so the unit names survive
// benchstat's tidying. No file configuration ("key: value" lines) is
// written: benchstat makes a table of each configuration, and one that
// differed between baseline and candidate would keep them apart. A row
// with nothing recorded writes no line.
func WriteBenchmark(w io.Writer, name string, runs ...*loadgen.Result) error {
	bw := bufio.NewWriter(w)
	out := benchfmt.NewWriter(bw)
	for _, m := range append(BenchmarkMetrics(), DroppedShare()) {
		better := "lower"
		if m.HigherIsBetter() {
			better = "higher"
		}
		unit := BenchmarkUnit(m)
		_, tidy := benchunit.Tidy(1, unit)
		for _, kv := range [...]struct{ key, value string }{{"assume", "nothing"}, {"better", better}} {
			md := &benchfmt.UnitMetadata{UnitMetadataKey: benchfmt.UnitMetadataKey{Unit: tidy, Key: kv.key}, OrigUnit: unit, Value: kv.value}
			if err := out.Write(md); err != nil {
				return err
			}
		}
	}
	base := benchName(name)
	var rec benchfmt.Result
	for _, res := range runs {
		for _, r := range Rows(res) {
			st, _, ok := RowStats(res, r)
			if !ok {
				continue // a scenario that recorded nothing, in a file
			}
			rec.Name = append(append(append(rec.Name[:0], base...), '/'), BenchmarkName(r)...)
			rec.Iters = int(min(max(st.Count(), 1), math.MaxInt))
			rec.Values = rec.Values[:0]
			for _, v := range BenchmarkValues(res, r) {
				// Tidied, as benchfmt wants a Value; the writer writes the original.
				tv, tu := benchunit.Tidy(v.Value, v.Unit)
				rec.Values = append(rec.Values, benchfmt.Value{Value: tv, Unit: tu, OrigValue: v.Value, OrigUnit: v.Unit})
			}
			if err := out.Write(&rec); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
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
