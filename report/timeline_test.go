package report

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"testing/synctest"
	"time"

	"bytes"
	"testing"

	"github.com/stampede-go/stampede/internal/jsonfmt"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stretchr/testify/assert"

	"github.com/stretchr/testify/require"
)

func TestTimelineGolden(t *testing.T) {
	for _, name := range []string{"v2-fixed.json", "v2-http.json"} {
		var b bytes.Buffer
		require.NoError(t, Summarize(load(t, name)).WriteTimeline(&b))
		golden(t, "timeline-"+name[:len(name)-5]+".golden.txt", b.Bytes())
	}
}

// TestJSONSummaryGolden writes the JSON summary of stored results, with
// thresholds that pass, fail and cannot be checked, and compares it with
// golden files.
func TestJSONSummaryGolden(t *testing.T) {
	for _, name := range []string{"v2-fixed.json", "v2-http.json"} {
		res := load(t, name)
		vs := Check(res, MustParseThresholds("p95<100ms", "error_rate<1%", "signup/nosuch: p95<1s")...)
		var b bytes.Buffer
		require.NoError(t, Summarize(res).WriteJSON(&b, vs))
		golden(t, "summary-"+name[:len(name)-5]+".golden.json", b.Bytes())
	}
}

// TestJSONSummarySchema checks the promises of the JSON summary: snake_case
// keys, durations in milliseconds or seconds named so, null for no data,
// and a strict round trip through the documented structure.
func TestJSONSummarySchema(t *testing.T) {
	res := load(t, "v2-fixed.json")
	var b bytes.Buffer
	require.NoError(t, Summarize(res).WriteJSON(&b, Check(res, MustParseThresholds("signup/apply: p95<100ms")...)))
	var doc any
	require.NoError(t, json.Unmarshal(b.Bytes(), &doc))
	snake := regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				assert.Regexp(t, snake, k, "a key at %s", path)
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", doc)

	var got jsonSummary
	require.NoError(t, jsonfmt.StrictBytes(b.Bytes(), &got))
	assert.Equal(t, "stampede-summary", got.Format)
	assert.Equal(t, SummaryVersion, got.Version)
	require.NotNil(t, got.Passed)
	assert.True(t, *got.Passed)
	assert.Equal(t, "ms", got.Thresholds[0].Unit)
	assert.Equal(t, 80.041, *got.Thresholds[0].Actual, "the p95 of apply, in ms")
	apply := got.Scenarios[0].Rows[1]
	assert.Equal(t, "apply", apply.Name)
	assert.Equal(t, 80.041, apply.Latency.P95Ms)
	assert.Equal(t, map[string]int64{"http_5xx": 3}, apply.ErrorsByClass)
	assert.Nil(t, got.Scenarios[0].Rows[0].FailedLatency, "no failures: null, not zeros")
	last := got.Scenarios[1].Timeline[3]
	assert.Equal(t, int64(0), last.Requests)
	assert.Nil(t, last.P95Ms, "an interval with no successes has no p95")
	assert.Equal(t, 3.07612, last.EndS, "the last interval ends with the run")
}

// TestWarningsNameEachPanicAndBadGauge: every kept panic is a warning with
// where it happened and how often; NaN gauges are counted.
func TestWarningsNameEachPanicAndBadGauge(t *testing.T) {
	res := load(t, "v2-fixed.json")
	res.Panics = []loadgen.PanicSample{
		{Scenario: "signup", Where: "iteration", Value: "boom", Count: 10},
		{Where: "gauge heap-mb", Value: "no", Count: 1},
	}
	res.MorePanics = 2
	res.GaugeNonFinite = map[string]int64{"heap-mb": 3}
	w := Summarize(res).Warnings
	assert.Contains(t, w, `the iteration of scenario "signup" panicked 10 times: boom (the stack is kept in the result)`)
	assert.Contains(t, w, `gauge heap-mb panicked once: no (the stack is kept in the result)`)
	assert.Contains(t, w, `2 more distinct panics were counted but not kept`)
	assert.Contains(t, w, `gauge "heap-mb" returned NaN or an infinity 3 times: those samples are left out`)
}

// TestCutOffWorkIsInTheStatus: a 2 s test whose target never answers does
// not report "completed" plainly: its status and warnings say how many
// iterations the hard stop cut off.
func TestCutOffWorkIsInTheStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res, err := loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{{
			Name: "hang", GracefulStop: time.Second, Executor: loadgen.ConstantVUs{VUs: 3, Duration: 2 * time.Second},
			Iteration: func(ctx context.Context, it *loadgen.Iteration) error { <-ctx.Done(); return ctx.Err() },
		}}})
		require.NoError(t, err)
		s := Summarize(res)
		assert.Equal(t, "completed (3 iterations cut off at the hard stop)", s.Status())
		assert.Contains(t, s.Warnings, `scenario "hang": 3 iterations were still running at the hard stop (GracefulStop 1s) and were cut off; they count as interrupted, with no latency`)
	})
}
