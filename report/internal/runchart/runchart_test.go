package runchart

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRowsAreStepsOrElseIterations(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	res := &loadgen.Result{Start: t0, End: t0.Add(time.Second),
		Plan: loadgen.PlanInfo{Scenarios: []loadgen.ScenarioInfo{{Name: "a"}, {Name: "b", Open: true}}},
		Metrics: &metrics.Snapshot{Start: t0, Interval: time.Second, Series: []metrics.Series{
			{Key: metrics.Key{Scenario: "a", Step: "get", Kind: metrics.KindStep}},
			{Key: metrics.Key{Scenario: "a", Kind: metrics.KindIteration}},
			{Key: metrics.Key{Scenario: "b", Kind: metrics.KindIteration}},
		}},
		Events: []loadgen.EventRecord{{Name: "e", At: t0.Add(500 * time.Millisecond)}, {Name: "skipped", Skipped: true}},
	}
	assert.Equal(t, []metrics.Key{{Scenario: "a", Step: "get", Kind: metrics.KindStep}, {Scenario: "b", Kind: metrics.KindIteration}}, Rows(res))
	r := Of(res, "baseline", "#000")
	assert.Len(t, r.Events, 1, "skipped events are not drawn")
	assert.Equal(t, 0.5, r.Events[0].X)
	assert.True(t, r.Scenarios[1].Open)
}
