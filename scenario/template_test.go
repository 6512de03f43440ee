package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testVU is a VU with stored values, enough to fill templates.
func testVU(kv ...string) *VU {
	vu := &VU{ID: 7, Iteration: 3, store: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		vu.store[kv[i]] = kv[i+1]
	}
	return vu
}

// escapeSamples are strings that exercise every escaping rule.
func escapeSamples() []string {
	s := []string{"", "plain", "a b", "../admin?x", "x\",\"admin\":true,\"y\":\"", "a&b=c#d", "100%", "ü€😀",
		"\x00\x01\b\f\n\r\t\x1f\x7f", "<script>&amp;</script>", "\u2028\u2029", "\xff\xfe bad utf-8 \xc3", "a+b;c,d/e:f@g$h=i~j_k.l-m"}
	for c := range 256 {
		s = append(s, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"z")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		s = append(s, string(b))
	}
	return s
}

func jsonContent(t testing.TB, s string) string {
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b[1 : len(b)-1])
}

// TestEscapersMatchTheStandardLibrary: the allocation-free escapers write
// what url.PathEscape, url.QueryEscape and json.Marshal write.
func TestEscapersMatchTheStandardLibrary(t *testing.T) {
	for _, s := range escapeSamples() {
		assert.Equal(t, url.PathEscape(s), string(appendEscaped(nil, s, &pathSafe, false)), "path %q", s)
		assert.Equal(t, url.QueryEscape(s), string(appendEscaped(nil, s, &querySafe, true)), "query %q", s)
		assert.Equal(t, jsonContent(t, s), string(appendJSONString(nil, s)), "JSON %q", s)
	}
}

func FuzzEscapers(f *testing.F) {
	for _, s := range escapeSamples()[:20] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendEscaped([]byte("x"), s, &pathSafe, false)), "x"+url.PathEscape(s); got != want {
			t.Fatalf("path %q: %q, want %q", s, got, want)
		}
		if got, want := string(appendEscaped(nil, s, &querySafe, true)), url.QueryEscape(s); got != want {
			t.Fatalf("query %q: %q, want %q", s, got, want)
		}
		if got, want := string(appendJSONString(nil, s)), jsonContent(t, s); got != want {
			t.Fatalf("JSON %q: %q, want %q", s, got, want)
		}
	})
}

func TestIsJSONScalar(t *testing.T) {
	for _, v := range []string{"0", "-0", "12", "-3.25", "1e9", "1E-2", "2.5e+10", "true", "false", "null"} {
		assert.True(t, isJSONScalar(v), v)
		assert.True(t, json.Valid([]byte(v)), v)
	}
	for _, v := range []string{"", "-", "01", "1.", ".5", "1e", "+1", "1 ", "NaN", "True", `"s"`, "{}", "[]", "1,2", "0x10", "1}, \"admin\": {"} {
		assert.False(t, isJSONScalar(v), v)
	}
}

// urlTemplate parses a URL template and decides its placeholders' places.
func urlTemplate(t testing.TB, s string) *template {
	t.Helper()
	tp, err := parseTemplate(s)
	require.NoError(t, err)
	require.NoError(t, tp.forURL())
	return &tp
}

