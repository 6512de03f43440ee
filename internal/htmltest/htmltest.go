// Package htmltest reads the module's HTML pages back for tests: their
// sections, tables and charts as parsed HTML, and their rendering in
// headless Chromium. Only tests import it.
package htmltest

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// Page is what a page holds, as parsed HTML.
type Page struct {
	Doc *html.Node
	// IDs are the ids of its elements (sections among them).
	IDs map[string]bool
	// Captions are the captions of its tables; Notes the text of its
	// paragraphs; Cells the text of every table cell, row by row.
	Captions, Notes []string
	Rows            [][]string
	// Charts are its charts by id (the SVG's data-chart).
	Charts map[string]*Chart
}

// Chart is what one SVG chart draws.
type Chart struct {
	ID string
	// Series names the series in order; Paths, Colors and Dashes give
	// each one's path, stroke colour and dash pattern ("" when solid).
	Series                []string
	Paths, Colors, Dashes map[string]string
	Labels                []string // axis labels
	Events                []string
	EventX                []float64
	Clipped, XTicks       int
	Warmup, HasTitle      bool
	NoData                string
}

// Parse parses a page.
func Parse(t testing.TB, page []byte) *Page {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	require.NoError(t, err)
	p := &Page{Doc: doc, IDs: map[string]bool{}, Charts: map[string]*Chart{}}
	var cur *Chart
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			cls := Attr(n, "class")
			if id := Attr(n, "id"); id != "" {
				p.IDs[id] = true
			}
			switch {
			case n.Data == "caption":
				p.Captions = append(p.Captions, Text(n))
			case n.Data == "p":
				p.Notes = append(p.Notes, Text(n))
			case n.Data == "tr":
				var row []string
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
						row = append(row, Text(c))
					}
				}
				p.Rows = append(p.Rows, row)
			case n.Data == "svg" && Attr(n, "data-chart") != "":
				cur = &Chart{ID: Attr(n, "data-chart"), Paths: map[string]string{}, Colors: map[string]string{}, Dashes: map[string]string{}}
				p.Charts[cur.ID] = cur
			case cur != nil && n.Data == "path" && cls == "series":
				name := Attr(n, "data-series")
				cur.Series = append(cur.Series, name)
				cur.Paths[name], cur.Colors[name], cur.Dashes[name] = Attr(n, "d"), Attr(n, "stroke"), Attr(n, "stroke-dasharray")
			case cur != nil && n.Data == "path" && cls == "clipped":
				cur.Clipped++
			case cur != nil && n.Data == "text" && strings.HasPrefix(cls, "axis-label"):
				cur.Labels = append(cur.Labels, Text(n))
			case cur != nil && n.Data == "line" && cls == "event":
				cur.Events = append(cur.Events, Attr(n, "data-event"))
				x, _ := strconv.ParseFloat(Attr(n, "x1"), 64)
				cur.EventX = append(cur.EventX, x)
			case cur != nil && n.Data == "text" && cls == "tick x-tick":
				cur.XTicks++
			case cur != nil && n.Data == "rect" && cls == "warmup":
				cur.Warmup = true
			case cur != nil && n.Data == "text" && cls == "nodata":
				cur.NoData = Text(n)
			case cur != nil && n.Data == "text" && cls == "title":
				cur.HasTitle = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return p
}

// Row returns the first table row whose first cell is first, or nil.
func (p *Page) Row(first string) []string {
	for _, r := range p.Rows {
		if len(r) > 0 && r[0] == first {
			return r
		}
	}
	return nil
}

// Attr returns the value of n's attribute k, or "".
func Attr(n *html.Node, k string) string {
	for _, a := range n.Attr {
		if a.Key == k {
			return a.Val
		}
	}
	return ""
}

// Text returns the text directly inside n (not that of its child
// elements), trimmed.
func Text(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// Chromium renders page in headless Chromium, or skips the test when it is
// not installed: the page must load without console messages, its DOM must
// hold every string of wantDOM, and its screenshot must show more than a
// blank page.
func Chromium(t *testing.T, page []byte, wantDOM ...string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install chromium); .ci/run installs it")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "page.html")
	require.NoError(t, os.WriteFile(path, page, 0o644))
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--hide-scrollbars", "--window-size=1100,1600",
		"--enable-logging=stderr", "--v=0"}
	ctx := t.Context()
	dom, err := exec.CommandContext(ctx, bin, append(args, "--dump-dom", "file://"+path)...).Output()
	require.NoError(t, err)
	for _, w := range wantDOM {
		assert.Contains(t, string(dom), w)
	}
	shot := filepath.Join(dir, "shot.png")
	out, err := exec.CommandContext(ctx, bin, append(args, "--screenshot="+shot, "file://"+path)...).CombinedOutput()
	require.NoError(t, err, string(out))
	for _, l := range strings.Split(string(out), "\n") {
		assert.NotContains(t, l, "CONSOLE", "console message: %s", l)
		assert.NotContains(t, l, "Uncaught", l)
	}
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	colors := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	assert.Greater(t, len(colors), 20, "the screenshot shows text and charts, not a blank page")
}
