// Package chart lays out the SVG line charts of the HTML reports: series
// over time drawn as steps (each interval's value covers its interval),
// distributions on a "nines" axis, load levels. It computes coordinates;
// the page template draws them. Everything is static SVG: no script.
package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Point is one value of a series. A step series holds Y from X to X2 (an
// interval); other series join the points (X2 is unused). A NaN Y is a gap.
type Point struct{ X, X2, Y float64 }

// Series is one line of a chart.
type Series struct {
	Name   string
	Color  string // "" takes the next colour of the palette
	Dash   string // an SVG dash pattern; "" is solid unless the palette gives one
	Steps  bool
	Points []Point
}

// Event is a vertical line at X with a label.
type Event struct {
	X     float64
	Label string
}

// Spec describes a chart to lay out.
type Spec struct {
	ID, Title      string
	YLabel, XLabel string
	X0, X1         float64
	// YFormat and XFormat label the ticks.
	YFormat, XFormat func(float64) string
	// Nines makes the x axis a "nines" axis (0 → p0, 1 → p90, 2 → p99 …):
	// ticks at whole numbers.
	Nines  bool
	Series []Series
	Events []Event
	// Shade shades the span from X0 to Shade (the warm-up); 0 for none.
	Shade float64
	// ScaleFrom: only the parts of the series at or after ScaleFrom set the
	// y scale (the warm-up's spikes do not flatten the rest); values above
	// the scale are drawn at its top and marked as clipped.
	ScaleFrom float64
	// Empty is what the chart says when no series has a value: "no
	// errors", say; "" means "no data".
	Empty string
}

// Chart is a laid-out chart, ready for the template.
type Chart struct {
	ID, Title      string
	YLabel, XLabel string
	W, H           float64 // the whole SVG
	L, R, T, B     float64 // plot margins
	XTicks, YTicks []Tick
	Lines          []Line
	Marks          []Mark  // events
	Clips          []Clip  // values above the scale
	ShadeTo        float64 // x of the shaded span's end; 0 for none
	Empty          string  // the message when there is no data; "" when there is
	Top            float64 // the y scale's top value
	Bottom         float64 // the y scale's bottom value: 0 unless a value is negative
	sx, sy         func(float64) float64
}

// Tick is an axis tick at a pixel position.
type Tick struct {
	Pos   float64
	Label string
}

// Line is a series laid out as an SVG path.
type Line struct {
	Name  string
	Color string
	Dash  string
	D     string
}

// Mark is an event's vertical line and label position.
type Mark struct {
	X, LabelY float64
	Label     string
}

// Clip marks a value drawn at the top of the scale although it is higher.
type Clip struct {
	X, Y  float64
	Color string
	Title string // "p99 14.2ms at 3s (above the scale)"
}

// Palette gives series colours that stay apart in grey and dash patterns,
// so that lines survive printing.
var palette = [...]struct{ color, dash string }{
	{"#1f77b4", ""}, {"#d62728", "6 3"}, {"#2ca02c", "2 2"}, {"#ff7f0e", "8 3 2 3"},
	{"#9467bd", "1 3"}, {"#8c564b", "10 4"}, {"#17becf", "4 2 1 2"}, {"#7f7f7f", "12 2"},
}

// Colors are the colours of two sides of a comparison.
var Colors = [2]string{"#1f77b4", "#d62728"}

// Dashes are dash patterns for a few lines of one colour.
var Dashes = [...]string{"", "6 3", "2 2", "8 3 2 3"}

// Layout places a chart's ticks, lines and marks.
func Layout(s Spec) *Chart {
	c := &Chart{ID: s.ID, Title: s.Title, YLabel: s.YLabel, XLabel: s.XLabel, W: 860, H: 260, L: 70, R: 20, T: 28, B: 42}
	pw, ph := c.W-c.L-c.R, c.H-c.T-c.B
	ymin, ymax, any := 0.0, 0.0, false
	for _, se := range s.Series {
		for _, p := range se.Points {
			if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
				continue
			}
			any = true
			end := p.X
			if se.Steps {
				end = p.X2
			}
			if end > s.ScaleFrom || s.ScaleFrom == 0 {
				ymax = max(ymax, p.Y)
			}
			ymin = min(ymin, p.Y) // a value below the scale cannot be marked: every one sets it
		}
	}
	if !any {
		c.Empty = s.Empty
		if c.Empty == "" {
			c.Empty = "no data"
		}
		return c
	}
	ticks, bottom, top := niceTicks(ymin, ymax)
	c.Top, c.Bottom = top, bottom
	// The fraction of the scale that y stands at; halves where the span
	// itself would overflow.
	span := top - bottom
	frac := func(y float64) float64 {
		y = min(max(y, bottom), top)
		if math.IsInf(span, 0) {
			return (y/2 - bottom/2) / (top/2 - bottom/2)
		}
		return (y - bottom) / span
	}
	yf := s.YFormat
	if yf == nil {
		yf = Count
	}
	for _, v := range ticks {
		c.YTicks = append(c.YTicks, Tick{c.T + ph - frac(v)*ph, yf(v)})
	}
	c.sx = func(x float64) float64 {
		px := c.L + (min(max(x, s.X0), s.X1)-s.X0)/(s.X1-s.X0)*pw
		if !(s.X1 > s.X0) || math.IsNaN(px) || math.IsInf(px, 0) { // an empty or non-finite axis
			return c.L
		}
		return px
	}
	c.sy = func(y float64) float64 { return c.T + ph - frac(y)*ph }
	xf := s.XFormat
	if xf == nil {
		xf = Seconds
	}
	for _, v := range xTicks(s.X0, s.X1, s.Nines) {
		c.XTicks = append(c.XTicks, Tick{c.sx(v), xf(v)})
	}
	for i, se := range s.Series {
		p := palette[i%len(palette)]
		color, dash := se.Color, se.Dash
		if color == "" {
			color, dash = p.color, p.dash
		}
		var d strings.Builder
		pen := false
		move := func(x, y float64) {
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, x, y)
			pen = true
		}
		for _, pt := range se.Points {
			if math.IsNaN(pt.Y) || math.IsInf(pt.Y, 0) {
				pen = false
				continue
			}
			if pt.Y > top {
				x := pt.X
				if se.Steps {
					x = (pt.X + pt.X2) / 2
				}
				c.Clips = append(c.Clips, Clip{X: c.sx(x), Y: c.T, Color: color,
					Title: fmt.Sprintf("%s %s at %s (above the scale)", se.Name, yf(pt.Y), xf(pt.X))})
			}
			if se.Steps {
				move(c.sx(pt.X), c.sy(pt.Y))
				move(c.sx(pt.X2), c.sy(pt.Y))
			} else {
				move(c.sx(pt.X), c.sy(pt.Y))
			}
		}
		c.Lines = append(c.Lines, Line{Name: se.Name, Color: color, Dash: dash, D: strings.TrimSpace(d.String())})
	}
	c.addEvents(s.Events)
	if s.Shade > s.X0 {
		c.ShadeTo = c.sx(s.Shade)
	}
	return c
}