// TestURLPlaceholdersAreEscapedForTheirPlace: a value cannot leave its path
// segment or query component, and .. as a segment, a host that is not a
// host, are refused.
func TestURLPlaceholdersAreEscapedForTheirPlace(t *testing.T) {
	vu := testVU("v", "../admin?x=1&y#f", "dots", "..", "host", "example.com", "port", "8080", "bad", "evil.com/x?",
		"base", "http://127.0.0.1:9/api", "sp", "a b")
	cases := []struct{ tmpl, want string }{
		{"http://h/users/{{v}}/profile", "http://h/users/..%2Fadmin%3Fx=1&y%23f/profile"},
		{"http://h/search?q={{v}}&n={{vu.id}}", "http://h/search?q=..%2Fadmin%3Fx%3D1%26y%23f&n=7"},
		{"http://h/p#{{v}}", "http://h/p#..%2Fadmin%3Fx%3D1%26y%23f"},
		{"http://h/{{sp}}?{{sp}}={{sp}}", "http://h/a%20b?a+b=a+b"},
		{"http://{{host}}:{{port}}/x/{{dots}}.txt", "http://example.com:8080/x/...txt"},
		{"http://h/files/{{raw v}}", "http://h/files/../admin?x=1&y#f"},
		{"{{raw base}}/items/{{v}}?it={{vu.iteration}}", "http://127.0.0.1:9/api/items/..%2Fadmin%3Fx=1&y%23f?it=3"},
		{"HTTPS://h/a{{dots}}", "HTTPS://h/a.."},
	}
	for _, tc := range cases {
		got, err := urlTemplate(t, tc.tmpl).fill(nil, vu)
		require.NoError(t, err, tc.tmpl)
		assert.Equal(t, tc.want, string(got), tc.tmpl)
		if !strings.Contains(tc.tmpl, "raw") {
			u, err := url.Parse(string(got))
			require.NoError(t, err, tc.tmpl)
			if strings.Contains(tc.tmpl, "/users/") {
				assert.Equal(t, "/users/../admin?x=1&y#f/profile", u.Path, "the value stays one segment")
				assert.Equal(t, "/users/..%2Fadmin%3Fx=1&y%23f/profile", u.EscapedPath())
			}
			if strings.Contains(tc.tmpl, "q=") {
				assert.Equal(t, "../admin?x=1&y#f", u.Query().Get("q"), "the value stays one query component")
				assert.Equal(t, "7", u.Query().Get("n"))
			}
		}
	}
	refused := []struct{ tmpl, value, want string }{
		{"http://h/users/{{dots}}", "..", `{{dots}} in the URL "http://h/users/{{dots}}": the values make the path segment "..", which moves up the path`},
		{"http://h/users/{{dots}}/x", "..", `make the path segment ".."`},
		{"http://h/users/{{dots}}?a", "..", `make the path segment ".."`},
		{"http://{{bad}}/x", "evil.com/x?", "is not a host name, IP address or port"},
		{"http://h:{{sp}}/", "a b", "is not a host name"},
	}
	for _, tc := range refused {
		tp := urlTemplate(t, tc.tmpl)
		_, err := tp.fill(nil, vu)
		assert.ErrorContains(t, err, tc.want, tc.tmpl)
		assert.ErrorContains(t, err, "in the URL "+`"`+tc.tmpl+`"`)
	}
	// "." as a segment is refused too, and a dot inside a segment is not.
	_, err := urlTemplate(t, "http://h/{{d}}").fill(nil, testVU("d", "."))
	assert.ErrorContains(t, err, "moves up the path")
	got, err := urlTemplate(t, "http://h/v{{d}}/").fill(nil, testVU("d", ".."))
	require.NoError(t, err)
	assert.Equal(t, "http://h/v../", string(got))
	// Values that make such a segment together, or with dots of the
	// template's own, are refused as well; the template's own ".." is its
	// author's.
	for _, tmpl := range []string{"http://h/api/{{d}}{{d}}/secret", "http://h/api/{{d}}./secret", "http://h/api/.{{d}}/secret", "http://h/api/{{d}}{{d}}"} {
		_, err := urlTemplate(t, tmpl).fill(nil, testVU("d", "."))
		assert.ErrorContains(t, err, `{{d}} in the URL "`+tmpl+`": the values make the path segment "..", which moves up the path`, tmpl)
	}
	_, err = urlTemplate(t, "http://h/api/.{{e}}./secret").fill(nil, testVU("e", ""))
	assert.ErrorContains(t, err, `{{e}} in the URL "http://h/api/.{{e}}./secret": the values make the path segment ".."`, "an empty value joins the dots around it")
	got, err = urlTemplate(t, "http://h/a/../{{d}}x/?q={{d}}{{d}}").fill(nil, testVU("d", "."))
	require.NoError(t, err)
	assert.Equal(t, "http://h/a/../.x/?q=..", string(got))
}

