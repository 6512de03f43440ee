// Package clock holds the engine's precise short sleep.
//
// Go timers are served by the runtime's network poller, whose wait has
// millisecond granularity on Linux: a timer of a few microseconds fires
// about a millisecond late there. An open-model scheduler that wakes for every arrival would then
// start most of them a millisecond late. [Sleep] instead blocks the calling
// OS thread in nanosleep with the thread's timer slack lowered to 1 ns
// (on Linux), which wakes within tens of microseconds (loadgen's
// BenchmarkOpenRate reports the schedule lag that is left). The cost is a
// thread blocked for the sleep, not a spinning core.
package clock

import (
	"time"
)

// Threshold is the wait below which [Sleep] is worth using. A longer wait
// is best spent on an ordinary Go timer until Threshold before its end
// (timers fire up to about a millisecond late), and the rest in Sleep.
const Threshold = 2 * time.Millisecond

// Sleep blocks the calling thread for d (precisely where the platform
// allows it, see sleepPrecise). It is not interruptible: use it only for
// waits below Threshold.
func Sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	sleepPrecise(d)
}

// Spin is how long [SleepUntil] may spin before a due time that follows a
// long wait: after a few milliseconds idle, a thread wakes from a sleep
// 50–100 µs late; spinning the last few microseconds makes the wake-up
// punctual at a cost of at most Spin of CPU per wait (0.5 % of a core at
// 100 waits a second).
const Spin = 50 * time.Microsecond

// SleepUntil blocks until due: it sleeps precisely until spin before due,
// then spins until due. A spin of 0 only sleeps. The spin keeps the
// processor: yielding it there puts the caller behind every goroutine
// waiting to run, which at an interval's end or in a garbage collection
// cost milliseconds.
func SleepUntil(due time.Time, spin time.Duration) {
	Sleep(time.Until(due) - spin)
	for spin > 0 && time.Now().Before(due) {
	}
}

// Fake reports whether time.Now is a fake clock, as inside a
// testing/synctest bubble. Precise sleeps and spins are pointless, even
// endless, on a fake clock; callers use ordinary timers there instead.
func Fake() bool { return fakeAfter(sleepPrecise) }

// fakeAfter tells a fake clock by how it moves across a sleep of a
// microsecond: not at all across a sleep in the kernel (nanosleep, on
// Linux), or by exactly the microsecond across a Go timer (time.Sleep,
// elsewhere), which a real clock never does: a real sleep always takes
// longer than asked.
func fakeAfter(sleep func(time.Duration)) bool {
	before := time.Now()
	sleep(time.Microsecond)
	d := time.Since(before)
	return d == 0 || d == time.Microsecond
}
