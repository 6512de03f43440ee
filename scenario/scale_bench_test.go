package scenario

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
)

// envTargetChild makes this test binary the target of BenchmarkVUs: a
// hello server in a process of its own, so that the generator's memory is
// measured alone.
const envTargetChild = "STAMPEDE_BENCH_TARGET_CHILD"

// TestHelloTargetChild is the target process of BenchmarkVUs; it skips
// unless started by it. It serves "Hello, World!" on a loopback port,
// prints the address, and exits when its stdin closes.
func TestHelloTargetChild(t *testing.T) {
	if os.Getenv(envTargetChild) == "" {
		t.Skip("runs only as the target process of BenchmarkVUs")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"text/plain"}
		_, _ = w.Write([]byte("Hello, World!"))
	})}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("listening on %s\n", ln.Addr())
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
	}
	_ = srv.Close()
}

// startTarget starts TestHelloTargetChild and returns its base URL.
func startTarget(b *testing.B) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelloTargetChild$")
	cmd.Env = append(os.Environ(), envTargetChild+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		b.Fatalf("target: %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return "http://" + addr
}

// memSampler samples the memory the Go runtime holds from the OS (mapped
// and not released: what the process's resident memory is made of) and
// the process's resident set, every 10 ms, keeping the peaks.
type memSampler struct {
	stop chan struct{}
	done chan [2]uint64
}

func sampleMemory() *memSampler {
	m := &memSampler{stop: make(chan struct{}), done: make(chan [2]uint64)}
	go func() {
		s := []rtmetrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
		var peak [2]uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			rtmetrics.Read(s)
			peak[0] = max(peak[0], s[0].Value.Uint64()-s[1].Value.Uint64())
			peak[1] = max(peak[1], rss())
			select {
			case <-m.stop:
				m.done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

func (m *memSampler) peaks() (goMem, rss uint64) {
	close(m.stop)
	p := <-m.done
	return p[0], p[1]
}

// rss returns the process's resident set (Linux; 0 elsewhere).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// BenchmarkVUs measures what a VU costs: 10 000 VUs (STAMPEDE_BENCH_VUS)
// on one process, on each engine, against a hello server in a process of
// its own. "closed": a closed model, each VU running a 3-step journey
// (GET, think 0.5–1.5 s, three times) for 8 s, every VU holding its
// connection; "idle-open": an open model's pool of as many VUs made
// beforehand (PreAllocatedVUs) with 50 arrivals a second for 3 s, so that
// most of the pool idles. Each reports the peak, over the run, of the
// memory the Go runtime holds and of the process's resident set, above
// what they were before it, per VU ("go-KB/VU", "rss-KB/VU"), and for the
// closed model the iterations it ran against those its own latencies and
// think times imply ("iterations", "model-%": 100 when the model was held)
// and how many warnings its report gives that the generator, not the
// target, made the numbers (logged with -v).
//
//	go test -run '^$' -bench '^BenchmarkVUs$' -benchtime 1x ./scenario
func BenchmarkVUs(b *testing.B) {
	vus := 10_000
	if s := os.Getenv("STAMPEDE_BENCH_VUS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("STAMPEDE_BENCH_VUS must be a positive integer, got %q", s)
		}
		vus = n
	}
	base := startTarget(b)
	think := Think(Uniform(500*time.Millisecond, 1500*time.Millisecond))
	const duration = 8 * time.Second
	for _, e := range []Engine{EngineWire, EngineNetHTTP} {
		j := Must("journey", Parts{GET("a", base+"/a"), think, GET("b", base+"/b"), think, GET("c", base+"/c"), think},
			WithClient(Client{Engine: e}))
		for _, model := range []string{"closed", "idle-open"} {
			b.Run(fmt.Sprintf("%v/%s", e, model), func(b *testing.B) {
				var sc loadgen.Scenario
				if model == "closed" {
					sc = j.Scenario(loadgen.ConstantVUs{VUs: vus, Duration: duration})
				} else {
					sc = j.Scenario(loadgen.ConstantRate{Rate: 50, Duration: 3 * time.Second, PreAllocatedVUs: vus, MaxVUs: vus})
				}
				for b.Loop() {
					runtime.GC()
					debug.FreeOSMemory()
					m := sampleMemory()
					time.Sleep(20 * time.Millisecond)
					goBase, rssBase := m.peaks()
					m = sampleMemory()
					res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{sc}})
					goPeak, rssPeak := m.peaks()
					if err != nil {
						b.Fatal(err)
					}
					it := res.Iterations("journey")
					if it.Errors() > 0 {
						b.Fatalf("%d of %d iterations failed: %v", it.Errors(), it.Count(), res.Errors)
					}
					b.ReportMetric(float64(goPeak-goBase)/float64(vus)/1e3, "go-KB/VU")
					b.ReportMetric(float64(rssPeak-rssBase)/float64(vus)/1e3, "rss-KB/VU")
					if model == "closed" {
						// Each VU runs iterations of three requests and three
						// think times (1 s on average) one after another,
						// from its start (staggered over the first
						// ConstantVUs.Stagger) to the end; the last one,
						// cut, counts as half.
						var req time.Duration
						for _, s := range []string{"a", "b", "c"} {
							req += res.Metrics.SeriesOf(metrics.Key{Scenario: "journey", Step: s, Kind: metrics.KindStep}).Total.Mean()
						}
						stagger := min(time.Second, duration/10)
						want := float64(vus) * ((duration-stagger/2).Seconds()/(3*time.Second+req).Seconds() + 0.5)
						b.ReportMetric(float64(it.Count()), "iterations")
						b.ReportMetric(100*float64(it.Count())/want, "model-%")
						sum := report.Summarize(res)
						if g := sum.Generator; g != nil {
							b.Logf("think lag p50 %v p99 %v, held back %.1f%%; Go scheduler p99 %v; iteration mean %v, steps %v",
								g.ThinkLag.P50, g.ThinkLag.P99, 100*g.HeldBack, g.Sched.P99, it.Mean(), req)
						}
						w := sum.GeneratorWarnings()
						b.ReportMetric(float64(len(w)), "generator-warnings")
						for _, w := range w {
							b.Log(w)
						}
					}
				}
			})
		}
	}
}
