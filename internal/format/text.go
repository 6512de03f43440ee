package format

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// inert reports whether r, read as n bytes, is shown as itself: not a
// control character other than a newline (ESC, BEL, CR, a tab), not DEL,
// not a C1 control, not a bidirectional override or isolate (which
// reorder what a reader sees) and not a byte outside UTF-8.
func inert(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n == 1:
		return false
	case r == '\n':
		return true
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return false
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return false
	}
	return true
}

// Printable returns s with everything a terminal would act on, rather
// than show, written as an escape: control characters other than a
// newline, DEL and bytes that are not UTF-8 as \x1b, C1 controls and
// bidirectional controls as \u202e. Every text renderer passes its output
// through it, since names, error messages and panic values come from users
// and servers.
func Printable(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !inert(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case inert(r, n):
			b.WriteString(s[i : i+n])
		case n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

// markdown escapes what Markdown would take for HTML.
var markdown = strings.NewReplacer("&", "&amp;", "<", "&lt;")

// Markdown returns s, a Markdown document, [Printable] and with '&' and
// '<' written as entities, so that no text in it becomes HTML (a
// <script>, an <img>, a comment) where the document is rendered. The
// renderers emit no HTML of their own.
func Markdown(s string) string { return markdown.Replace(Printable(s)) }

// WriteText writes s to w as [Printable] text.
func WriteText(w io.Writer, s string) error {
	_, err := io.WriteString(w, Printable(s))
	return err
}

// WriteMarkdown writes s to w as [Markdown].
func WriteMarkdown(w io.Writer, s string) error {
	_, err := io.WriteString(w, Markdown(s))
	return err
}
