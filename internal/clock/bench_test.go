package clock

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkSleepUntil measures the floor under an open model's schedule
// lag on this machine: 1 000 precise waits of 4 ms in a row, each ended by
// SleepUntil with its spin, as the scheduler ends a wait, and nothing else
// running. It reports how late they ended (p50, p99, max) and how many
// ended more than a millisecond late: what is left is the platform's
// (a virtual machine's host descheduling it, say), not the scheduler's.
func BenchmarkSleepUntil(b *testing.B) {
	const n, every = 1000, 4 * time.Millisecond
	for b.Loop() {
		late := make([]time.Duration, 0, n)
		due := time.Now()
		for range n {
			due = due.Add(every)
			SleepUntil(due, Spin)
			late = append(late, time.Since(due))
		}
		slices.Sort(late)
		over := 0
		for _, d := range late {
			if d > time.Millisecond {
				over++
			}
		}
		b.ReportMetric(float64(late[n/2])/1e3, "p50-late-us")
		b.ReportMetric(float64(late[n*99/100])/1e3, "p99-late-us")
		b.ReportMetric(float64(late[n-1])/1e3, "max-late-us")
		b.ReportMetric(float64(over), "over-1ms")
	}
}