func bodyTemplate(t *testing.T, body, contentType string) *template {
	t.Helper()
	tp, err := parseTemplate(body)
	require.NoError(t, err)
	err = tp.forBody(contentType)
	require.NoError(t, err)
	return &tp
}

// TestBodyPlaceholdersAreEscapedForTheBody: inside a JSON string a value
// is string content; outside, only a JSON scalar; a form body is
// query-escaped; a text body takes values as they are.
func TestBodyPlaceholdersAreEscapedForTheBody(t *testing.T) {
	inject := `x","admin":true,"y":"`
	vu := testVU("name", inject, "n", "42", "obj", `{"a":[1,2]}`, "amp", "a&b=c d", "nl", "line\nbreak")
	cases := []struct{ body, ct, want string }{
		{`{"name":"{{name}}"}`, "", `{"name":"x\",\"admin\":true,\"y\":\""}`},
		{` [ "{{name}}", {{n}} ]`, "", ` [ "x\",\"admin\":true,\"y\":\"", 42 ]`},
		{`{"name":"{{name}}","n":{{n}},"o":{{raw obj}}}`, "application/json; charset=utf-8", `{"name":"x\",\"admin\":true,\"y\":\"","n":42,"o":{"a":[1,2]}}`},
		{`{"q\"{{name}}":"\\{{nl}}"}`, "application/vnd.api+json", `{"q\"x\",\"admin\":true,\"y\":\"":"\\line\nbreak"}`},
		{`{"vu":{{vu.id}},"s":"{{vu.iteration}}"}`, "", `{"vu":7,"s":"3"}`},
		{"who={{amp}}&raw={{raw amp}}", "application/x-www-form-urlencoded", "who=a%26b%3Dc+d&raw=a&b=c d"},
		{"hello {{name}} {{amp}}", "", "hello " + inject + " a&b=c d"},
		{`{"name":"{{name}}"}`, "text/plain", `{"name":"` + inject + `"}`},
	}
	for _, tc := range cases {
		got, err := bodyTemplate(t, tc.body, tc.ct).fill(nil, vu)
		require.NoError(t, err, tc.body)
		assert.Equal(t, tc.want, string(got), tc.body)
		if strings.Contains(tc.ct, "json") || tc.ct == "" && strings.HasPrefix(strings.TrimSpace(tc.body), "{") {
			var v map[string]any
			require.NoError(t, json.Unmarshal(got, &v), "%s gives valid JSON", tc.body)
			assert.NotContains(t, v, "admin", "the value stays inside its string")
		}
	}
	_, err := bodyTemplate(t, `{"n":{{name}}}`, "").fill(nil, vu)
	assert.ErrorContains(t, err, `stands outside a JSON string, where it must be a JSON number, true, false or null; put the placeholder in quotes for a string, or write {{raw name}} to insert JSON`)
	assert.ErrorContains(t, err, `{{name}} in the body`)
}

