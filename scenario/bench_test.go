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
	"github.com/stampede-go/stampede/report"
)

// BenchmarkHTTPStep runs one GET step with 50 VUs (closed model) against a
// loopback hello server, or against STAMPEDE_BENCH_URL with
// STAMPEDE_BENCH_VUS VUs when set (see bench/peers.sh), on each
// engine — the own client ("wire", the default) and net/http ("nethttp")
// — and reports requests per second and allocations.
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
	for _, p := range []struct {
		name string
		c    Client
	}{{"wire", Client{}}, {"nethttp", Client{Engine: EngineNetHTTP}}} {
		b.Run(p.name, func(b *testing.B) {
			j := Must("bench", Parts{GET("get", url)}, WithClient(p.c))
			sc := j.Scenario(loadgen.SharedIterations{VUs: vus, Iterations: max(b.N, vus), MaxDuration: time.Hour})
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{sc}})
			el := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			st := res.Metrics.SeriesOf(metrics.Key{Scenario: "bench", Step: "get", Kind: metrics.KindStep}).Total
			if st.Errors() > 0 {
				b.Fatalf("%d of %d requests failed: %v", st.Errors(), st.Count(), res.Errors)
			}
			b.ReportMetric(float64(st.Count())/el.Seconds(), "req/s")
			b.ReportMetric(float64(st.Quantile(0.99))/1e3, "p99-us")
		})
	}
}

// BenchmarkOpenHTTP runs one GET step under an open model — ConstantRate,
// MaxVUs 5000 — against a loopback server that answers after 10 ms, or
// against STAMPEDE_BENCH_URL at STAMPEDE_BENCH_RATE per second for
// STAMPEDE_BENCH_SECONDS when set (see bench/peers-open.sh; b.N
// is ignored: one run per call, use -benchtime 1x). It reports the
// iterations started ("sent"), the arrivals dropped, the p99 of iteration
// latency from the due time ("p99-ms"), the p99 schedule lag
// ("lag-p99-us") and what the generator may have added at p99
// ("gen-p99-ms": the schedule lag plus the Go scheduler's latency, as
// report.GeneratorDelay has it); STAMPEDE_BENCH_REPORT=1 prints the
// run's report too. STAMPEDE_BENCH_CLIENT=nethttp sends with net/http
// (EngineNetHTTP), wire with the own client; the default is Client{}'s.
func BenchmarkOpenHTTP(b *testing.B) {
	url := os.Getenv("STAMPEDE_BENCH_URL")
	if url == "" {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(10 * time.Millisecond)
			w.Write([]byte("Hello, World!"))
		}))
		defer srv.Close()
		url = srv.URL + "/"
	}
	env := func(name string, def int) int {
		s := os.Getenv(name)
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("%s must be a positive integer, got %q", name, s)
		}
		return n
	}
	rate, secs := env("STAMPEDE_BENCH_RATE", 2000), env("STAMPEDE_BENCH_SECONDS", 2)
	var c Client
	switch e := os.Getenv("STAMPEDE_BENCH_CLIENT"); e {
	case "", "auto":
	case "wire":
		c.Engine = EngineWire
	case "nethttp":
		c.Engine = EngineNetHTTP
	default:
		b.Fatalf("STAMPEDE_BENCH_CLIENT must be auto, wire or nethttp, got %q", e)
	}
	j := Must("open", Parts{GET("get", url)}, WithClient(c))
	sc := j.Scenario(loadgen.ConstantRate{Rate: rate, Duration: time.Duration(secs) * time.Second, PreAllocatedVUs: 100, MaxVUs: 5000})
	b.ReportAllocs()
	for b.Loop() {
		res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{sc}})
		if err != nil {
			b.Fatal(err)
		}
		it := res.Iterations("open")
		lag := res.Metrics.SeriesOf(metrics.Key{Scenario: "open", Kind: metrics.KindScheduleLag}).Total
		if it.Errors() > 0 {
			b.Fatalf("%d of %d requests failed: %v", it.Errors(), it.Count(), res.Errors)
		}
		b.ReportMetric(float64(it.Count()), "sent")
		b.ReportMetric(float64(it.Outcomes[metrics.Dropped]), "dropped")
		b.ReportMetric(float64(it.Quantile(0.99))/1e6, "p99-ms")
		b.ReportMetric(float64(lag.Quantile(0.99))/1e3, "lag-p99-us")
		// What the generator may have added at p99 (report.GeneratorDelay):
		// the schedule lag plus the Go scheduler's latency there.
		sched := res.Metrics.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}).Total
		b.ReportMetric(float64(lag.Quantile(0.99)+sched.Quantile(0.99))/1e6, "gen-p99-ms")
		if os.Getenv("STAMPEDE_BENCH_REPORT") != "" {
			if err := report.Summarize(res).WriteText(os.Stdout); err != nil {
				b.Fatal(err)
			}
		}
	}
}
