//go:build !linux

package clock

import "time"

func sleepPrecise(d time.Duration) { time.Sleep(d) }
