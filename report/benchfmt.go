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

// WriteBenchmark writes runs in the Go benchmark format, one line per run,
// scenario and step (and one for each scenario's iterations), so that
// benchstat compares them: write the baseline's repetitions to one file,
// the candidate's to another, and run `benchstat old.txt new.txt`. Names are
// Benchmark<name>/scenario=<s>/step=<step>, with step=iteration for the
// iterations and step=schedule_lag for an open scenario's lag; each line
// carries the [BenchmarkMetrics] that apply to it (and, for an open
// scenario's iterations, dropped_share). The units' metadata (assume=nothing,
// better=lower/higher) is written first, so the unit names survive
// benchstat's tidying.
func WriteBenchmark(w io.Writer, name string, runs ...*loadgen.Result) error {
	var b strings.Builder
	ms := BenchmarkMetrics()
	for _, m := range append(ms, DroppedShare()) {
		better := "lower"
		if m.HigherIsBetter() {
			better = "higher"
		}
		fmt.Fprintf(&b, "Unit %s assume=nothing better=%s\n", BenchmarkUnit(m), better)
	}
	base := "Benchmark" + benchName(name)
	for _, res := range runs {
		for _, sc := range res.Plan.Scenarios {
			for _, r := range Rows(res) {
				if r.Scenario != sc.Name {
					continue
				}
				st, window, _ := RowStats(res, r)
				step := benchName(r.Step)
				switch r.Key().Kind {
				case metrics.KindIteration:
					step = "iteration"
				case metrics.KindScheduleLag:
					step = "schedule_lag"
				}
				fmt.Fprintf(&b, "%s/scenario=%s/step=%s %d", base, benchName(sc.Name), step, max(st.Count(), 1))
				line := ms
				if r.Key().Kind == metrics.KindIteration && sc.Open {
					line = append(ms[:len(ms):len(ms)], DroppedShare())
				}
				for _, m := range line {
					if !r.Applies(m) {
						continue
					}
					v, _ := m.Value(st, window)
					fmt.Fprintf(&b, " %s %s", strconv.FormatFloat(v, 'f', -1, 64), BenchmarkUnit(m))
				}
				b.WriteByte('\n')
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
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
