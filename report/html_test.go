package report

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

type svgChart struct {
	id       string
	series   []string
	labels   []string // axis labels
	events   []string
	xticks   int
	warmup   bool
	noData   bool
	hasTitle bool
}

// parseCharts finds every chart in a page with what it draws.
func parseCharts(t *testing.T, page []byte) (map[string]*svgChart, *html.Node) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	require.NoError(t, err)
	charts := map[string]*svgChart{}
	var cur *svgChart
	var walk func(n *html.Node)
	attr := func(n *html.Node, k string) string {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val
			}
		}
		return ""
	}
	text := func(n *html.Node) string {
		if n.FirstChild != nil && n.FirstChild.Type == html.TextNode {
			return n.FirstChild.Data
		}
		return ""
	}
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			cls := attr(n, "class")
			switch {
			case n.Data == "svg" && attr(n, "data-chart") != "":
				cur = &svgChart{id: attr(n, "data-chart")}
				charts[cur.id] = cur
			case cur != nil && n.Data == "path" && cls == "series":
				cur.series = append(cur.series, attr(n, "data-series"))
			case cur != nil && n.Data == "text" && strings.HasPrefix(cls, "axis-label"):
				cur.labels = append(cur.labels, text(n))
			case cur != nil && n.Data == "line" && cls == "event":
				cur.events = append(cur.events, attr(n, "data-event"))
			case cur != nil && n.Data == "text" && cls == "tick x-tick":
				cur.xticks++
			case cur != nil && n.Data == "rect" && cls == "warmup":
				cur.warmup = true
			case cur != nil && n.Data == "text" && cls == "nodata":
				cur.noData = true
			case cur != nil && n.Data == "text" && cls == "title":
				cur.hasTitle = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return charts, doc
}

func TestHTMLReportCharts(t *testing.T) {
	res := fixedResult(t)
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, res, HTMLOptions{Verdicts: Check(res, P95("apply").Below(time.Second), ErrorRate("").Below(0.01))}))
	page := buf.String()
	charts, _ := parseCharts(t, buf.Bytes())
	for _, id := range []string{"latency-0", "latency-1", "throughput", "errors", "vus", "gauge-0", "dist"} {
		c := charts[id]
		require.NotNil(t, c, "chart %s", id)
		assert.True(t, c.hasTitle, id)
		assert.Len(t, c.labels, 2, "%s has both axis labels", id)
		assert.Greater(t, c.xticks, 1, "%s has x ticks", id)
		assert.False(t, c.noData, id)
		if id != "dist" {
			assert.Equal(t, []string{"fail over cache"}, c.events, "%s marks the event", id)
			assert.True(t, c.warmup, "%s shades the warm-up", id)
		}
	}
	assert.Equal(t, []string{"p50", "p90", "p99"}, charts["latency-0"].series)
	assert.Equal(t, []string{"signup/list", "signup/apply"}, charts["throughput"].series)
	assert.Equal(t, []string{"http_5xx"}, charts["errors"].series)
	assert.Equal(t, []string{"signup VUs", "api VUs", "api dropped/s"}, charts["vus"].series)
	assert.Equal(t, []string{"signup/list", "signup/apply", "api (iterations)"}, charts["dist"].series)
	assert.Contains(t, charts["latency-0"].labels, "latency")
	assert.Contains(t, charts["dist"].labels, "percentile (log scale of nines)")
	assert.Contains(t, page, ">FAIL<")
	assert.Contains(t, page, "error_rate&lt;1%")
	for _, forbidden := range []string{"<script", "http://", "https://", "@import", "url("} {
		if forbidden == "http://" {
			// the only URL allowed is the SVG namespace, which is not fetched
			page = strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
		}
		assert.NotContains(t, page, forbidden, "the page is self-contained")
	}
}

func TestHTMLEmptySeriesSayNoData(t *testing.T) {
	res := fixedResult(t)
	res.Metrics = res.Metrics.Clone()
	for i := range res.Metrics.Metrics {
		for j := range res.Metrics.Metrics[i].Series {
			res.Metrics.Metrics[i].Series[j].Outcomes = metrics.Counts{}
		}
	}
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, res, HTMLOptions{}))
	charts, _ := parseCharts(t, buf.Bytes())
	assert.True(t, charts["errors"].noData || len(charts["errors"].series) == 0)
	assert.Contains(t, buf.String(), ">no data<")
}

