package stampedews_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
	stampedews "github.com/stampede-go/stampede/ws"
)

// heldMemory runs vus VUs that wait until all have started, each open a
// connection, wait until all have, hold it a second or so and close it. It
// returns the bytes of heap and stacks in use per VU once all hold one,
// less those once all had started: the cost of a held connection.
func heldMemory(t *testing.T, addr string, vus int) (mem, *loadgen.Result) {
	inUse := func() mem {
		// Each collection halves the stacks of goroutines that use less
		// than a quarter of theirs, as the collections of a long hold do.
		for range 4 {
			runtime.GC()
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return mem{float64(m.HeapInuse), float64(m.StackInuse)}
	}
	// barrier is a step that waits until every VU has reached it, the
	// last measuring the memory in use then.
	barrier := func(name string, measured *mem) scenario.Part {
		var arrived atomic.Int64
		all := make(chan struct{})
		return scenario.Step(name, func(ctx context.Context, _ *scenario.VU) error {
			if arrived.Add(1) == int64(vus) {
				*measured = inUse()
				close(all)
			}
			select {
			case <-all:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}
	var started, holding mem
	c := &stampedews.Client{URL: "ws://" + addr + "/"}
	j := scenario.Must("held", scenario.Parts{
		barrier("started", &started),
		stampedews.Connect("connect", c),
		barrier("holding", &holding),
		// The VUs leave over 2 s as they came, rather than send 10 000
		// close handshakes at one instant.
		scenario.Step("spread", func(ctx context.Context, vu *scenario.VU) error {
			select {
			case <-time.After(2 * time.Second * time.Duration(vu.ID) / time.Duration(vus)):
			case <-ctx.Done():
			}
			return nil
		}),
		stampedews.Hold("hold", c, time.Second),
		stampedews.Close("close", c),
	})
	// The VUs arrive over 2 s (the listener's backlog is shorter than
	// 10 000), and hold until the last has connected, within a minute.
	sc := j.Scenario(loadgen.ConstantRate{Rate: vus, Per: 2 * time.Second, Duration: 2 * time.Second, PreAllocatedVUs: vus})
	sc.GracefulStop = time.Minute
	res, err := loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{sc}})
	require.NoError(t, err)
	n := float64(vus)
	return mem{(holding.heap - started.heap) / n, (holding.stack - started.stack) / n}, res
}

// mem is memory in use, in bytes: the heap's and goroutine stacks'.
type mem struct{ heap, stack float64 }

func (m mem) String() string {
	return fmt.Sprintf("%.1f KB (heap %.1f, stacks %.1f)", (m.heap+m.stack)/1024, m.heap/1024, m.stack/1024)
}

// TestHoldTenThousand holds 10 000 WebSocket connections on loopback to a
// server in another process (internal/heldserver), and measures what a held connection costs
// the generator: the memory per VU holding one, less that of a VU that
// only waits.
func TestHoldTenThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 10 000 connections for some 10 s")
	}
	const n = 10000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < n+1000 {
		t.Skipf("the limit of open files is %d; holding %d connections needs %d", lim.Cur, n, n+1000)
	}
	// The server is built without the race detector, whatever this test
	// is built with (see internal/heldserver).
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the server with: %v", err)
	}
	exe := filepath.Join(t.TempDir(), "heldserver")
	build := exec.Command(goTool, "build", "-o", exe, "./internal/heldserver")
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the server: %v\n%s", err, out)
	}
	srv := exec.Command(exe)
	srv.Stderr = os.Stderr
	in, err := srv.StdinPipe()
	require.NoError(t, err)
	out, err := srv.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	defer func() {
		in.Close()
		srv.Wait()
	}()
	addr, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	addr = addr[:len(addr)-1]

	perConn, res := heldMemory(t, addr, n)
	connect := res.Metrics.SeriesOf(metrics.Key{Scenario: "held", Step: "connect", Kind: metrics.KindStep}).Total
	closed := res.Metrics.SeriesOf(metrics.Key{Scenario: "held", Step: "close", Kind: metrics.KindStep}).Total
	assert.Equal(t, int64(n), connect.Outcomes[metrics.OK], "%v %v", connect.Outcomes, res.Errors)
	assert.Equal(t, int64(n), closed.Outcomes[metrics.OK], "%v %v", closed.Outcomes, res.Errors)
	g := res.Metrics.Gauge("held." + stampedews.GaugeHeld)
	require.NotNil(t, g)
	most := 0.0
	for _, p := range g.Points {
		most = max(most, p.Max)
	}
	assert.Equal(t, float64(n), most, "the gauge saw every connection held")
	t.Logf("%d connections held: %v per connection", n, perConn)
}
