package clock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWindowFollowsTimerLateness(t *testing.T) {
	defer peakLate.Store(peakLate.Load())
	peakLate.Store(0)
	assert.Equal(t, MinWindow, Window(), "nothing seen yet: the floor")

	TimerFired(-time.Millisecond) // early cannot happen; it counts as punctual
	assert.Equal(t, MinWindow, Window())

	TimerFired(3 * time.Millisecond)
	assert.Equal(t, 12*time.Millisecond, Window(), "four times the latest peak")
	TimerFired(time.Millisecond)
	assert.Equal(t, 4*(3*time.Millisecond-3*time.Millisecond/16), Window(), "a punctual timer narrows it by a sixteenth")

	TimerFired(time.Second)
	assert.Equal(t, MaxWindow, Window(), "at most MaxWindow")

	for range 200 {
		TimerFired(0)
	}
	assert.Equal(t, MinWindow, Window(), "punctual timers bring it back to the floor")
}
