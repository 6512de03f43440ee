package format

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 34: "<1µs", 999: "<1µs", 12345: "12.3µs", 4567891: "4.57ms", 3853 * time.Millisecond: "3.85s",
		125 * time.Second: "2m05s", -5 * time.Millisecond: "-5.00ms", 469 * time.Millisecond: "469ms",
	} {
		assert.Equal(t, want, Duration(d), "%d", d)
	}
	assert.Equal(t, "1.23%", Percent(0.0123))
	assert.Equal(t, "<0.01%", Percent(0.00001))
	assert.Equal(t, "n/a", Percent(math.NaN()))
	assert.Equal(t, "12.3/s", Rate(12.34))
	assert.Equal(t, "1235/s", Rate(1234.5))
	assert.Equal(t, "12.3kB", Bytes(12345))
	assert.Equal(t, "1000000", Number(1e6), "no exponent")
	assert.Equal(t, "1.23", Number(1.2345))
	assert.Equal(t, "−12.5%", Change(-0.125), "a minus sign")
	assert.Equal(t, "+3.0%", Change(0.03))
	assert.Equal(t, "+∞", Change(math.Inf(1)), "from a baseline of 0")
	assert.Equal(t, "n/a", Change(math.NaN()))
	assert.Equal(t, "+1.20 pp", Points(0.012))
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain — café\nnext":       "plain — café\nnext",
		"red\x1b[31m!\a\r\t\x7f":   `red\x1b[31m!\x07\x0d\x09\x7f`,
		"c1 \u009b2J":              `c1 \u009b2J`,
		"bad \xff\xfe utf-8":       `bad \xff\xfe utf-8`,
		"bidi \u202egnp.exe\u2066": `bidi \u202egnp.exe\u2066`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
	if got, want := Markdown("a <script>x</script> & \x1b"), `a &lt;script>x&lt;/script> &amp; \x1b`; got != want {
		t.Errorf("Markdown = %q, want %q", got, want)
	}
}

func FuzzPrintable(f *testing.F) {
	f.Add("red\x1b[31m\a\r\xff\u009b\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		p := Printable(s)
		if !utf8.ValidString(p) {
			t.Fatalf("Printable(%q) = %q is not UTF-8", s, p)
		}
		for _, r := range p {
			if !inert(r, utf8.RuneLen(r)) {
				t.Fatalf("Printable(%q) = %q keeps %U", s, p, r)
			}
		}
		if strings.ContainsRune(Markdown(s), '<') {
			t.Fatalf("Markdown(%q) keeps a '<'", s)
		}
	})
}
