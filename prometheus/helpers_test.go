package stampedeprom_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	stampedeprom "github.com/stampede-go/stampede/prometheus"
)

// client makes no keep-alive connections, so that no idle-connection
// goroutine outlives a test (goleak checks).
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}

const protoAccept = `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`

// scrape fetches http://addr/metrics, asking for the protobuf format when
// proto is set and the text format otherwise, and parses the answer.
func scrape(t *testing.T, addr string, proto bool) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := scrapeErr(t.Context(), addr, proto)
	require.NoError(t, err)
	return mfs
}

// scrapeErr is scrape for goroutines other than the test's.
func scrapeErr(ctx context.Context, addr string, proto bool) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	if proto {
		req.Header.Set("Accept", protoAccept)
	} else {
		req.Header.Set("Accept", "text/plain;version=0.0.4")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	if !proto {
		p := expfmt.NewTextParser(model.UTF8Validation)
		return p.TextToMetricFamilies(resp.Body)
	}
	format := expfmt.ResponseFormat(resp.Header)
	if format.FormatType() != expfmt.TypeProtoDelim {
		return nil, fmt.Errorf("asked for protobuf, got %q", resp.Header.Get("Content-Type"))
	}
	dec := expfmt.NewDecoder(resp.Body, format)
	mfs := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		err := dec.Decode(&mf)
		if err == io.EOF {
			return mfs, nil
		}
		if err != nil {
			return nil, err
		}
		mfs[mf.GetName()] = &mf
	}
}

// find returns the metric of family name whose labels include want, or nil.
func find(mfs map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	mf := mfs[name]
	if mf == nil {
		return nil
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// sum adds the values of family name's counters or gauges whose labels
// include want.
func sum(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	mf := mfs[name]
	if mf == nil {
		return 0
	}
	var s float64
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return s
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// describedNames returns the names of every metric e describes.
func describedNames(t *testing.T, e *stampedeprom.Exporter) map[string]bool {
	t.Helper()
	ch := make(chan *prometheus.Desc, 100)
	e.Describe(ch)
	close(ch)
	names := map[string]bool{}
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		require.NotNil(t, m, "desc %s", d)
		names[m[1]] = true
	}
	return names
}

// kindProto is another protocol's kind of status codes, whose names the
// exporter labels them with.
const kindProto metrics.Kind = "tproto"

func init() { metrics.RegisterCodes(kindProto, map[int]string{0: "FINE", 14: "GONE"}) }

// fixture is a hand-made report covering every kind of key: a step with
// its status codes, an HTTP phase with payload bytes, the status codes of
// another protocol's step on a kind of their own, a scenario's iterations
// with drops, its schedule lag, and the generator's health.
func fixture(final bool) *loadgen.Progress {
	// stats records the latencies of ok successes, then of failed
	// failures (the last values).
	stats := func(ok, failed int64, lat ...time.Duration) metrics.Stats {
		var s metrics.Stats
		for i, d := range lat {
			if int64(i) < ok {
				s.Latency.Record(d)
			} else {
				s.Failed.Record(d)
			}
		}
		s.Outcomes[metrics.OK] = ok
		s.Outcomes[metrics.HTTP5xx] = failed
		return s
	}
	step := stats(3, 1, 2*time.Millisecond, 3*time.Millisecond, 4*time.Millisecond, 50*time.Millisecond)
	step.Status = metrics.StatusCounts{{Code: 200, Count: 3}, {Code: 503, Count: 1}}
	ttfb := stats(4, 0, time.Millisecond, time.Millisecond, 2*time.Millisecond, 40*time.Millisecond)
	ttfb.BytesSent, ttfb.BytesReceived = 400, 12000
	iter := stats(3, 1, 5*time.Millisecond, 6*time.Millisecond, 7*time.Millisecond, 60*time.Millisecond)
	iter.Outcomes[metrics.Dropped] = 2
	lag := stats(4, 0, 10*time.Microsecond, 20*time.Microsecond, 30*time.Microsecond, time.Millisecond)
	mp := func(k metrics.Key, s metrics.Stats) loadgen.SeriesProgress {
		return loadgen.SeriesProgress{Key: k, KeyProgress: metrics.KeyProgress{Last: s, Total: s, All: s}}
	}
	iterKey := metrics.Key{Scenario: "shop", Kind: metrics.KindIteration}
	p := &loadgen.Progress{
		Elapsed: 2 * time.Second, Planned: 10 * time.Second, Interval: 1, Final: final,
		Series: []loadgen.SeriesProgress{
			mp(iterKey, iter),
			mp(metrics.Key{Scenario: "shop", Kind: metrics.KindScheduleLag}, lag),
			mp(metrics.Key{Scenario: "shop", Step: "checkout", Kind: metrics.KindStep}, step),
			mp(metrics.Key{Scenario: "shop", Step: "checkout", Kind: "http_ttfb"}, ttfb),
			mp(metrics.Key{Scenario: "shop", Step: "lookup", Kind: kindProto}, metrics.Stats{Status: metrics.StatusCounts{{Code: 0, Count: 5}, {Code: 14, Count: 1}}}),
			mp(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGoSched}, stats(3, 0, time.Microsecond, 2*time.Microsecond, 300*time.Microsecond)),
			mp(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindGCPause}, stats(1, 0, 200*time.Microsecond)),
		},
	}
	p.Scenarios = []loadgen.ScenarioProgress{{Name: "shop", VUs: 3, Iterations: p.Series[0]}}
	p.Gauges = []loadgen.GaugeProgress{
		{Name: "heap MiB", Last: metrics.GaugePoint{Min: 60, Max: 68, Sum: 128, N: 2}},
		{Name: loadgen.GaugeCPU, Last: metrics.GaugePoint{Min: 0.25, Max: 0.25, Sum: 0.25, N: 1}},
		{Name: loadgen.GaugeGoroutines, Last: metrics.GaugePoint{Min: 40, Max: 40, Sum: 40, N: 1}},
		{Name: loadgen.GaugeHeap, Last: metrics.GaugePoint{Min: 1 << 20, Max: 1 << 20, Sum: 1 << 20, N: 1}},
	}
	return p
}

// serve starts e on a loopback port and stops it when the test ends.
func serve(t *testing.T, e *stampedeprom.Exporter) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := e.Serve(ctx, "")
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		if err := e.Wait(); err != nil {
			t.Error(err)
		}
	})
	return addr
}

func labels(kv ...string) map[string]string {
	if len(kv)%2 != 0 {
		panic(fmt.Sprint("odd label list ", kv))
	}
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
