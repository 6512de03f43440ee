package page

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/internal/chart"
	"github.com/stampede-go/stampede/internal/table"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEscapesEverything: names from a plan end up escaped in the page.
func TestEscapesEverything(t *testing.T) {
	tb := table.New("step")
	tb.Add(`<script>alert("x")</script>`)
	p := &Page{Title: "<b>t</b>", Meta: [][2]string{{"k", "<i>"}}}
	p.Add(Block{ID: "s", Heading: "H", Table: tb, Warn: "<w>", List: []string{"<l>"}},
		Block{Chart: chart.Layout(chart.Spec{ID: "c", Title: "<c>", X1: 1, Series: []chart.Series{{Name: "<n>", Points: []chart.Point{{X: 0, Y: 1}, {X: 1, Y: 2}}}}})})
	var b strings.Builder
	require.NoError(t, p.Write(&b))
	out := b.String()
	assert.NotContains(t, out, "<script>")
	for _, want := range []string{"&lt;script&gt;", "&lt;b&gt;t&lt;/b&gt;", "&lt;i&gt;", "&lt;w&gt;", "&lt;l&gt;", `data-series="&lt;n&gt;"`, `<h2 id="s">H</h2>`} {
		assert.Contains(t, out, want)
	}
}
