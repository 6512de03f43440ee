package clock

import (
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSleepWaitsAtLeastD(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var late []time.Duration
	for range 50 {
		start := time.Now()
		Sleep(200 * time.Microsecond)
		el := time.Since(start)
		assert.GreaterOrEqual(t, el, 200*time.Microsecond)
		late = append(late, el-200*time.Microsecond)
	}
	slices.Sort(late)
	t.Logf("lateness median %v", late[25]) // informative: speed is measured by loadgen's BenchmarkOpenRate
	Sleep(0)
	Sleep(-time.Second)
}

func TestFakeTellsASyntheticClock(t *testing.T) {
	assert.False(t, Fake(), "the real clock")
	assert.False(t, fakeAfter(time.Sleep), "the real clock, probed with a Go timer (as off Linux)")
	synctest.Test(t, func(t *testing.T) {
		assert.True(t, Fake(), "a synctest bubble's clock")
		assert.True(t, fakeAfter(time.Sleep), "a synctest bubble's clock, probed with a Go timer (as off Linux)")
	})
}

func TestSleepUntilSpinsToTheDueTime(t *testing.T) {
	due := time.Now().Add(3 * time.Millisecond)
	SleepUntil(due, Spin)
	assert.False(t, time.Now().Before(due))
	start := time.Now()
	SleepUntil(time.Now().Add(-time.Second), Spin) // past: returns at once
	assert.Less(t, time.Since(start), time.Second, "did not sleep the second it is late by")
}

// TestElapsedAgreesWithOffset: Elapsed and Offset stamp the same instant
// alike, within a real clock's reading and exactly on a synctest bubble's,
// where they move as the bubble's clock does.
func TestElapsedAgreesWithOffset(t *testing.T) {
	before := Offset(time.Now())
	e := Elapsed()
	after := Offset(time.Now())
	assert.True(t, before <= e && e <= after, "%v ≤ %v ≤ %v", before, e, after)
	assert.Positive(t, e)

	synctest.Test(t, func(t *testing.T) {
		a := Elapsed()
		assert.Equal(t, a, Offset(time.Now()))
		time.Sleep(1500 * time.Millisecond)
		assert.Equal(t, a+1500*time.Millisecond, Elapsed())
		assert.Equal(t, a+1500*time.Millisecond, Offset(time.Now()))
	})
}
