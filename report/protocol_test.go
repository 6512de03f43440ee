package report

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

const (
	kindTP    metrics.Kind = "tproto"
	kindTPMsg metrics.Kind = "tproto_msg"
)

func init() { metrics.RegisterCodes(kindTP, map[int]string{0: "FINE", 7: "BUSY"}) }

// protocolResult runs one step of another protocol on a fake clock: 10
// calls of 5 ms, each receiving two messages 2 ms apart, with status FINE
// (0) but every fifth BUSY (7) and failed.
func protocolResult(t *testing.T) *loadgen.Result {
	var res *loadgen.Result
	synctest.Test(t, func(t *testing.T) {
		var step, codes, msgs metrics.Handle
		plan := &loadgen.Plan{Scenarios: []loadgen.Scenario{{
			Name:     "feed",
			Executor: loadgen.PerVUIterations{VUs: 1, Iterations: 10},
			Setup: func(ctx context.Context, env *loadgen.Env) (loadgen.Instance, error) {
				step = env.Recorder.Handle(metrics.Key{Scenario: "feed", Step: "watch", Kind: metrics.KindStep})
				codes = env.Recorder.Handle(metrics.Key{Scenario: "feed", Step: "watch", Kind: kindTP})
				msgs = env.Recorder.Handle(metrics.Key{Scenario: "feed", Step: "watch", Kind: kindTPMsg})
				return loadgen.Instance{Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					for range 2 {
						time.Sleep(2 * time.Millisecond)
						it.Shard.Record(msgs, time.Now(), 2*time.Millisecond, metrics.OK)
					}
					time.Sleep(time.Millisecond)
					if it.Number%5 == 4 {
						it.Shard.Status(codes, time.Now(), 7)
						it.Shard.Record(step, time.Now(), 5*time.Millisecond, metrics.Refused)
						return nil
					}
					it.Shard.Status(codes, time.Now(), 0)
					it.Shard.Record(step, time.Now(), 5*time.Millisecond, metrics.OK)
					return nil
				}}, nil
			},
		}}}
		var err error
		res, err = loadgen.Run(t.Context(), plan)
		require.NoError(t, err)
	})
	return res
}

// What a protocol step records beside its latency shows as rows named as
// a selector picks them, its status codes by the names its protocol gives
// them, in text, JSON and thresholds alike.
func TestProtocolKindsInReports(t *testing.T) {
	res := protocolResult(t)
	s := Summarize(res)
	require.Len(t, s.Scenarios[0].Steps, 1)
	st := s.Scenarios[0].Steps[0]
	assert.Empty(t, st.Phases, "not HTTP phases")
	require.Len(t, st.Kinds, 2)

	var b bytes.Buffer
	require.NoError(t, s.WriteText(&b))
	text := b.String()
	assert.Regexp(t, `watch\[tproto_msg\]\s+20\s`, text, "the messages as a row of their own")
	assert.NotRegexp(t, `watch\[tproto\]\s+0\s`, text, "no empty row for the status codes alone")
	assert.Regexp(t, `watch\[tproto\]\s+FINE\s+8`, text)
	assert.Regexp(t, `watch\[tproto\]\s+BUSY\s+2`, text)

	b.Reset()
	require.NoError(t, s.WriteJSON(&b, nil))
	var doc struct {
		Scenarios []struct {
			Rows []struct {
				Name   string           `json:"name"`
				Kind   string           `json:"kind"`
				Count  int64            `json:"count"`
				Status map[string]int64 `json:"status"`
			} `json:"rows"`
		} `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &doc))
	rows := doc.Scenarios[0].Rows
	require.GreaterOrEqual(t, len(rows), 3)
	assert.Equal(t, "watch", rows[1].Name)
	assert.Equal(t, "tproto", rows[1].Kind)
	assert.Equal(t, map[string]int64{"FINE": 8, "BUSY": 2}, rows[1].Status)
	assert.Equal(t, "tproto_msg", rows[2].Kind)
	assert.Equal(t, int64(20), rows[2].Count)

	vs := Check(res, MustParseThresholds("watch[tproto]: status(BUSY)<=0", "watch[tproto]: status(0)>=8", "watch[tproto_msg]: p99<=2ms")...)
	require.Len(t, vs, 3)
	assert.False(t, vs[0].Pass)
	assert.Equal(t, 2.0, vs[0].Actual)
	assert.Equal(t, "watch[tproto]: status(BUSY)<=0", vs[0].Threshold.String(), "the code by its name")
	assert.True(t, vs[1].Pass, vs[1].Err)
	assert.Equal(t, "watch[tproto]: status(FINE)>=8", vs[1].Threshold.String())
	assert.True(t, vs[2].Pass, vs[2].Err)

	for in, want := range map[string]string{
		"watch: status(BUSY)<=0":          "a protocol's codes are named on a selector of its kind",
		"watch[tproto]: status(BUSSY)<=0": "BUSSY",
		"watch[tproto]: status(70000)<=0": "must be 0..65535",
		"watch: status(14)<=0":            "must be 100..999",
	} {
		_, err := ParseThreshold(in)
		assert.ErrorContains(t, err, want, in)
	}
}
