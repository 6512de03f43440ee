package clock

import (
	"sync/atomic"
	"time"
)

// The bounds of [Window].
const (
	// MinWindow is the shortest window: Go timers fire up to about a
	// millisecond late on Linux even on an idle machine, as its network
	// poller waits in whole milliseconds.
	MinWindow = 2 * time.Millisecond
	// MaxWindow is the longest window, and so the longest precise sleep:
	// the sleep is not interruptible, so a wait stopped during one ends
	// up to MaxWindow late.
	MaxWindow = 20 * time.Millisecond
)

// peakLate is a decaying peak of how late Go timers fired, in
// nanoseconds: each observation sets it to the larger of the lateness
// seen and 15/16 of its last value, so one very late timer widens the
// window at once and it narrows again over the next few dozen timers.
var peakLate atomic.Int64

// Window is how long before a due time a wait should end its Go timer and
// sleep the rest precisely: four times the recent peak of the process's
// timer lateness (see [TimerFired]), at least [MinWindow] and at most
// [MaxWindow]. A wait shorter than the window is slept precisely in full,
// which also costs one wake-up instead of two.
//
// Timers are the process's, so is the estimate: every run's scheduler
// sizes its waits from, and feeds, the same one.
func Window() time.Duration {
	return min(max(4*time.Duration(peakLate.Load()), MinWindow), MaxWindow)
}

// TimerFired notes that a Go timer fired late by late (its firing time
// less the time it was set for).
func TimerFired(late time.Duration) {
	late = max(late, 0)
	for {
		old := peakLate.Load()
		next := max(int64(late), old-old/16)
		if next == old || peakLate.CompareAndSwap(old, next) {
			return
		}
	}
}
