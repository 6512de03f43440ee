package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/internal/table"
	"github.com/stampede-go/stampede/metrics"
)

// WriteText writes the summary as aligned tables for a terminal.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	s.render(&b, false)
	return format.WriteText(w, b.String())
}

// WriteMarkdown writes the summary as Markdown, for a pull request.
func (s *Summary) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	s.render(&b, true)
	return format.WriteMarkdown(w, b.String())
}

// stepTable is the main table of a scenario: per row the count, rate,
// errors and the latency of successful operations.
func stepTable() *table.Table {
	return table.New("step", ">count", ">rate", ">errors", ">mean", ">min", ">p50", ">p90", ">p95", ">p99", ">p99.9", ">max")
}

func figureRow(name string, f Figures) []string {
	errs := strconv.FormatInt(f.Errors, 10)
	if f.Errors > 0 {
		errs = fmt.Sprintf("%d (%s)", f.Errors, format.Percent(f.ErrorRate))
	}
	l := f.Latency
	if l.Count == 0 {
		return []string{name, strconv.FormatInt(f.Count, 10), format.Rate(f.Rate), errs, "-", "-", "-", "-", "-", "-", "-", "-"}
	}
	d := format.Duration
	return []string{name, strconv.FormatInt(f.Count, 10), format.Rate(f.Rate), errs,
		d(l.Mean), d(l.Min), d(l.P50), d(l.P90), d(l.P95), d(l.P99), d(l.P999), d(l.Max)}
}

// rows lists a scenario's rows: its steps, each followed by the kinds of
// another protocol recorded under its name (named as a selector picks
// them: "watch[grpc_msg]"), its iterations and its schedule lag.
func (sc *ScenarioSummary) rows() []namedFigures {
	var out []namedFigures
	for _, st := range sc.Steps {
		out = append(out, namedFigures{st.Name, metrics.Key{Scenario: sc.Name, Step: st.Name, Kind: metrics.KindStep}, st.Figures})
		for _, k := range st.Kinds {
			out = append(out, namedFigures{st.Name + "[" + k.Phase + "]", metrics.Key{Scenario: sc.Name, Step: st.Name, Kind: metrics.Kind(k.Phase)}, k.Figures})
		}
	}
	out = append(out, namedFigures{"(iteration)", metrics.Key{Scenario: sc.Name, Kind: metrics.KindIteration}, sc.Iteration})
	if sc.Lag != nil {
		out = append(out, namedFigures{"(schedule lag)", metrics.Key{Scenario: sc.Name, Kind: metrics.KindScheduleLag}, *sc.Lag})
	}
	return out
}

// isKindRow reports whether k is a row of another protocol's kind under a
// step.
func isKindRow(k metrics.Key) bool {
	return k.Step != "" && k.Kind != metrics.KindStep
}

type namedFigures struct {
	name string // in the scenario's tables
	key  metrics.Key
	f    Figures
}

// scenarioTables returns a scenario's tables, each with its heading
// ("" for the main one): latency of successes, failed latency, HTTP
// phases, errors by class, status codes.
func (sc *ScenarioSummary) tables() []struct {
	heading string
	t       *table.Table
} {
	type titled = struct {
		heading string
		t       *table.Table
	}
	main := stepTable()
	failed := table.New("step", ">failed", ">p50", ">p95", ">max")
	errs := table.New("step", "class", ">count")
	codes := table.New("step", ">status", ">count")
	for _, r := range sc.rows() {
		kindRow := isKindRow(r.key)
		if r.f.Count > 0 || !kindRow { // a kind of status codes alone has no figures
			main.Add(figureRow(r.name, r.f)...)
		}
		if !kindRow { // a kind's errors are its step's (a phase carries the step's outcome), shown on the step's row
			if l := r.f.Failed; l.Count > 0 {
				failed.Add(r.name, strconv.FormatInt(l.Count, 10), format.Duration(l.P50), format.Duration(l.P95), format.Duration(l.Max))
			}
			for _, c := range r.f.ErrorsByClass {
				errs.Add(r.name, c.Class, strconv.FormatInt(c.Count, 10))
			}
		}
		for _, c := range r.f.Status {
			codes.Add(r.name, metrics.CodeName(r.key.Kind, c.Code), strconv.FormatInt(c.Count, 10))
		}
	}
	phases := table.New("step", "phase", ">p50", ">p95", ">p99", ">max")
	for _, st := range sc.Steps {
		for _, p := range st.Phases {
			l := p.Figures.Latency
			phases.Add(st.Name, strings.TrimPrefix(p.Phase, "http_"), format.Duration(l.P50), format.Duration(l.P95), format.Duration(l.P99), format.Duration(l.Max))
		}
	}
	out := []titled{{"", main}}
	for _, t := range []titled{
		{"latency of failed operations (apart from the figures above)", failed},
		{"HTTP phases", phases},
		{"errors by class", errs},
		{"status codes", codes},
	} {
		if t.t.Len() > 0 {
			out = append(out, t)
		}
	}
	return out
}

