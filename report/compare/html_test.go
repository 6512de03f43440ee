package compare

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/internal/htmltest"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
)

// recordedRun records a 10 s run of a one-step journey "signup/apply" with
// a 2 s warm-up, one second per interval, 200 latencies per interval
// around level (ten times level in the warm-up), 10 VUs.
func recordedRun(t *testing.T, rng *rand.Rand, level time.Duration) *loadgen.Result {
	t.Helper()
	rec, err := metrics.New(metrics.Options{Start: t0, Warmup: 2 * time.Second})
	require.NoError(t, err)
	step := rec.Handle(metrics.Key{Scenario: "signup", Step: "apply", Kind: metrics.KindStep})
	it := rec.Handle(metrics.Key{Scenario: "signup", Kind: metrics.KindIteration})
	sh := rec.Shard(0)
	for sec := range 10 {
		at := t0.Add(time.Duration(sec)*time.Second + time.Millisecond)
		for range 200 {
			d := time.Duration(float64(level) * (0.8 + 0.4*rng.Float64()))
			if sec < 2 {
				d *= 10
			}
			sh.Record(step, at, d, metrics.OK)
			sh.Record(it, at, d, metrics.OK)
		}
		rec.SetVUs(it, 10)
		rec.Flush(t0.Add(time.Duration(sec+1) * time.Second))
	}
	end := t0.Add(10 * time.Second)
	rec.Finish(end)
	return &loadgen.Result{Version: loadgen.ResultVersion, Start: t0, End: end, Metrics: rec.Snapshot(),
		Plan: loadgen.PlanInfo{Name: "sign-up", Interval: time.Second, Warmup: 2 * time.Second, Duration: 10 * time.Second,
			Scenarios: []loadgen.ScenarioInfo{{Name: "signup", Description: "constant-vus: 10 VUs for 10s"}}}}
}

// TestComparisonHTML parses the comparison page: its sections, one row per
// row of data (the one-step journey's iterations shown once), the two
// labelled numbers of a change, one colour per side and one dash per
// percentile in the charts, and the warm-up shaded and clipped out of the
// scale. The same page renders in Chromium without console errors.
func TestComparisonHTML(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var base, cand []*loadgen.Result
	for range 6 {
		base = append(base, recordedRun(t, rng, 40*time.Millisecond))
		cand = append(cand, recordedRun(t, rng, 20*time.Millisecond))
	}
	c := mustCompare(t, base, cand)
	var buf bytes.Buffer
	require.NoError(t, c.WriteHTML(&buf, report.HTMLOptions{}))
	p := htmltest.Parse(t, buf.Bytes())

	assert.True(t, p.IDs["comparison"], "the comparison section")
	assert.True(t, p.IDs["charts"], "the charts section")
	assert.Contains(t, p.Captions, "6 baseline run(s) vs 6 candidate run(s); Mann-Whitney U at α = 0.05")
	head := p.Row("row")
	require.NotNil(t, head)
	assert.Contains(t, head, "change (merged)", "the change of merged values is named")
	assert.Contains(t, head, "estimate [95% interval]", "the estimate is named")
	var rows []string // a row's name is in its first line only
	p95s := 0
	for _, r := range p.Rows[1:] {
		if r[0] != "" {
			rows = append(rows, r[0])
		}
		if r[1] == "p95" {
			p95s++
			assert.Equal(t, "better", r[len(r)-1], "20 ms against 40 ms, in %v", r)
			assert.True(t, strings.HasPrefix(r[4], "−"), "the change falls: %q", r[4])
		}
	}
	assert.Equal(t, []string{"signup/apply"}, rows, "the iterations repeat the only step: shown once")
	assert.Equal(t, 1, p95s)

	lat := p.Charts["latency-0"]
	require.NotNil(t, lat)
	sides := map[string]string{}
	dashes := map[string]map[string]bool{}
	for _, s := range lat.Series {
		side, pct, ok := strings.Cut(s, " ")
		require.True(t, ok, s)
		if sides[side] == "" {
			sides[side] = lat.Colors[s]
		}
		assert.Equal(t, sides[side], lat.Colors[s], "one colour for every line of the %s", side)
		if dashes[pct] == nil {
			dashes[pct] = map[string]bool{}
		}
		dashes[pct][lat.Dashes[s]] = true
	}
	require.Len(t, sides, 2, "baseline and candidate: %v", lat.Series)
	assert.NotEqual(t, sides["baseline"], sides["candidate"], "the sides differ by colour")
	seen := map[string]string{}
	for pct, ds := range dashes {
		assert.Len(t, ds, 1, "one dash for %s on both sides", pct)
		for d := range ds {
			assert.Empty(t, seen[d], "%s and %s share a dash", pct, seen[d])
			seen[d] = pct
		}
	}
	assert.True(t, lat.Warmup, "the warm-up is shaded")
	assert.Positive(t, lat.Clipped, "the warm-up's values are above the scale, marked")

	htmltest.Chromium(t, buf.Bytes(), `data-chart="latency-0"`, "Baseline vs candidate")
}

