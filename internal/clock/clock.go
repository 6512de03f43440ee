// Package clock holds the engine's precise short sleep.
//
// Go timers are served by the runtime's network poller, whose wait has
// millisecond granularity on Linux: a 20 µs timer fires about 1.1 ms late
// there. An open-model scheduler that wakes for every arrival would then
// start most of them a millisecond late. [Sleep] instead blocks the calling
// OS thread in nanosleep, which wakes within about 0.1 ms; callers lock
// their goroutine to its thread (runtime.LockOSThread) so the cost is one
// thread, not a spinning core.
package clock

import "time"

// Threshold is the wait below which [Sleep] is worth using; longer waits
// use ordinary Go timers, whose lateness is small relative to the wait.
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
