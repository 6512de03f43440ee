// Package format renders figures for people: durations, percentages,
// rates and byte counts with three significant digits, in the largest
// sensible unit. Every renderer of the module uses it, so a figure reads
// the same in text, Markdown, HTML and progress lines.
package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// Duration formats d with 3 significant digits: 0, <1µs (anything between
// 0 and the histograms' 1 µs floor), 12.3µs, 4.56ms, 3.85s, 2m05s.
func Duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d == 0:
		s = "0"
	case d < metrics.MinValue:
		s = "<1µs"
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
	case math.IsNaN(f):
		return "n/a"
	case f > 0 && f < 0.0001:
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

// Number formats a plain number: whole numbers in full, others with 3
// significant digits.
func Number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Change formats a relative change with a sign: +12.3%, −4.5% (with a
// minus sign, not a hyphen); +∞ from a baseline of 0; "n/a" when undefined.
func Change(x float64) string {
	switch {
	case math.IsNaN(x):
		return "n/a"
	case math.IsInf(x, 1):
		return "+∞"
	case math.IsInf(x, -1):
		return "−∞"
	}
	return minus(fmt.Sprintf("%+.1f%%", 100*x))
}

// Points formats a difference of fractions in percentage points: +1.20 pp.
func Points(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	return minus(fmt.Sprintf("%+.2f pp", 100*x))
}

// minus replaces the leading hyphen of a formatted negative number with a
// minus sign.
func minus(s string) string {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return "−" + rest
	}
	return s
}
