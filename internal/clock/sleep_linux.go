package clock

import (
	"runtime"
	"syscall"
	"time"
)

const (
	prSetTimerSlack = 29
	prGetTimerSlack = 30
)

// sleepPrecise sleeps in nanosleep with the thread's timer slack set to
// 1 ns: the kernel may otherwise end a sleep up to the slack (50 µs by
// default) after it is due. The goroutine stays on its thread meanwhile,
// and the slack is restored before it leaves.
func sleepPrecise(d time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prGetTimerSlack, 0, 0)
	if errno == 0 {
		_, _, errno = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
	}
	if errno == 0 {
		defer syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, old, 0)
	}
	ts := syscall.NsecToTimespec(int64(d))
	for {
		// On EINTR, rem holds what is left.
		var rem syscall.Timespec
		if err := syscall.Nanosleep(&ts, &rem); err != syscall.EINTR {
			return
		}
		ts = rem
	}
}
