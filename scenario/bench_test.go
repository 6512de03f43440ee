package scenario

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// BenchmarkHTTPStep runs one GET step with 50 VUs (closed model) against a
// loopback hello server, or against STAMPEDE_BENCH_URL with
// STAMPEDE_BENCH_VUS VUs when set (see ../shared/bench/peers.sh), and
// reports requests per second.
func BenchmarkHTTPStep(b *testing.B) {
	url := os.Getenv("STAMPEDE_BENCH_URL")
	if url == "" {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = []string{"text/plain"}
			w.Write([]byte("Hello, World!"))
		}))
		defer srv.Close()
		url = srv.URL + "/"
	}
	vus := 50
	if s := os.Getenv("STAMPEDE_BENCH_VUS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("STAMPEDE_BENCH_VUS must be a positive integer, got %q", s)
		}
		vus = n
	}
	j := Must("bench", Parts{GET("get", url)})
	sc := j.Scenario(loadgen.SharedIterations{VUs: vus, Iterations: max(b.N, vus), MaxDuration: time.Hour})
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{sc}})
	el := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	st := res.Metrics.Metric(metrics.Key{Scenario: "bench", Step: "get", Kind: metrics.KindStep}).Total
	if st.Errors() > 0 {
		b.Fatalf("%d of %d requests failed: %v", st.Errors(), st.Count(), res.Errors)
	}
	b.ReportMetric(float64(st.Count())/el.Seconds(), "req/s")
	b.ReportMetric(float64(st.Quantile(0.99))/1e3, "p99-us")
}
