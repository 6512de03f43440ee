package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/internal/htmltest"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// parseCharts parses a page: its charts by id, and the whole.
func parseCharts(t *testing.T, page []byte) (map[string]*htmltest.Chart, *htmltest.Page) {
	t.Helper()
	p := htmltest.Parse(t, page)
	return p.Charts, p
}

// The geometry of every chart (see internal/chart): the plot spans x from
// 70 to 840 and y from 28 (top) to 218 (the zero line).
const plotL, plotR, plotBottom = 70.0, 840.0, 218.0

// xAt is the pixel position of t seconds on a time axis of end seconds.
func xAt(t, end float64) float64 { return plotL + t/end*(plotR-plotL) }

// points parses an SVG path of M and L commands.
func points(t *testing.T, d string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	f := strings.Fields(d)
	for i := 0; i+1 < len(f); i += 2 {
		x, err := strconv.ParseFloat(strings.TrimLeft(f[i], "ML"), 64)
		require.NoError(t, err, d)
		y, err := strconv.ParseFloat(f[i+1], 64)
		require.NoError(t, err, d)
		out = append(out, [2]float64{x, y})
	}
	return out
}

// outageRun is a 12 s run on a fake clock with a known story: an open
// scenario "api" whose step "orders" answers in 1 ms, except early in the
// 2 s warm-up (100 ms until 1.5 s: a spike) and from 6 s to 8 s (fast
// 503s, with an event "fault" at 6 s); and a closed scenario "users"
// ramping from 0 to 50 VUs over 4.5 s and holding them (so that no VU
// starts at the instant a count is sampled).
func outageRun(t *testing.T) *loadgen.Result {
	var res *loadgen.Result
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		key := metrics.Key{Scenario: "api", Step: "orders", Kind: metrics.KindStep}
		plan := &loadgen.Plan{Name: "outage", Warmup: 2 * time.Second, Scenarios: []loadgen.Scenario{
			{Name: "api", Executor: loadgen.ConstantRate{Rate: 100, Duration: 12 * time.Second, PreAllocatedVUs: 20, MaxVUs: 20},
				Setup: func(ctx context.Context, env *loadgen.Env) (loadgen.Instance, error) {
					h := env.Recorder.Handle(key)
					return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
						began := time.Now()
						switch off := began.Sub(start); {
						case off >= 6*time.Second && off < 8*time.Second:
							time.Sleep(60 * time.Microsecond)
							it.Shard.Record(h, time.Now(), time.Since(began), metrics.HTTP5xx)
							return metrics.WithOutcome(errors.New("GET /orders: status 503"), metrics.HTTP5xx)
						case off < 1500*time.Millisecond:
							time.Sleep(100 * time.Millisecond)
						default:
							time.Sleep(time.Millisecond)
						}
						it.Shard.Record(h, time.Now(), time.Since(began), metrics.OK)
						return nil
					}}, nil
				}},
			{Name: "users", Executor: loadgen.RampingVUs{Stages: []loadgen.Stage{{Duration: 4500 * time.Millisecond, Target: 50}, {Duration: 7500 * time.Millisecond, Target: 50}}},
				Iteration: func(ctx context.Context, it *loadgen.Iteration) error { time.Sleep(100 * time.Millisecond); return nil }},
		},
			Events: []loadgen.Event{loadgen.At(6*time.Second, "fault", nil)},
			Gauges: []loadgen.Gauge{{Name: "heap MiB", Sample: func() float64 { return 64 }}},
		}
		var err error
		res, err = loadgen.Run(t.Context(), plan)
		require.NoError(t, err)
	})
	return res
}

// TestHTMLDrawsTimeTruthfully renders the outage and checks the SVG
// coordinates: the errors rise exactly at the fault's line (6 s) and fall
// at 8 s; each interval's value covers its interval; the VU count, sampled
// at each interval's end, is drawn there (44 at 4 s, 50 at 5 s); the
// warm-up's spike does not set the latency scale and is marked as clipped.
func TestHTMLDrawsTimeTruthfully(t *testing.T) {
	res := outageRun(t)
	end := res.End.Sub(res.Start).Seconds()
	var buf bytes.Buffer
	require.NoError(t, Summarize(res).WriteHTML(&buf, HTMLOptions{}))
	charts, _ := parseCharts(t, buf.Bytes())
	const px = 0.051 // coordinates are written to a tenth of a pixel

	errs := charts["errors"]
	require.NotNil(t, errs)
	assert.Equal(t, []string{"http_5xx"}, errs.Series)
	pts := points(t, errs.Paths["http_5xx"])
	require.NotEmpty(t, pts)
	for i := 0; i+1 < len(pts); i += 2 { // a step per interval: (start, y), (end, y)
		a, b := pts[i], pts[i+1]
		sec := math.Round((a[0] - plotL) / (plotR - plotL) * end)
		assert.InDelta(t, xAt(sec, end), a[0], px, "interval %v starts at its time", sec)
		assert.InDelta(t, a[1], b[1], 1e-9, "interval %v is flat", sec)
		if sec == 6 || sec == 7 {
			assert.Less(t, a[1], plotBottom, "errors in the interval from %v s", sec)
		} else {
			assert.Equal(t, plotBottom, a[1], "no errors in the interval from %v s", sec)
		}
	}
	require.Len(t, errs.EventX, 1)
	assert.InDelta(t, xAt(6, end), errs.EventX[0], px, "the fault's line")

	vus := points(t, charts["vus"].Paths["users VUs"])
	require.GreaterOrEqual(t, len(vus), 6)
	assert.InDelta(t, xAt(1, end), vus[0][0], px, "the first count is the one at the end of the first interval")
	assert.InDelta(t, xAt(5, end), vus[4][0], px)
	// The y axis of counts up to 50 tops at 50: 190 px for 50 VUs.
	assert.InDelta(t, plotBottom-190, vus[4][1], px, "50 VUs at 5 s")
	assert.InDelta(t, plotBottom-190*44/50.0, vus[3][1], px, "44 VUs at 4 s")
	assert.NotContains(t, charts["vus"].Series, "users dropped/s", "a closed model cannot drop")
	assert.Contains(t, charts["vus"].Series, "api dropped/s")

	lat := charts["latency-0"]
	assert.Positive(t, lat.Clipped, "the warm-up's 100 ms are above the scale, marked")
	assert.True(t, lat.Warmup, "the warm-up is shaded")
	assert.Contains(t, buf.String(), "above the scale (the warm-up's values do not set it)")
}