// X returns the pixel position of x on the chart's axis (for tests).
func (c *Chart) X(x float64) float64 { return c.sx(x) }

// Y returns the pixel position of y on the chart's axis (for tests).
func (c *Chart) Y(y float64) float64 { return c.sy(y) }

// maxTicks bounds the ticks of any axis, whatever its range: an axis is
// laid out in bounded time and memory even at the ends of float64.
const maxTicks = 64

// niceStep returns the smallest step of the form {1, 2, 2.5, 5, 10} × 10ⁿ
// that is at least raw, or NaN when raw is not a positive finite number
// or no such step is finite.
func niceStep(raw float64) float64 {
	if !(raw > 0) || math.IsInf(raw, 0) {
		return math.NaN()
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return math.NaN()
}

// niceTicks returns 4-6 round tick values from the axis bottom to its
// top, which hold lo ≤ 0 ≤ hi. Where no round step fits (values near the
// largest or smallest float64), the axis runs from lo to hi and the ticks
// split it in five.
func niceTicks(lo, hi float64) (ticks []float64, bottom, top float64) {
	lo, hi = min(lo, 0), max(hi, 0)
	if !(hi > lo) {
		hi = 1
	}
	step := niceStep((hi/2 - lo/2) / 2.5) // (hi-lo)/5 without overflowing
	nb, nt := math.Floor(lo/step), math.Ceil(hi/step)
	bottom, top = nb*step, nt*step
	if !(nt-nb >= 1 && nt-nb <= 10) || math.IsInf(bottom, 0) || math.IsInf(top, 0) {
		ticks = make([]float64, 6)
		for i := range ticks {
			f := float64(i) / 5
			ticks[i] = lo*(1-f) + hi*f // between lo and hi, so finite
		}
		return ticks, lo, hi
	}
	for i := nb; i <= nt; i++ {
		ticks = append(ticks, i*step)
	}
	return ticks, bottom, top
}

// secondSteps are the tick steps of a time axis, in seconds.
var secondSteps = []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400}

// xTicks returns at most ~8 tick positions over [x0, x1] (seconds, or
// "nines" at whole numbers), never more than maxTicks; none when the
// range is not finite.
func xTicks(x0, x1 float64, nines bool) []float64 {
	span := x1 - x0
	switch {
	case math.IsNaN(span) || math.IsInf(span, 0) || math.IsInf(x0, 0):
		return nil
	case span <= 0:
		return []float64{x0}
	}
	step := math.NaN()
	if nines {
		step = max(1, math.Ceil(span/maxTicks))
	} else {
		for _, s := range secondSteps {
			if span/s <= 8 {
				step = s
				break
			}
		}
		if math.IsNaN(step) { // longer than 8 days: a round number of seconds
			step = niceStep(span / 8)
		}
	}
	if math.IsNaN(step) {
		return []float64{x0}
	}
	first := math.Ceil(x0/step) * step
	var ts []float64
	for i := range maxTicks {
		v := first + float64(i)*step
		if v > x1+1e-9 || len(ts) > 0 && v == ts[len(ts)-1] {
			break // past the end, or the step is below float64's resolution here
		}
		ts = append(ts, v)
	}
	return ts
}

// addEvents marks events as vertical lines, staggering the labels so that
// close events do not overlap.
func (c *Chart) addEvents(evs []Event) {
	lastX := map[int]float64{}
	for _, e := range evs {
		x := c.sx(e.X)
		row := 0
		for ; row < 4; row++ {
			if lx, ok := lastX[row]; !ok || x-lx > float64(7*len(e.Label)+10) {
				break
			}
		}
		lastX[row] = x
		c.Marks = append(c.Marks, Mark{X: x, LabelY: c.T + 12 + float64(row)*12, Label: e.Label})
	}
}

// Seconds labels a time axis: 0s, 30s, 1m30s.
func Seconds(v float64) string {
	if v >= 60 && v == math.Trunc(v) {
		m, s := int(v)/60, int(v)%60
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + "s"
}

// Count labels a count axis: whole numbers in full up to 10¹⁵, others
// with three significant digits (1.8e+308).
func Count(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Nines labels a "nines" axis: 0 → p0, 1 → p90, 2 → p99, 3 → p99.9.
func Nines(v float64) string {
	if v == 0 {
		return "p0"
	}
	q := 1 - math.Pow(10, -v)
	return "p" + strconv.FormatFloat(q*100, 'f', -1, 64)
}
