// Package table lays out the rows of a report as aligned text, Markdown or
// HTML cells. Cells are plain strings; a table never interprets them.
package table

import (
	"strings"
	"unicode/utf8"
)

// Table is a grid of cells with a header. Right marks the columns aligned
// right (numbers).
type Table struct {
	Caption string
	Head    []string
	Right   []bool
	Rows    [][]string
	Classes []string // per row, for HTML; optional
}

// New returns a table with the given header; a column whose name begins
// with '>' is aligned right (the '>' is dropped).
func New(head ...string) *Table {
	t := &Table{}
	for _, h := range head {
		right := strings.HasPrefix(h, ">")
		t.Head = append(t.Head, strings.TrimPrefix(h, ">"))
		t.Right = append(t.Right, right)
	}
	return t
}

// Add appends a row; missing cells are empty.
func (t *Table) Add(cells ...string) {
	row := make([]string, len(t.Head))
	copy(row, cells)
	t.Rows = append(t.Rows, row)
}

// AddClass appends a row with an HTML class.
func (t *Table) AddClass(class string, cells ...string) {
	for len(t.Classes) < len(t.Rows) {
		t.Classes = append(t.Classes, "")
	}
	t.Add(cells...)
	t.Classes = append(t.Classes, class)
}

// Class returns row i's class ("" if none).
func (t *Table) Class(i int) string {
	if i < len(t.Classes) {
		return t.Classes[i]
	}
	return ""
}

// Len returns the number of rows.
func (t *Table) Len() int { return len(t.Rows) }

func (t *Table) widths() []int {
	w := make([]int, len(t.Head))
	for i, h := range t.Head {
		w[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.Rows {
		for i, c := range r {
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	return w
}

func pad(s string, w int, right bool) string {
	n := w - utf8.RuneCountInString(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}

// Text writes the table as aligned columns, each line after indent, with
// no trailing spaces. Newlines in cells become spaces, so a row stays a
// line.
func (t *Table) Text(b *strings.Builder, indent string) {
	w := t.widths()
	line := func(cells []string) {
		var l strings.Builder
		l.WriteString(indent)
		for i, c := range cells {
			if i > 0 {
				l.WriteString("  ")
			}
			l.WriteString(pad(oneLine(c), w[i], t.Right[i]))
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	line(t.Head)
	for _, r := range t.Rows {
		line(r)
	}
}

// Markdown writes the table as a GitHub-flavoured Markdown table.
func (t *Table) Markdown(b *strings.Builder) {
	esc := func(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }
	b.WriteString("|")
	for _, h := range t.Head {
		b.WriteString(" " + esc(h) + " |")
	}
	b.WriteString("\n|")
	for i := range t.Head {
		if t.Right[i] {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteByte('\n')
	for _, r := range t.Rows {
		b.WriteString("|")
		for _, c := range r {
			b.WriteString(" " + esc(c) + " |")
		}
		b.WriteByte('\n')
	}
}

// oneLine replaces line breaks and tabs with spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
}

// Verdicts is the table of threshold verdicts every report shows: per
// threshold, its expression, the measured value and "pass" or "FAIL" with
// the reason the threshold could not be checked, each row classed "pass"
// or "fail" (HTML colours it). row gives the i-th of n verdicts.
func Verdicts(n int, row func(i int) (threshold, actual string, pass bool, err error)) *Table {
	t := New("threshold", ">actual", "result")
	for i := range n {
		expr, actual, pass, err := row(i)
		r, class := "pass", "pass"
		if !pass {
			r, class = "FAIL", "fail"
			if err != nil {
				r = "FAIL: " + strings.TrimPrefix(err.Error(), "report: ")
			}
		}
		t.AddClass(class, expr, actual, r)
	}
	return t
}