// TestHTMLHasEverythingTheTextHas parses the page's sections.
func TestHTMLHasEverythingTheTextHas(t *testing.T) {
	res := outageRun(t)
	s := Summarize(res)
	vs := Check(res, MustParseThresholds("orders: p95<50ms", "orders: error_rate<1%")...)
	var buf bytes.Buffer
	require.NoError(t, s.WriteHTML(&buf, HTMLOptions{Verdicts: vs}))
	page := buf.String()
	_, p := parseCharts(t, buf.Bytes())
	ids, captions, notes := p.IDs, p.Captions, p.Notes
	for _, id := range []string{"thresholds", "summary", "scenario-api", "scenario-users", "gauges", "events", "charts"} {
		assert.True(t, ids[id], "section %s", id)
	}
	for _, c := range []string{"latency of successful operations", "latency of failed operations (apart from the figures above)", "errors by class"} {
		assert.Contains(t, captions, c)
	}
	assert.Contains(t, notes, "no errors", "the users scenario says it had none")
	assert.Contains(t, page, "http_5xx: GET /orders: status 503", "example messages")
	assert.Contains(t, page, "(schedule lag)", "the schedule lag")
	assert.Contains(t, page, "<td>fault</td>", "the events table")
	assert.Contains(t, page, "<td>heap MiB</td>", "the gauges table")
	assert.Contains(t, page, "<tr class=\"fail\"><td>orders: error_rate&lt;1%</td>", "the failed threshold")
	assert.Contains(t, page, "<tr class=\"pass\"><td>orders: p95&lt;50ms</td>", "the passed threshold")
	for _, forbidden := range []string{"<script", "http://", "https://", "@import", "url("} {
		if forbidden == "http://" {
			// the only URL allowed is the SVG namespace, which is not fetched
			page = strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
		}
		assert.NotContains(t, page, forbidden, "the page is self-contained")
	}

	// Status codes, HTTP phases and warnings, from a stored HTTP run.
	buf.Reset()
	require.NoError(t, Summarize(load(t, "v2-http.json")).WriteHTML(&buf, HTMLOptions{}))
	page = buf.String()
	for _, want := range []string{"<caption>status codes</caption>", "<caption>HTTP phases</caption>", `<td class="r">404</td>`,
		"status 404", "<td>ttfb</td>"} {
		assert.Contains(t, page, want)
	}
	buf.Reset()
	require.NoError(t, Summarize(load(t, "v1-fixed.json")).WriteHTML(&buf, HTMLOptions{}))
	assert.Contains(t, buf.String(), `<p class="warn">this result was saved in format version 1`)
}

func TestHTMLNoErrorsSaysSo(t *testing.T) {
	res := fixedResult(t)
	res.Metrics = res.Metrics.Clone()
	for i := range res.Metrics.Series {
		m := &res.Metrics.Series[i]
		m.Total.Outcomes = metrics.Counts{metrics.OK: m.Total.Latency.Count()}
		m.Total.Failed = metrics.Distribution{}
		for j := range m.Points {
			m.Points[j].Outcomes = metrics.Counts{metrics.OK: m.Points[j].Latency.Count()}
			m.Points[j].Failed = metrics.Distribution{}
		}
	}
	var buf bytes.Buffer
	require.NoError(t, Summarize(res).WriteHTML(&buf, HTMLOptions{}))
	charts, _ := parseCharts(t, buf.Bytes())
	assert.Equal(t, "no errors", charts["errors"].NoData)
	assert.Empty(t, charts["latency-0"].NoData)
}

