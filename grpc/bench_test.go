package stampedegrpc_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	stampedegrpc "github.com/stampede-go/stampede/grpc"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// benchEnv reads an integer setting of the benchmarks.
func benchEnv(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		b.Fatalf("%s must be a non-negative integer, got %q", name, s)
	}
	return n
}

// BenchmarkUnary makes b.N unary calls (EmptyCall of grpc-go's test
// service) from STAMPEDE_BENCH_VUS VUs (50) over STAMPEDE_BENCH_CONNS
// shared connections (1; 0: one per VU), to the plaintext server at
// STAMPEDE_BENCH_GRPC, or to one on loopback in this process. "step" runs
// them as a journey's step; "plain" as the same stub in a loop of as many
// goroutines, what the step's cost is measured against. Each reports
// req/s; bench/unary.sh runs both beside ghz, each in its own process,
// and divides their CPU time by their calls.
func BenchmarkUnary(b *testing.B) {
	addr := os.Getenv("STAMPEDE_BENCH_GRPC")
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := grpc.NewServer()
		testgrpc.RegisterTestServiceServer(srv, &testServer{})
		go srv.Serve(l)
		defer srv.Stop()
		addr = l.Addr().String()
	}
	vus := max(benchEnv(b, "STAMPEDE_BENCH_VUS", 50), 1)
	conns := benchEnv(b, "STAMPEDE_BENCH_CONNS", 1)
	empty := &testgrpc.Empty{}

	b.Run("step", func(b *testing.B) {
		c := &stampedegrpc.Client{Target: addr, Plaintext: true, Conns: conns}
		j := scenario.Must("bench", scenario.Parts{
			stampedegrpc.Unary("call", c, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.EmptyCall,
				func(*scenario.VU) (*testgrpc.Empty, error) { return empty, nil }),
		})
		sc := j.Scenario(loadgen.SharedIterations{VUs: vus, Iterations: max(b.N, vus), MaxDuration: time.Hour})
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{sc}})
		el := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		st := res.Metrics.SeriesOf(metrics.Key{Scenario: "bench", Step: "call", Kind: metrics.KindStep}).Total
		if st.Errors() > 0 {
			b.Fatalf("%d of %d calls failed: %v", st.Errors(), st.Count(), res.Errors)
		}
		b.ReportMetric(float64(st.Count())/el.Seconds(), "req/s")
	})

	b.Run("plain", func(b *testing.B) {
		n := max(conns, 1)
		if conns == 0 {
			n = vus
		}
		ccs := make([]*grpc.ClientConn, n)
		for i := range ccs {
			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				b.Fatal(err)
			}
			defer cc.Close()
			ccs[i] = cc
		}
		total := int64(max(b.N, vus))
		var next, failed atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for g := range vus {
			stub := testgrpc.NewTestServiceClient(ccs[g%n])
			wg.Go(func() {
				for next.Add(1) <= total {
					if _, err := stub.EmptyCall(context.Background(), empty); err != nil {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		el := time.Since(start)
		if failed.Load() > 0 {
			b.Fatalf("%d of %d calls failed", failed.Load(), total)
		}
		b.ReportMetric(float64(total)/el.Seconds(), "req/s")
	})
}
