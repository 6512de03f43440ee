package stampedeprom

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestLabel(t *testing.T) {
	for name, want := range map[string]string{
		"checkout":      "checkout",
		"GET /a b/ü€😀":  "GET /a b/ü€😀",
		`C:\data\a`:     `C:\data\a`,
		"step\xff":      `step\xff`,
		"step\xfe":      `step\xfe`,
		`step\xff`:      `step\\xff`,
		`a\\b`:          `a\\\b`,
		"a\\\xff":       `a\\\xff`,
		"\xc3":          `\xc3`,
		"\xc3\xa9\xe2":  `é\xe2`,
		"\uFFFD":        "\uFFFD",
		"end\\":         `end\`,
		"x\x00\\y\x80z": "x\x00\\y\\x80z",
	} {
		assert.Equal(t, want, label(name), "%q", name)
	}
}

// FuzzLabel: every label is valid UTF-8, distinct names have distinct
// labels, and a name that is valid UTF-8 with no backslash is its own.
func FuzzLabel(f *testing.F) {
	for _, s := range [][2]string{{"step\xff", "step\xfe"}, {"step\xff", `step\xff`}, {`a\\xff`, "a\\\xff"}, {"a\\", `a\`}, {"\xc3", "é"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		la, lb := label(a), label(b)
		if !utf8.ValidString(la) {
			t.Fatalf("label(%q) = %q is not UTF-8", a, la)
		}
		if a != b && la == lb {
			t.Fatalf("%q and %q share the label %q", a, b, la)
		}
		if utf8.ValidString(a) && !strings.Contains(a, `\`) && la != a {
			t.Fatalf("label(%q) = %q, want the name itself", a, la)
		}
	})
}