// BenchmarkHTML10Min renders the HTML report of a 10-minute, 10-step run
// (600 intervals of 10 steps, each over ~2 000 latencies).
func BenchmarkHTML10Min(b *testing.B) {
	start := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	rec, err := metrics.New(metrics.Options{Start: start})
	require.NoError(b, err)
	var hs []metrics.Handle
	for i := range 10 {
		hs = append(hs, rec.Handle(metrics.Key{Scenario: "s", Step: fmt.Sprintf("step-%d", i), Kind: metrics.KindStep}))
	}
	it := rec.Handle(metrics.Key{Scenario: "s", Kind: metrics.KindIteration})
	sh := rec.Shard(0)
	v := time.Duration(0)
	for sec := range 600 {
		now := start.Add(time.Duration(sec) * time.Second)
		for _, h := range hs {
			for range 2000 {
				v = (v*31 + 7919*time.Microsecond) % (200 * time.Millisecond)
				sh.Record(h, now, v, metrics.OK)
			}
		}
		sh.Record(it, now, time.Second, metrics.OK)
		rec.Flush(now.Add(time.Second))
	}
	rec.Finish(start.Add(600 * time.Second))
	res := &loadgen.Result{Version: loadgen.ResultVersion, Start: start, End: start.Add(600 * time.Second), Metrics: rec.Snapshot(),
		Plan: loadgen.PlanInfo{Name: "ten minutes", Interval: time.Second, Duration: 600 * time.Second,
			Scenarios: []loadgen.ScenarioInfo{{Name: "s", Description: "constant-vus: 300 VUs for 10m0s"}}}}
	b.ReportAllocs()
	for b.Loop() {
		if err := Summarize(res).WriteHTML(io.Discard, HTMLOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHTMLInChromium renders the report in headless Chromium: the page
// loads, the DOM holds the charts, and the screenshot is not blank.
func TestHTMLInChromium(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Summarize(outageRun(t)).WriteHTML(&buf, HTMLOptions{}))
	htmltest.Chromium(t, buf.Bytes(), `data-chart="latency-0"`, "outage", "GET /orders: status 503")
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
				Iterations: loadgen.SeriesProgress{KeyProgress: metrics.KeyProgress{Last: last, All: all}}}}}
	}
	for _, mode := range []struct {
		name string
		term bool
	}{{"terminal", true}, {"plain", false}} {
		var buf bytes.Buffer
		term := mode.term
		cb := NewProgress(&buf, ProgressOptions{Terminal: &term, Every: 5 * time.Second, Label: "baseline 2/7"})
		for s := 1; s <= 12; s++ {
			cb(mk(time.Duration(s)*time.Second, false))
		}
		cb(mk(12300*time.Millisecond, true))
		golden(t, "TestProgressGolden."+mode.name+".golden.txt", buf.Bytes())
	}
}

// within fails t unless f returns within d: a renderer that loops without
// end fails here rather than at the test binary's timeout.
func within(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		assert.NoError(t, err, what)
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

// TestHTMLRendersExtremeGauges: a gauge at the ends of float64 renders in
// bounded time (math.MaxFloat64 once made the y axis' top +Inf and its tick
// loop endless, growing the heap by gigabytes), with a finite scale.
func TestHTMLRendersExtremeGauges(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, v := range []float64{math.MaxFloat64, -math.MaxFloat64, 1e308, 5e-324} {
		rec, err := metrics.New(metrics.Options{Start: t0})
		require.NoError(t, err)
		h := rec.Handle(metrics.Key{Scenario: "s", Kind: metrics.KindIteration})
		for sec := range 3 {
			at := t0.Add(time.Duration(sec)*time.Second + time.Millisecond)
			rec.Shard(0).Record(h, at, time.Millisecond, metrics.OK)
			rec.Observe("extreme", v)
			rec.Flush(t0.Add(time.Duration(sec+1) * time.Second))
		}
		end := rec.Finish(t0.Add(3 * time.Second))
		res := &loadgen.Result{Version: loadgen.ResultVersion, Start: t0, End: end, Metrics: rec.Snapshot(),
			Plan: loadgen.PlanInfo{Name: "extreme", Interval: time.Second, Duration: 3 * time.Second,
				Scenarios: []loadgen.ScenarioInfo{{Name: "s"}}}}
		var buf bytes.Buffer
		within(t, 10*time.Second, fmt.Sprintf("WriteHTML with a gauge at %g", v), func() error {
			return Summarize(res).WriteHTML(&buf, HTMLOptions{})
		})
		charts, _ := parseCharts(t, buf.Bytes())
		require.NotNil(t, charts["gauge-0"], "the gauge chart of %g", v)
		svg := buf.String()[strings.Index(buf.String(), `data-chart="gauge-0"`):]
		svg = svg[:strings.Index(svg, "</svg>")]
		assert.NotContains(t, svg, "Inf", "a finite scale for %g", v)
		assert.NotContains(t, svg, "NaN", "a finite scale for %g", v)
		for _, l := range regexp.MustCompile(`text-anchor="end">([^<]*)<`).FindAllStringSubmatch(svg, -1) {
			assert.LessOrEqual(t, len(l[1]), 24, "a tick label of %g: %q", v, l[1])
		}
	}
}