func (s *Summary) render(b *strings.Builder, md bool) {
	title := s.Plan.Name
	if title == "" {
		title = "load test"
	}
	heading := func(level int, text string) {
		switch {
		case md:
			fmt.Fprintf(b, "\n%s %s\n\n", strings.Repeat("#", level), text)
		case level == 1:
			fmt.Fprintf(b, "%s\n%s\n", text, strings.Repeat("=", len([]rune(text))))
		default:
			fmt.Fprintf(b, "\n%s\n", text)
		}
	}
	emit := func(t *table.Table) {
		if md {
			t.Markdown(b)
		} else {
			t.Text(b, "  ")
		}
	}
	heading(1, title)
	for _, m := range s.meta() {
		if md {
			fmt.Fprintf(b, "- **%s**: %s\n", m[0], m[1])
		} else {
			fmt.Fprintf(b, "%-9s %s\n", m[0]+":", m[1])
		}
	}
	for _, sc := range s.Scenarios {
		heading(2, fmt.Sprintf("scenario %s — %s", sc.Name, sc.Executor))
		it := fmt.Sprintf("iterations: %d started = %d completed + %d failed + %d interrupted", sc.Started, sc.Completed, sc.Failed, sc.Interrupted)
		if sc.Open {
			it += fmt.Sprintf("; %d dropped", sc.Dropped)
		}
		b.WriteString(it + "\n\n")
		for _, t := range sc.tables() {
			if t.heading != "" {
				b.WriteString("\n" + t.heading + ":\n\n")
			}
			emit(t.t)
		}
		if line := sc.delayLine(); line != "" {
			b.WriteString("\n" + line + "\n")
		}
		var samples []string
		for _, e := range s.Errors {
			if e.Scenario == sc.Name {
				samples = append(samples, fmt.Sprintf("%s: %s", e.Outcome, e.Message))
			}
		}
		if len(samples) > 0 {
			b.WriteString("\nexample errors:\n")
			for _, m := range samples {
				fmt.Fprintf(b, "  - %s\n", strings.ReplaceAll(m, "\n", " "))
			}
		}
	}
	if g := s.Generator; g != nil {
		heading(2, "generator")
		for _, l := range g.lines() {
			if md {
				b.WriteString("- " + l + "\n")
			} else {
				b.WriteString("  " + l + "\n")
			}
		}
	}
	if len(s.Gauges) > 0 {
		heading(2, "gauges")
		emit(s.gaugeTable())
	}
	if len(s.Events) > 0 {
		heading(2, "events")
		emit(s.eventTable())
	}
	if len(s.Warnings) > 0 {
		heading(2, "warnings")
		for _, w := range s.Warnings {
			fmt.Fprintf(b, "- %s\n", w)
		}
	}
}

func (s *Summary) gaugeTable() *table.Table {
	t := table.New("gauge", ">min", ">mean", ">max", ">samples")
	for _, g := range s.Gauges {
		t.Add(g.Name, format.Number(g.Min), format.Number(g.Mean), format.Number(g.Max), strconv.FormatInt(g.Samples, 10))
	}
	return t
}

func (s *Summary) eventTable() *table.Table {
	t := table.New(">at", "event", ">took", "result")
	for _, e := range s.Events {
		result := "ok"
		switch {
		case e.Skipped:
			result = "not run (the run ended first)"
		case e.Error != "":
			result = "error: " + e.Error
		}
		t.Add(format.Duration(e.Offset), e.Name, format.Duration(e.Took), result)
	}
	return t
}

// WriteFailure writes why a run failed its thresholds, so that a red load
// test in CI needs no re-run to be understood: the verdicts as a table
// (once), then the figures of the rows the failed thresholds look at, the
// errors by class with example messages, the dropped arrivals and the
// warnings.
func (s *Summary) WriteFailure(w io.Writer, vs Verdicts) error {
	var b strings.Builder
	b.WriteString("thresholds:\n")
	vs.table().Text(&b, "  ")
	keys := make([]metrics.Key, len(s.res.Metrics.Series))
	for i, m := range s.res.Metrics.Series {
		keys[i] = m.Key
	}
	involved := map[metrics.Key]bool{}
	for _, v := range vs.Failed() {
		idx, err := v.Threshold.Selector.Match(keys)
		if err != nil {
			continue
		}
		for _, i := range idx {
			involved[keys[i]] = true
		}
	}
	rows := stepTable()
	errs := table.New("row", "class", ">count")
	for _, sc := range s.Scenarios {
		for _, r := range sc.rows() {
			k := r.key
			label := sc.Name + "/" + r.name
			if involved[k] {
				rows.Add(figureRow(label, r.f)...)
			}
			if k.Kind != metrics.KindScheduleLag {
				for _, c := range r.f.ErrorsByClass {
					errs.Add(label, c.Class, strconv.FormatInt(c.Count, 10))
				}
			}
		}
	}
	if rows.Len() > 0 {
		b.WriteString("\nthe rows they look at (latency of successful operations):\n")
		rows.Text(&b, "  ")
	}
	if errs.Len() > 0 {
		b.WriteString("\nerrors by class:\n")
		errs.Text(&b, "  ")
	}
	if len(s.Errors) > 0 {
		b.WriteString("\nexample errors:\n")
		for _, e := range s.Errors {
			fmt.Fprintf(&b, "  - %s %s: %s\n", e.Scenario, e.Outcome, strings.ReplaceAll(e.Message, "\n", " "))
		}
	}
	if len(s.Warnings) > 0 { // drops among them
		b.WriteString("\nwarnings:\n")
		for _, w := range s.Warnings {
			fmt.Fprintf(&b, "  - %s\n", w)
		}
	}
	return format.WriteText(w, b.String())
}