// TestComparisonHTMLRendersExtremeGauges: a gauge at math.MaxFloat64 on
// both sides renders in bounded time (it once made the chart's tick loop
// endless) with a finite scale.
func TestComparisonHTMLRendersExtremeGauges(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var runs [2][]*loadgen.Result
	for side := range runs {
		for range 4 {
			r := recordedRun(t, rng, 20*time.Millisecond)
			g := metrics.GaugeSeries{Name: "extreme"}
			for sec := range 10 {
				v := math.MaxFloat64
				g.Points = append(g.Points, metrics.GaugePoint{Start: t0.Add(time.Duration(sec) * time.Second), Min: v, Max: v, Sum: v, N: 1})
			}
			r.Metrics.Gauges = append(r.Metrics.Gauges, g)
			runs[side] = append(runs[side], r)
		}
	}
	c := mustCompare(t, runs[0], runs[1])
	done := make(chan error, 1)
	var buf bytes.Buffer
	go func() { done <- c.WriteHTML(&buf, report.HTMLOptions{}) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("WriteHTML did not return within 10s")
	}
	p := htmltest.Parse(t, buf.Bytes())
	var gauge string
	for id := range p.Charts {
		if strings.HasPrefix(id, "gauge") {
			gauge = id
		}
	}
	require.NotEmpty(t, gauge, "a gauge chart among %v", p.IDs)
	svg := buf.String()[strings.Index(buf.String(), `data-chart="`+gauge+`"`):]
	svg = svg[:strings.Index(svg, "</svg>")]
	assert.NotContains(t, svg, "Inf")
	assert.NotContains(t, svg, "NaN")
}

// TestRenderOptions checks that every page shape takes the same
// options: the title replaces the default, and threshold verdicts get a
// section of their own; and that SaveJSON writes what WriteJSON does.
func TestRenderOptions(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var base, cand []*loadgen.Result
	for range 4 {
		base = append(base, recordedRun(t, rng, 40*time.Millisecond))
		cand = append(cand, recordedRun(t, rng, 20*time.Millisecond))
	}
	c := mustCompare(t, base, cand)
	vs := report.Check(cand[0], report.MustParseThresholds("p95<30ms", "error_rate<0.01")...)
	require.Len(t, vs, 2)

	var buf bytes.Buffer
	require.NoError(t, c.WriteHTML(&buf, report.HTMLOptions{Title: "sign-up <v2>", Verdicts: vs}))
	assert.Contains(t, buf.String(), "<title>sign-up &lt;v2&gt;</title>")
	p := htmltest.Parse(t, buf.Bytes())
	require.True(t, p.IDs["thresholds"], "the verdicts' section")
	assert.Equal(t, []string{"p95<30ms", vs[0].ActualString(), "pass"}, p.Row("p95<30ms"))

	buf.Reset()
	require.NoError(t, c.WriteHTML(&buf, report.HTMLOptions{}))
	assert.Contains(t, buf.String(), "<title>Baseline vs candidate</title>")
	assert.False(t, htmltest.Parse(t, buf.Bytes()).IDs["thresholds"], "no verdicts, no section")

	path := filepath.Join(t.TempDir(), "c.json")
	require.NoError(t, c.SaveJSON(path))
	var want bytes.Buffer
	require.NoError(t, c.WriteJSON(&want))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want.String(), string(got))
	assert.ErrorContains(t, c.SaveJSON(filepath.Join(t.TempDir(), "none", "c.json")), "compare: ")
}
