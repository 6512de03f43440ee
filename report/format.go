package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Duration formats d for humans with 3 significant digits in the largest
// sensible unit: 950ns, 12.3µs, 4.56ms, 3.85s, 2m05s.
func Duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d == 0:
		s = "0"
	case d < time.Microsecond:
		s = fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		s = sig3(float64(d)/1e3) + "µs"
	case d < time.Second:
		s = sig3(float64(d)/1e6) + "ms"
	case d < time.Minute:
		s = sig3(float64(d)/1e9) + "s"
	default:
		d = d.Round(time.Second)
		s = fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	if neg {
		return "-" + s
	}
	return s
}

// sig3 formats v (>= 1) with 3 significant digits.
func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// Percent formats a fraction as a percentage: 0.0123 → "1.23%".
func Percent(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.0001:
		return "<0.01%"
	}
	return strconv.FormatFloat(100*f, 'f', 2, 64) + "%"
}

// Rate formats a per-second rate: "123/s", "12.3/s".
func Rate(r float64) string {
	if r >= 100 || r == 0 {
		return strconv.FormatFloat(math.Round(r), 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "/s"
}

// Bytes formats a byte count: 999B, 12.3kB, 4.56MB.
func Bytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1000:
		return fmt.Sprintf("%dB", n)
	case n < 1e6:
		return sig3(f/1e3) + "kB"
	case n < 1e9:
		return sig3(f/1e6) + "MB"
	}
	return sig3(f/1e9) + "GB"
}

// table is a grid of cells rendered as aligned text or Markdown.
type table struct {
	head  []string
	rows  [][]string
	right []bool // per column: align right (numbers)
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) widths() []int {
	w := make([]int, len(t.head))
	for i, h := range t.head {
		w[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
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

func (t *table) text(b *strings.Builder, indent string) {
	w := t.widths()
	line := func(cells []string) {
		b.WriteString(indent)
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			cell := pad(c, w[i], t.right[i])
			if i == len(cells)-1 {
				cell = strings.TrimRight(cell, " ")
			}
			b.WriteString(cell)
		}
		b.WriteByte('\n')
	}
	line(t.head)
	for _, r := range t.rows {
		line(r)
	}
}

func (t *table) markdown(b *strings.Builder) {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	b.WriteString("|")
	for _, h := range t.head {
		b.WriteString(" " + esc(h) + " |")
	}
	b.WriteString("\n|")
	for i := range t.head {
		if t.right[i] {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteByte('\n')
	for _, r := range t.rows {
		b.WriteString("|")
		for _, c := range r {
			b.WriteString(" " + esc(c) + " |")
		}
		b.WriteByte('\n')
	}
}
