package chart

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStepsCoverTheirIntervals: a step series holds each value across its
// interval; the warm-up does not set the scale, and what lies above is
// clipped and marked.
func TestStepsCoverTheirIntervals(t *testing.T) {
	c := Layout(Spec{ID: "x", X1: 4, Shade: 1, ScaleFrom: 1, Series: []Series{{Name: "s", Steps: true, Points: []Point{
		{X: 0, X2: 1, Y: 100}, {X: 1, X2: 2, Y: 10}, {X: 2, X2: 3, Y: math.NaN()}, {X: 3, X2: 4, Y: 5},
	}}}})
	require.Len(t, c.Lines, 1)
	assert.Equal(t, 10.0, c.Top, "the scale comes from after the warm-up")
	assert.Equal(t, "M70.0 28.0 L262.5 28.0 L262.5 28.0 L455.0 28.0 M647.5 123.0 L840.0 123.0", c.Lines[0].D,
		"0–1 s clipped at the top, 1–2 s at 10, a gap, 3–4 s at 5")
	require.Len(t, c.Clips, 1)
	assert.Equal(t, c.X(0.5), c.Clips[0].X)
	assert.Equal(t, c.X(1), c.ShadeTo)
	empty := Layout(Spec{ID: "e", X1: 1, Empty: "no errors", Series: []Series{{Name: "s"}}})
	assert.Equal(t, "no errors", empty.Empty)
	assert.Equal(t, "no data", Layout(Spec{ID: "e", X1: 1}).Empty)
}

func TestLabels(t *testing.T) {
	assert.Equal(t, "1m30s", Seconds(90))
	assert.Equal(t, "59s", Seconds(59))
	assert.Equal(t, "2m", Seconds(120))
	assert.Equal(t, "2m30s", Seconds(150))
	assert.Equal(t, "1.5s", Seconds(1.5))
	assert.Equal(t, "p99.9", Nines(3))
	assert.Equal(t, "p0", Nines(0))
	assert.Equal(t, "2.5", Count(2.5))
}

// extremes are values a result can hold that once broke an axis:
// math.MaxFloat64 made the y axis' top +Inf and its tick loop endless.
var extremes = []float64{0, -0.0, 1, -1, 1e-300, 5e-324, 1e308, math.MaxFloat64, -math.MaxFloat64,
	math.Inf(1), math.Inf(-1), math.NaN(), 1 << 53, 1<<53 + 1e6}

// checkBounded fails unless c's ticks are few and every coordinate finite.
func checkBounded(t *testing.T, c *Chart) {
	t.Helper()
	assert.LessOrEqual(t, len(c.YTicks), 11, "y ticks")
	assert.LessOrEqual(t, len(c.XTicks), maxTicks, "x ticks")
	for _, tk := range append(append([]Tick{}, c.YTicks...), c.XTicks...) {
		assert.False(t, math.IsNaN(tk.Pos) || math.IsInf(tk.Pos, 0), "tick %q at %v", tk.Label, tk.Pos)
	}
	if c.Empty == "" {
		assert.True(t, c.Top >= 0 && c.Bottom <= 0 && c.Top > c.Bottom, "scale %v to %v", c.Bottom, c.Top)
		assert.False(t, math.IsInf(c.Top, 0) || math.IsInf(c.Bottom, 0), "scale %v to %v", c.Bottom, c.Top)
	}
	for _, l := range c.Lines {
		assert.NotContains(t, l.D, "NaN", l.Name)
		assert.NotContains(t, l.D, "Inf", l.Name)
	}
}

// TestAxesAreBoundedAtTheExtremes lays out charts whose values and ranges
// are the ends of float64: each comes back, with a finite scale and at
// most a screenful of ticks.
func TestAxesAreBoundedAtTheExtremes(t *testing.T) {
	for _, y := range extremes {
		for _, x1 := range extremes {
			for _, nines := range []bool{false, true} {
				c := Layout(Spec{ID: "x", X0: 0, X1: x1, Nines: nines, Series: []Series{{Name: "s", Steps: true,
					Points: []Point{{X: 0, X2: 1, Y: y}, {X: 1, X2: x1, Y: y / 2}}}}})
				checkBounded(t, c)
			}
		}
	}
	ts, bottom, top := niceTicks(0, math.MaxFloat64)
	assert.Equal(t, math.MaxFloat64, top, "no round step fits: the top is the value")
	assert.Zero(t, bottom)
	assert.Len(t, ts, 6)
	ts, bottom, top = niceTicks(0, 10)
	assert.Equal(t, []float64{0, 2, 4, 6, 8, 10}, ts)
	assert.Equal(t, [2]float64{0, 10}, [2]float64{bottom, top})
	ts, bottom, top = niceTicks(-3, 7)
	assert.Equal(t, []float64{-4, -2, 0, 2, 4, 6, 8}, ts, "a negative value extends the scale below 0")
	assert.Equal(t, [2]float64{-4, 8}, [2]float64{bottom, top})
	assert.Equal(t, []float64{0, 1, 2, 3, 4}, xTicks(0, 4, true))
	assert.Equal(t, []float64{0, 5, 10, 15, 20, 25, 30}, xTicks(0, 30, false))
	assert.Equal(t, []float64{0, 2e8, 4e8, 6e8, 8e8, 1e9}, xTicks(0, 1e9, false), "beyond 8 days: a round number of seconds")
	assert.Nil(t, xTicks(0, math.Inf(1), false))
}

// FuzzLayout lays out a chart of two series from any values and ranges:
// it returns, with at most a screenful of ticks and finite coordinates.
func FuzzLayout(f *testing.F) {
	f.Add(0.0, 10.0, 0.0, 1.0, 5.0, 2.0, false)
	f.Add(0.0, 1e308, 1.0, math.MaxFloat64, 3.0, 1.7e308, false)
	f.Add(-1e300, 1e300, 2.0, 5e-324, 1e5, 1e-300, true)
	f.Fuzz(func(t *testing.T, x0, x1, xa, ya, xb, yb float64, nines bool) {
		c := Layout(Spec{ID: "f", X0: x0, X1: x1, Nines: nines, ScaleFrom: xa, Shade: xb,
			Events: []Event{{X: xa, Label: "a"}, {X: xb, Label: "b"}},
			Series: []Series{
				{Name: "steps", Steps: true, Points: []Point{{X: xa, X2: xb, Y: ya}, {X: xb, X2: x1, Y: yb}}},
				{Name: "line", Points: []Point{{X: xa, Y: yb}, {X: xb, Y: ya}}},
			}})
		checkBounded(t, c)
	})
}
