//go:build !unix

package proc

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
