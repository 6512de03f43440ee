package table

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTextAndMarkdown(t *testing.T) {
	tb := New("step", ">count")
	tb.Add("list", "12")
	tb.Add("a|b\nc", "3") // a pipe and a line break in a name
	tb.AddClass("worse", "apply")
	var b strings.Builder
	tb.Text(&b, "  ")
	assert.Equal(t, "  step   count\n  list      12\n  a|b c      3\n  apply\n", b.String(), "one line per row, no trailing spaces")
	b.Reset()
	tb.Markdown(&b)
	assert.Equal(t, "| step | count |\n|---|---:|\n| list | 12 |\n| a\\|b c | 3 |\n| apply |  |\n", b.String())
	assert.Equal(t, "worse", tb.Class(2))
	assert.Equal(t, "", tb.Class(0))
	assert.Equal(t, 3, tb.Len())
}
