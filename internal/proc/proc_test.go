package proc

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCPUTimeGrowsWithWork: a loop that keeps a processor busy shows up
// in the process's CPU time.
func TestCPUTimeGrowsWithWork(t *testing.T) {
	before, ok := CPUTime()
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		assert.False(t, ok)
		return
	}
	require.True(t, ok)
	// Busy until the CPU time has grown by 20 ms, or 10 s have passed on
	// a machine too busy to give this process that much.
	deadline := time.Now().Add(10 * time.Second)
	var used time.Duration
	for time.Now().Before(deadline) && used < 20*time.Millisecond {
		for range 100_000 {
			runtime.KeepAlive(used)
		}
		after, _ := CPUTime()
		used = after - before
	}
	assert.GreaterOrEqual(t, used, 20*time.Millisecond, "a busy loop shows in the CPU time")
}
