// Package clock holds the engine's precise short sleep, and the window
// that says when a wait should switch to it.
//
// Go timers are served by the runtime's network poller, whose wait has
// millisecond granularity on Linux: a timer of a few microseconds fires
// about a millisecond late there. An open-model scheduler that wakes for every arrival would then
// start most of them a millisecond late. [Sleep] instead blocks the calling
// OS thread in nanosleep with the thread's timer slack lowered to 1 ns
// (on Linux), which wakes within tens of microseconds (loadgen's
// BenchmarkOpenRate reports the schedule lag that is left). The cost is a
// thread blocked for the sleep, not a spinning core.
//
// A long wait is best spent on a Go timer until shortly before its end,
// and the rest in Sleep: [Window] says how long before, from how late the
// process's timers are seen to fire.
package clock

import (
	"time"
)

// Sleep blocks the calling thread for d (precisely where the platform
// allows it, see sleepPrecise). It is not interruptible: use it only for
// waits of at most [MaxWindow].
func Sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	sleepPrecise(d)
}

// Spin is how long [SleepUntil] may spin before a due time that follows a
// long wait (at least SpinAfter): after a millisecond or more idle, a
// thread wakes from a sleep 50–100 µs late; spinning the last few
// microseconds makes the wake-up punctual at a cost of at most Spin of CPU
// per wait (0.5 % of a core at 100 waits a second).
const (
	Spin      = 50 * time.Microsecond
	SpinAfter = time.Millisecond
)

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

// base is the instant [Elapsed] and [Offset] count from, so that their
// readings agree to the nanosecond, on a real clock and on a fake one.
var base = time.Now()

// Elapsed returns the time since the clock's base: a timestamp as one
// integer, from one reading of the monotonic clock. time.Now reads the
// wall clock as well, a second call into the system's clock where each
// reading is one (on a VM's kvm-clock, 54 ns against 28 ns); an engine
// that stamps several instants a request uses Elapsed for those it only
// subtracts.
func Elapsed() time.Duration { return time.Since(base) }

// Offset returns t as a timestamp of [Elapsed]'s kind: the time from the
// clock's base to t.
func Offset(t time.Time) time.Duration { return t.Sub(base) }

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
