package report

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the summary as aligned tables for a terminal.
func WriteText(w io.Writer, s *Summary) error {
	var b strings.Builder
	render(&b, s, false)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the summary as Markdown tables, for a pull request.
func WriteMarkdown(w io.Writer, s *Summary) error {
	var b strings.Builder
	render(&b, s, true)
	_, err := io.WriteString(w, b.String())
	return err
}

func stepTable() *table {
	return &table{
		head:  []string{"step", "count", "rate", "errors", "mean", "min", "median", "p90", "p95", "p99", "p99.9", "max"},
		right: []bool{false, true, true, true, true, true, true, true, true, true, true, true},
	}
}

func figureRow(name string, f Figures) []string {
	errs := fmt.Sprint(f.Errors)
	if f.Errors > 0 {
		errs = fmt.Sprintf("%d (%s)", f.Errors, Percent(f.ErrorRate))
	}
	if f.Count == 0 && f.Errors == 0 {
		return []string{name, "0", Rate(0), "0", "-", "-", "-", "-", "-", "-", "-", "-"}
	}
	return []string{name, fmt.Sprint(f.Count), Rate(f.Rate), errs,
		Duration(f.Mean), Duration(f.Min), Duration(f.Median), Duration(f.P90), Duration(f.P95),
		Duration(f.P99), Duration(f.P999), Duration(f.Max)}
}

func render(b *strings.Builder, s *Summary, md bool) {
	title := s.Plan.Name
	if title == "" {
		title = "load test"
	}
	heading := func(level int, text string) {
		if md {
			fmt.Fprintf(b, "\n%s %s\n\n", strings.Repeat("#", level), text)
		} else if level == 1 {
			fmt.Fprintf(b, "%s\n%s\n", text, strings.Repeat("=", len([]rune(text))))
		} else {
			fmt.Fprintf(b, "\n%s\n", text)
		}
	}
	heading(1, title)
	meta := s.meta()
	for _, m := range meta {
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
		t := stepTable()
		for _, st := range sc.Steps {
			t.add(figureRow(st.Name, st.Figures)...)
		}
		t.add(figureRow("(iteration)", sc.Iteration)...)
		if sc.Lag != nil {
			t.add(figureRow("(schedule lag)", *sc.Lag)...)
		}
		emit(b, t, md)
		var phases *table
		for _, st := range sc.Steps {
			for _, p := range st.Phases {
				if phases == nil {
					phases = &table{head: []string{"step", "phase", "median", "p95", "p99", "max"}, right: []bool{false, false, true, true, true, true}}
				}
				f := p.Figures
				phases.add(st.Name, strings.TrimPrefix(p.Phase, "http_"), Duration(f.Median), Duration(f.P95), Duration(f.P99), Duration(f.Max))
			}
		}
		if phases != nil {
			b.WriteString("\nHTTP phases:\n\n")
			emit(b, phases, md)
		}
		var errs *table
		for _, st := range append(sc.Steps, StepSummary{Name: "(iteration)", Figures: sc.Iteration}) {
			for _, c := range st.Figures.ErrorsByClass {
				if errs == nil {
					errs = &table{head: []string{"step", "class", "count"}, right: []bool{false, false, true}}
				}
				errs.add(st.Name, c.Class, fmt.Sprint(c.Count))
			}
		}
		if errs != nil {
			b.WriteString("\nerrors by class:\n\n")
			emit(b, errs, md)
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
				fmt.Fprintf(b, "  - %s\n", m)
			}
		}
	}
	if len(s.Gauges) > 0 {
		heading(2, "gauges")
		t := &table{head: []string{"gauge", "min", "mean", "max", "samples"}, right: []bool{false, true, true, true, true}}
		for _, g := range s.Gauges {
			t.add(g.Name, num(g.Min), num(g.Mean), num(g.Max), fmt.Sprint(g.Samples))
		}
		emit(b, t, md)
	}
	if len(s.Events) > 0 {
		heading(2, "events")
		t := &table{head: []string{"at", "event", "took", "result"}, right: []bool{true, false, true, false}}
		for _, e := range s.Events {
			result := "ok"
			switch {
			case e.Skipped:
				result = "not run (the run ended first)"
			case e.Error != "":
				result = "error: " + e.Error
			}
			t.add(Duration(e.Offset), e.Name, Duration(e.Took), result)
		}
		emit(b, t, md)
	}
	if len(s.Warnings) > 0 {
		heading(2, "warnings")
		for _, w := range s.Warnings {
			fmt.Fprintf(b, "- %s\n", w)
		}
	}
}

func emit(b *strings.Builder, t *table, md bool) {
	if md {
		t.markdown(b)
	} else {
		t.text(b, "  ")
	}
}

func num(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15 && v > -1e15:
		return fmt.Sprint(int64(v))
	}
	return fmt.Sprintf("%.3g", v)
}
