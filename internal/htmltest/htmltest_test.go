package htmltest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParse(t *testing.T) {
	p := Parse(t, []byte(`<!doctype html><section id="summary"><p>no errors</p>
<table><caption>errors by class</caption><tr><th>step</th><th>count</th></tr><tr><td>orders</td><td class="r">3</td></tr></table>
<svg data-chart="errors"><path class="series" data-series="http_5xx" d="M1 2 L3 4" stroke="#1f77b4" stroke-dasharray="4 2"/>
<rect class="warmup"/><line class="event" data-event="fault" x1="12.5"/><path class="clipped"/></svg></section>`))
	assert.True(t, p.IDs["summary"])
	assert.Equal(t, []string{"no errors"}, p.Notes)
	assert.Equal(t, []string{"errors by class"}, p.Captions)
	assert.Equal(t, []string{"orders", "3"}, p.Row("orders"))
	assert.Nil(t, p.Row("nothing"))
	c := p.Charts["errors"]
	if assert.NotNil(t, c) {
		assert.Equal(t, []string{"http_5xx"}, c.Series)
		assert.Equal(t, "M1 2 L3 4", c.Paths["http_5xx"])
		assert.Equal(t, "#1f77b4", c.Colors["http_5xx"])
		assert.Equal(t, "4 2", c.Dashes["http_5xx"])
		assert.True(t, c.Warmup)
		assert.Equal(t, []string{"fault"}, c.Events)
		assert.Equal(t, []float64{12.5}, c.EventX)
		assert.Equal(t, 1, c.Clipped)
	}
}
