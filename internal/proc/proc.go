// Package proc reads what the process has used of the machine.
package proc

import "time"

// CPUTime returns the CPU time the process has used so far (user and
// system, every thread), and false where the platform does not say.
func CPUTime() (time.Duration, bool) { return cpuTime() }
