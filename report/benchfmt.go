package report

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/stampede-go/stampede/loadgen"
)

// benchUnits are the units WriteBenchmark writes, with whether higher is
// better.
var benchUnits = []struct {
	unit   string
	better string
}{
	{"p50-ns", "lower"}, {"p90-ns", "lower"}, {"p95-ns", "lower"}, {"p99-ns", "lower"},
	{"mean-ns", "lower"}, {"max-ns", "lower"}, {"req/s", "higher"}, {"errors", "lower"}, {"error-rate", "lower"},
}

// WriteBenchmark writes runs in the Go benchmark format, one line per run,
// scenario and step (and one for each scenario's iterations), so that
// benchstat compares them: write the baseline's repetitions to one file,
// the candidate's to another, and run `benchstat old.txt new.txt`. Names are
// Benchmark<name>/scenario=<s>/step=<step>; the units' metadata (assume=
// nothing, better=lower/higher) is written first, so the unit names survive
// benchstat's tidying.
func WriteBenchmark(w io.Writer, name string, runs ...*loadgen.Result) error {
	var b strings.Builder
	for _, u := range benchUnits {
		fmt.Fprintf(&b, "Unit %s assume=nothing better=%s\n", u.unit, u.better)
	}
	base := "Benchmark" + benchName(name)
	for _, res := range runs {
		s := Summarize(res)
		for _, sc := range s.Scenarios {
			for _, st := range sc.Steps {
				benchLine(&b, fmt.Sprintf("%s/scenario=%s/step=%s", base, benchName(sc.Name), benchName(st.Name)), st.Figures)
			}
			benchLine(&b, fmt.Sprintf("%s/scenario=%s/step=iteration", base, benchName(sc.Name)), sc.Iteration)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func benchLine(b *strings.Builder, name string, f Figures) {
	fmt.Fprintf(b, "%s %d %d p50-ns %d p90-ns %d p95-ns %d p99-ns %.0f mean-ns %d max-ns %.6g req/s %d errors %.6g error-rate\n",
		name, max(f.Count, 1), f.Median, f.P90, f.P95, f.P99, float64(f.Mean), f.Max, f.Rate, f.Errors, f.ErrorRate)
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
