package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
)

// TestMainStopsOnSIGTERM runs a tool as its own process: a SIGTERM stops
// it gracefully (it used to kill it with no report), a second signal ends
// the graceful stop, and the report is written.
func TestMainStopsOnSIGTERM(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stderr)
	waitFor := func(s string) {
		t.Helper()
		for lines.Scan() {
			if strings.Contains(lines.Text(), s) {
				return
			}
		}
		t.Fatalf("the tool never said %q", s)
	}
	waitFor("ready")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	waitFor("terminated: stopping")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	waitFor("interrupt again")
	for lines.Scan() { // drain, so that the process can end
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v", err)
	assert.Equal(t, ExitFail, exit.ExitCode())
	assert.Contains(t, out.String(), "stuck", "the report")
	assert.NoError(t, ctx.Err(), "the tool ended before the test's deadline")
}

// TestFullDiskKeepsTheBaseline: saving a baseline where files cannot grow
// past 1 KiB (ulimit -f) fails and leaves the earlier baseline whole; it
// used to delete the old runs first and truncate the one it rewrote.
func TestFullDiskKeepsTheBaseline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "base")
	code, _, errOut := run(t, "-quiet", "-runs", "2", "-save-baseline", dir)
	require.Equal(t, ExitPass, code, errOut)
	before := map[string][]byte{}
	var runs []*loadgen.Result
	for _, name := range []string{"run-0.json", "run-1.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Greater(t, len(b), 1024, "a run's file must outgrow the limit")
		before[name] = b
		res, err := loadgen.LoadResult(filepath.Join(dir, name))
		require.NoError(t, err)
		runs = append(runs, res)
	}

	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim))
	small := lim
	small.Cur = 1024
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &small))
	err := saveRuns(dir, append(runs, runs[0]))
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))

	require.Error(t, err)
	assert.Contains(t, err.Error(), "the baseline in "+dir+" is left as it was")
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"run-0.json", "run-1.json"}, names, "no temporary left, no run deleted")
	for name, b := range before {
		got, _ := os.ReadFile(filepath.Join(dir, name))
		assert.Equal(t, b, got, name)
	}
}