// TestJSONPlaceholderInAnEscapeSequence: {"a":"\{{v}}n"} was accepted,
// and the value "} closed the string: its quote, escaped as \", came after
// the template's backslash, which escaped the value's. A placeholder
// inside an escape sequence is refused, raw ones aside.
func TestJSONPlaceholderInAnEscapeSequence(t *testing.T) {
	for _, tc := range []struct{ body, seq string }{
		{`{"a":"\{{v}}n"}`, `\`},
		{`{"a":"x\\\{{v}}"}`, `\`},
		{`{"a":"\u{{v}}"}`, `\u`},
		{`{"a":"\u00{{v}}41"}`, `\u00`},
		{`["\u004{{v}}"]`, `\u004`},
	} {
		tp, err := parseTemplate(tc.body)
		require.NoError(t, err)
		err = tp.forBody("")
		assert.EqualError(t, err, fmt.Sprintf(`Body %q: {{v}} stands in the escape sequence %s of a JSON string, where its value would finish the sequence (and could end the string); `+
			`complete the sequence in the template (\\ for a backslash) or write {{raw v}} to insert the value as is`, tc.body, tc.seq))
	}
	_, err := New("j", Parts{POST("esc", "http://127.0.0.1:9/", `{"a":"\{{v}}n"}`)})
	assert.ErrorContains(t, err, `step "esc": Body "{\"a\":\"\\{{v}}n\"}": {{v}} stands in the escape sequence \ of a JSON string`, "New refuses it")
	// Sequences finished before the placeholder are fine.
	vu := testVU("v", `"}`)
	for body, want := range map[string]string{
		`{"a":"\\{{v}}n"}`:         `{"a":"\\\"}n"}`,
		`{"a":"\u0041{{v}}\n"}`:    `{"a":"\u0041\"}\n"}`,
		`{"a":"\"{{v}}","b":"\\"}`: `{"a":"\"\"}","b":"\\"}`,
	} {
		got, err := bodyTemplate(t, body, "").fill(nil, vu)
		require.NoError(t, err, body)
		assert.Equal(t, want, string(got), body)
		var m map[string]string
		require.NoError(t, json.Unmarshal(got, &m), body)
		assert.Contains(t, m["a"], `"}`, "the value stays in its string")
	}
}

// FuzzJSONBodies fills JSON body templates that New accepts with hostile
// values (one for every placeholder): a value stays where its placeholder
// stands, so the body is valid JSON of the same shape as the template
// filled with stand-ins, the same tokens in the same order. A placeholder
// outside strings that is glued to text of the template (-{{n}},
// {{a}}.{{b}}) makes one value with it, which its values may spoil: only
// templates whose such placeholders stand alone are checked.
func FuzzJSONBodies(f *testing.F) {
	for _, tc := range [][2]string{
		{`{"a":"\{{v}}n"}`, `"}`},
		{`{"a":"\u00{{v}}41"}`, "zz"},
		{`{"name":"{{v}}","n":{{n}}}`, `x","admin":true,"y":"`},
		{`[{{v}}, "{{v}}", {"k{{v}}":"\\{{v}}"}]`, "-1.5e3"},
		{`{"q\"{{v}}":"\\{{v}}"}`, "\\\"\u2028\xff"},
		{`{"a":1{{v}}}`, "-1"},
		{` "{{v}}" `, "\x00\n"},
	} {
		f.Add(tc[0], tc[1])
	}
	f.Fuzz(func(t *testing.T, body, v string) {
		tp, err := parseTemplate(body)
		if err != nil || slices.ContainsFunc(tp.holes, func(h hole) bool { return h.raw }) || tp.forBody("application/json") != nil {
			return // New refuses it, or a raw value brings what it brings
		}
		vu := testVU()
		for i, h := range tp.holes {
			if h.esc == escJSONValue && !standsAlone(&tp, i) {
				return
			}
			vu.store[h.name] = v
		}
		got, err := tp.fill(nil, vu)
		if err != nil {
			return // a value outside a string that is not a JSON scalar
		}
		want, err := jsonShape([]byte(tp.dummy(func(_ int, h *hole) string {
			if h.esc == escJSONValue {
				return "0"
			}
			return ""
		})))
		if err != nil {
			t.Fatalf("%q: New accepted it, but its stand-in is not JSON: %v", body, err)
		}
		have, err := jsonShape(got)
		if err != nil {
			t.Fatalf("%q with %q: %q is not JSON: %v", body, v, got, err)
		}
		if have != want {
			t.Fatalf("%q with %q: %q has the shape %s, the template %s", body, v, got, have, want)
		}
	})
}

// standsAlone reports whether placeholder i of a JSON template is a whole
// value: after [, : or , (or at the start) and before , ] or } (or at
// the end), with nothing but white space between.
func standsAlone(tp *template, i int) bool {
	const space = " \t\r\n"
	before, after := strings.TrimRight(tp.lits[i], space), strings.TrimLeft(tp.lits[i+1], space)
	okBefore := before == "" && i == 0 || before != "" && strings.IndexByte("[:,", before[len(before)-1]) >= 0
	okAfter := after == "" && i+1 == len(tp.holes) || after != "" && strings.IndexByte(",]}", after[0]) >= 0
	return okBefore && okAfter
}

// jsonShape returns the kinds of b's tokens in order: the delimiters, s for
// a string, v for any other value.
func jsonShape(b []byte) (string, error) {
	if !json.Valid(b) {
		return "", errors.New("invalid JSON")
	}
	var shape strings.Builder
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return shape.String(), nil
		}
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case json.Delim:
			shape.WriteString(tok.String())
		case string:
			shape.WriteByte('s')
		default:
			shape.WriteByte('v')
		}
	}
}