func TestComparisonHTML(t *testing.T) {
	a, b := fixedResult(t), fixedResult(t)
	c := Compare([]*loadgen.Result{a}, []*loadgen.Result{b})
	var buf bytes.Buffer
	require.NoError(t, WriteComparisonHTML(&buf, []*loadgen.Result{a}, []*loadgen.Result{b}, c))
	charts, _ := parseCharts(t, buf.Bytes())
	require.NotNil(t, charts["latency-0"])
	assert.Equal(t, []string{"baseline p50", "baseline p90", "baseline p99", "candidate p50", "candidate p90", "candidate p99"}, charts["latency-0"].series)
	assert.Contains(t, charts["dist"].series, "candidate signup/apply")
	assert.Contains(t, buf.String(), "inconclusive")
	assert.Error(t, WriteComparisonHTML(&buf, nil, nil, c))
}

// TestHTMLInChromium renders the report in headless Chromium: the page
// loads, the DOM holds the charts, and the screenshot is not blank.
func TestHTMLInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not installed (apt-get install chromium); .ci/run installs it")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	res := fixedResult(t)
	f, err := os.Create(page)
	require.NoError(t, err)
	require.NoError(t, WriteHTML(f, res, HTMLOptions{}))
	require.NoError(t, f.Close())
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--hide-scrollbars", "--window-size=1100,1600",
		"--enable-logging=stderr", "--v=0"}
	ctx := t.Context()
	dom, err := exec.CommandContext(ctx, bin, append(args, "--dump-dom", "file://"+page)...).Output()
	require.NoError(t, err)
	assert.Contains(t, string(dom), `data-chart="latency-0"`)
	assert.Contains(t, string(dom), "sign-up rush")
	shot := filepath.Join(dir, "shot.png")
	out, err := exec.CommandContext(ctx, bin, append(args, "--screenshot="+shot, "file://"+page)...).CombinedOutput()
	require.NoError(t, err, string(out))
	for _, l := range strings.Split(string(out), "\n") {
		assert.NotContains(t, l, "CONSOLE", "console message: %s", l)
		assert.NotContains(t, l, "Uncaught", l)
	}
	pf, err := os.Open(shot)
	require.NoError(t, err)
	defer pf.Close()
	img, err := png.Decode(pf)
	require.NoError(t, err)
	colors := map[uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colors[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	assert.Greater(t, len(colors), 20, "the screenshot shows text and charts, not a blank page")
}

func TestProgressGolden(t *testing.T) {
	mk := func(elapsed time.Duration, final bool) *loadgen.Progress {
		var last, all metrics.Stats
		for i := range 20 {
			d := time.Duration(100+10*i) * time.Millisecond
			last.Latency.Record(d)
		}
		last.Outcomes[metrics.OK] = 20
		all.Outcomes[metrics.OK] = int64(elapsed/time.Second) * 20
		all.Outcomes[metrics.HTTP5xx] = 2
		all.Outcomes[metrics.Dropped] = 3
		return &loadgen.Progress{Elapsed: elapsed, Planned: 20 * time.Second, Final: final, Warmup: elapsed <= 2*time.Second,
			Scenarios: []loadgen.ScenarioProgress{{Name: "signup", VUs: 150,
				Iterations: loadgen.MetricProgress{Progress: metrics.Progress{Last: last, All: all}}}}}
	}
	for _, mode := range []struct {
		name string
		term bool
	}{{"terminal", true}, {"plain", false}} {
		var buf bytes.Buffer
		term := mode.term
		cb := NewProgress(&buf, ProgressOptions{Terminal: &term, Every: 5 * time.Second})
		for s := 1; s <= 12; s++ {
			cb(mk(time.Duration(s)*time.Second, false))
		}
		cb(mk(12300*time.Millisecond, true))
		golden(t, "TestProgressGolden."+mode.name+".golden.txt", buf.Bytes())
	}
}
