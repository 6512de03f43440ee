package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// chart is an SVG line chart, computed in Go and drawn by the template.
type chart struct {
	ID, Title  string
	YLabel     string // axis label with unit
	XLabel     string
	W, H       float64 // the whole SVG
	L, R, T, B float64 // plot margins
	XTicks     []tick
	YTicks     []tick
	Series     []line
	Events     []mark
	WarmupTo   float64 // x of the warm-up's end (0: no warm-up)
	Empty      bool
	xscale     func(float64) float64
	data       []seriesData // the input, kept for overlays
}

type tick struct {
	Pos   float64
	Label string
}

type line struct {
	Name  string
	Color string
	Dash  string
	D     string // SVG path
}

type mark struct {
	X, LabelY float64
	Label     string
}

// palette: colours that stay apart in grey (light to dark) plus dash
// patterns, so that series survive printing.
var palette = []struct{ color, dash string }{
	{"#1f77b4", ""}, {"#d62728", "6 3"}, {"#2ca02c", "2 2"}, {"#ff7f0e", "8 3 2 3"},
	{"#9467bd", "1 3"}, {"#8c564b", "10 4"}, {"#17becf", "4 2 1 2"}, {"#7f7f7f", "12 2"},
}

type xy struct{ x, y float64 }

type seriesData struct {
	name string
	pts  []xy // NaN y: a gap
}

// newChart lays out a chart of the series with x in [x0, x1]; format
// renders y tick labels and xfmt x tick labels.
func newChart(id, title, ylabel, xlabel string, x0, x1 float64, data []seriesData, yfmt, xfmt func(float64) string, logX bool) *chart {
	c := &chart{ID: id, Title: title, YLabel: ylabel, XLabel: xlabel, W: 860, H: 260, L: 70, R: 20, T: 28, B: 42, data: data}
	pw, ph := c.W-c.L-c.R, c.H-c.T-c.B
	ymax := 0.0
	any := false
	for _, s := range data {
		for _, p := range s.pts {
			if !math.IsNaN(p.y) {
				ymax = max(ymax, p.y)
				any = true
			}
		}
	}
	if !any {
		c.Empty = true
		return c
	}
	ticks, top := niceTicks(ymax)
	for _, v := range ticks {
		c.YTicks = append(c.YTicks, tick{c.T + ph - v/top*ph, yfmt(v)})
	}
	sx := func(x float64) float64 {
		if x1 <= x0 {
			return c.L
		}
		return c.L + (x-x0)/(x1-x0)*pw
	}
	sy := func(y float64) float64 { return c.T + ph - y/top*ph }
	for _, v := range xTicks(x0, x1, logX) {
		c.XTicks = append(c.XTicks, tick{sx(v), xfmt(v)})
	}
	for i, s := range data {
		p := palette[i%len(palette)]
		var d strings.Builder
		pen := false
		for _, pt := range s.pts {
			if math.IsNaN(pt.y) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f ", cmd, sx(pt.x), sy(pt.y))
			pen = true
		}
		c.Series = append(c.Series, line{Name: s.name, Color: p.color, Dash: p.dash, D: strings.TrimSpace(d.String())})
	}
	c.xscale = sx
	return c
}

// niceTicks returns 4-6 round tick values from 0 and the axis top.
func niceTicks(ymax float64) ([]float64, float64) {
	if ymax <= 0 {
		ymax = 1
	}
	raw := ymax / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	top := math.Ceil(ymax/step) * step
	var ts []float64
	for v := 0.0; v <= top+step/2; v += step {
		ts = append(ts, v)
	}
	return ts, top
}

// xTicks returns at most ~8 tick positions over [x0, x1] (seconds, or
// "nines" on a log axis).
func xTicks(x0, x1 float64, logX bool) []float64 {
	if logX {
		var ts []float64
		for v := math.Ceil(x0); v <= x1+1e-9; v++ {
			ts = append(ts, v)
		}
		return ts
	}
	span := x1 - x0
	if span <= 0 {
		return []float64{x0}
	}
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600} {
		step = s
		if span/s <= 8 {
			break
		}
	}
	var ts []float64
	for v := math.Ceil(x0/step) * step; v <= x1+1e-9; v += step {
		ts = append(ts, v)
	}
	return ts
}

// addEvents marks events (x in seconds) as vertical lines, staggering the
// labels so that close events do not overlap.
func (c *chart) addEvents(evs []eventAt) {
	if c.Empty || c.xscale == nil {
		return
	}
	lastX := map[int]float64{}
	for _, e := range evs {
		x := c.xscale(e.at)
		row := 0
		for ; row < 4; row++ {
			if lx, ok := lastX[row]; !ok || x-lx > float64(7*len(e.name)+10) {
				break
			}
		}
		lastX[row] = x
		c.Events = append(c.Events, mark{X: x, LabelY: c.T + 12 + float64(row)*12, Label: e.name})
	}
}

func (c *chart) shadeWarmup(to float64) {
	if c.Empty || c.xscale == nil || to <= 0 {
		return
	}
	c.WarmupTo = c.xscale(to)
}

type eventAt struct {
	at   float64
	name string
}

func secondsLabel(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "s" }

func durLabel(v float64) string { return Duration(time.Duration(v)) }

func countLabel(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// ninesLabel labels a "nines" axis: 0 → p0, 1 → p90, 2 → p99, 3 → p99.9.
func ninesLabel(v float64) string {
	if v == 0 {
		return "p0"
	}
	q := 1 - math.Pow(10, -v)
	return "p" + strconv.FormatFloat(q*100, 'f', -1, 64)
}