func TestHeaderValuesRefuseControlCharacters(t *testing.T) {
	tp, err := parseTemplate("Bearer {{tok}} {{raw tok}}")
	require.NoError(t, err)
	require.NoError(t, tp.forHeader("Authorization"))
	got, err := tp.fill(nil, testVU("tok", "a\tb;c=d"))
	require.NoError(t, err)
	assert.Equal(t, "Bearer a\tb;c=d a\tb;c=d", string(got), "other values pass as they are")
	for _, v := range []string{"a\r\nX-Admin: 1", "a\nb", "a\rb", "a\x00b", "a\x7fb"} {
		_, err := tp.fill(nil, testVU("tok", v))
		assert.ErrorContains(t, err, "holds a control character (CR, LF …), which a header value cannot hold", "%q", v)
		assert.ErrorContains(t, err, "{{tok}} in the header Authorization")
	}
}

// TestFillAllocatesNothing: filling into a reused buffer allocates
// nothing, escaping included.
func TestFillAllocatesNothing(t *testing.T) {
	u := urlTemplate(t, "http://127.0.0.1/users/{{id}}/items?q={{q}}&vu={{vu.id}}")
	b := bodyTemplate(t, `{"name":"{{name}}","n":{{n}},"it":{{vu.iteration}}}`, "")
	vu := testVU("id", "ann/../x", "q", "a b&c", "name", "x\"y\n<z>", "n", "-1.5e3")
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = u.fill(buf[:0], vu); err != nil {
			t.Fatal(err)
		}
		if buf, err = b.fill(buf[:0], vu); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

func TestPlaceholderSyntax(t *testing.T) {
	tp, err := parseTemplate("a{{ x }}b{{raw  y}}c{{raw}}")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c", ""}, tp.lits)
	assert.Equal(t, []hole{{name: "x"}, {name: "y", raw: true}, {name: "raw"}}, tp.holes, "{{raw}} alone is a value named raw")
	for s, want := range map[string]string{
		"a{{}}":          "bad placeholder {{}}: want {{name}} or {{raw name}}",
		"a{{x y}}":       "bad placeholder {{x y}}",
		"a{{raw x y}}":   "bad placeholder {{raw x y}}",
		"a{{x{{y}}":      "a name cannot hold { or }",
		"a{{unclosed":    "unclosed {{",
		"a{{ok}}b{{no}x": "unclosed {{",
	} {
		_, err := parseTemplate(s)
		assert.ErrorContains(t, err, want, s)
	}
}

// BenchmarkTemplateFill fills a URL with a path and a query placeholder
// and a JSON body with two, all of which need escaping.
func BenchmarkTemplateFill(b *testing.B) {
	u, err := parseTemplate("http://127.0.0.1/users/{{id}}/items?q={{q}}&vu={{vu.id}}")
	require.NoError(b, err)
	require.NoError(b, u.forURL())
	body, err := parseTemplate(`{"name":"{{name}}","vu":{{vu.id}},"note":"{{q}}"}`)
	require.NoError(b, err)
	err = body.forBody("")
	require.NoError(b, err)
	vu := testVU("id", "ann/../x", "q", "a b&c", "name", "x\"y\n<z>")
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = u.fill(buf[:0], vu)
		buf, _ = body.fill(buf[:0], vu)
	}
}
