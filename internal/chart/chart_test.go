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
