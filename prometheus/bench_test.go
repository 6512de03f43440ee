package stampedeprom_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	stampedeprom "github.com/stampede-go/stampede/prometheus"
)

// BenchmarkClosedNoop is loadgen's BenchmarkClosedNoop (8 VUs share b.N
// no-op iterations, each one timed and recorded) without and with the
// exporter. With it, the exporter is attached and served, and scraped over
// loopback every 100 ms, ten times as often as a 1 s scrape interval would,
// so the figures show the exporter's whole cost to the run.
func BenchmarkClosedNoop(b *testing.B) {
	b.Run("exporter=off", func(b *testing.B) { benchClosedNoop(b, false) })
	b.Run("exporter=on", func(b *testing.B) { benchClosedNoop(b, true) })
}

func benchClosedNoop(b *testing.B, export bool) {
	b.ReportAllocs()
	n := max(b.N, 8)
	plan := &loadgen.Plan{Scenarios: []loadgen.Scenario{{
		Name:      "noop",
		Executor:  loadgen.SharedIterations{VUs: 8, Iterations: n, MaxDuration: time.Hour},
		Iteration: func(context.Context, *loadgen.Iteration) error { return nil },
	}}}
	var wg sync.WaitGroup
	done := make(chan struct{})
	if export {
		e := stampedeprom.MustNew(stampedeprom.Options{})
		e.Attach(plan)
		ctx, cancel := context.WithCancel(context.Background())
		addr, err := e.Serve(ctx, "")
		if err != nil {
			b.Fatal(err)
		}
		defer func() {
			cancel()
			if err := e.Wait(); err != nil {
				b.Error(err)
			}
		}()
		wg.Go(func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				if _, err := scrapeErr(ctx, addr, false); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ResetTimer()
	res, err := loadgen.Run(context.Background(), plan)
	b.StopTimer()
	close(done)
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	if got := res.Iterations("noop").Count(); got != int64(n) {
		b.Fatalf("ran %d iterations, want %d", got, n)
	}
}
