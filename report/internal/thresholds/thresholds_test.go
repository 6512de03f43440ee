package thresholds

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBlocks(t *testing.T) {
	assert.Nil(t, Blocks(nil), "no verdicts, no section")
	ts := report.MustParseThresholds("p95<10ms", "error_rate<0.01", "p99<1s")
	vs := report.Verdicts{
		{Threshold: ts[0], Actual: float64(8 * time.Millisecond), Pass: true},
		{Threshold: ts[1], Actual: 0.02},
		{Threshold: ts[2], Err: errors.New("report: selector matches nothing")},
	}
	bs := Blocks(vs)
	require.Len(t, bs, 1)
	assert.Equal(t, "thresholds", bs[0].ID)
	tb := bs[0].Table
	require.Equal(t, 3, tb.Len())
	assert.Equal(t, []string{"p95<10ms", vs[0].ActualString(), "pass"}, tb.Rows[0])
	assert.Equal(t, "fail", tb.Class(1))
	assert.Equal(t, "FAIL", tb.Rows[1][2])
	assert.Equal(t, "FAIL: selector matches nothing", tb.Rows[2][2], "the reason, without the package prefix")
}
