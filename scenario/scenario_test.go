package scenario

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func run(t *testing.T, scs ...loadgen.Scenario) *loadgen.Result {
	t.Helper()
	res, err := loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: scs})
	require.NoError(t, err)
	return res
}

func step(res *loadgen.Result, sc, name string) metrics.Stats {
	if m := res.Metrics.SeriesOf(metrics.Key{Scenario: sc, Step: name, Kind: metrics.KindStep}); m != nil {
		return m.Total
	}
	return metrics.Stats{}
}

// meetings is a small test service: a list, a detail page and a sign-up
// that fails for meeting 3 and sets a session cookie on first contact.
type meetings struct {
	mu       sync.Mutex
	sessions map[string]string // cookie → VU header seen first with it
	mixups   int               // a cookie arriving with another VU's header
	details  map[string]int
}

func (m *meetings) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /meetings", func(w http.ResponseWriter, r *http.Request) {
		m.session(w, r)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items":[{"id":"7","title":"Go meetup"},{"id":"3","title":"Rust"}]}`)
	})
	mux.HandleFunc("GET /meetings/{id}", func(w http.ResponseWriter, r *http.Request) {
		m.session(w, r)
		m.mu.Lock()
		m.details[r.PathValue("id")]++
		m.mu.Unlock()
		fmt.Fprintf(w, "<h1>meeting %s</h1>", r.PathValue("id"))
	})
	mux.HandleFunc("POST /meetings/{id}/apply", func(w http.ResponseWriter, r *http.Request) {
		m.session(w, r)
		if r.PathValue("id") == "3" {
			http.Error(w, "full", http.StatusConflict)
			return
		}
		fmt.Fprint(w, `{"status":"applied"}`)
	})
	return mux
}

func (m *meetings) session(w http.ResponseWriter, r *http.Request) {
	vu := r.Header.Get("X-VU")
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := r.Cookie("session")
	if err != nil {
		id := fmt.Sprintf("s%d", len(m.sessions))
		m.sessions[id] = vu
		http.SetCookie(w, &http.Cookie{Name: "session", Value: id, Path: "/"})
		return
	}
	if m.sessions[c.Value] != vu {
		m.mixups++
	}
}

func TestJourneyEndToEnd(t *testing.T) {
	m := &meetings{sessions: map[string]string{}, details: map[string]int{}}
	srv := httptest.NewServer(m.handler())
	defer srv.Close()

	users, err := NewFeeder("users", []string{"meeting"}, [][]string{{"7"}, {"7"}, {"3"}, {"7"}}, Sequential, Wrap)
	require.NoError(t, err)
	j, err := New("signup", Parts{
		Feed(users),
		GET("list", srv.URL+"/meetings", Header("X-VU", "{{vu.id}}"), ExtractJSON("items.0.id", "first"), JSONEquals("items.1.title", "Rust")),
		GET("detail", srv.URL+"/meetings/{{first}}", Header("X-VU", "{{vu.id}}"), Contains("<h1>meeting 7</h1>")),
		POST("apply", srv.URL+"/meetings/{{meeting}}/apply", `{"who":"{{vu.id}}"}`, Header("X-VU", "{{vu.id}}"), Expect(200)),
		GET("detail-again", srv.URL+"/meetings/{{meeting}}", Header("X-VU", "{{vu.id}}")),
	})
	require.NoError(t, err)
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 4, Iterations: 10}))

	assert.Equal(t, int64(40), step(res, "signup", "list").Count())
	assert.Equal(t, int64(40), step(res, "signup", "detail").Count())
	apply := step(res, "signup", "apply")
	assert.Equal(t, int64(40), apply.Count())
	assert.Equal(t, int64(10), apply.Outcomes[metrics.HTTP4xx], "every fourth row is meeting 3, which is full")
	assert.Equal(t, int64(30), step(res, "signup", "detail-again").Count(), "skipped after a failed step")
	it := res.Iterations("signup")
	assert.Equal(t, int64(30), it.Outcomes[metrics.OK])
	assert.Equal(t, int64(10), it.Outcomes[metrics.HTTP4xx])
	assert.Equal(t, 40+30, m.details["7"], "the id extracted in step 1 is used in step 2")
	assert.Zero(t, m.mixups, "cookies stay with their VU")
	assert.ElementsMatch(t, []string{"0", "1", "2", "3"}, slices.Collect(maps.Values(m.sessions)), "each VU's header reached the server")
	assert.Len(t, m.sessions, 4, "one session per VU: cookies persist across iterations")
	phases := res.Metrics.SeriesOf(metrics.Key{Scenario: "signup", Step: "list", Kind: KindTTFB})
	require.NotNil(t, phases)
	assert.Equal(t, int64(40), phases.Total.Count())
	conn := res.Metrics.SeriesOf(metrics.Key{Scenario: "signup", Step: "list", Kind: KindConnect}).Total
	assert.Equal(t, int64(40), conn.Count())
	assert.Positive(t, step(res, "signup", "list").BytesReceived)
	assert.Equal(t, int64(40*len(`{"who":"0"}`)), step(res, "signup", "apply").BytesSent)
	// The phases of a failed request are failed latencies, as its step's
	// are; status codes land in the same intervals as their steps.
	ttfb := res.Metrics.SeriesOf(metrics.Key{Scenario: "signup", Step: "apply", Kind: KindTTFB}).Total
	assert.Equal(t, int64(30), ttfb.Latency.Count(), "the 30 applications that succeeded")
	assert.Equal(t, int64(10), ttfb.Failed.Count(), "the 10 that got a 409")
	assert.Equal(t, int64(10), ttfb.Outcomes[metrics.HTTP4xx])
	for _, p := range res.Metrics.SeriesOf(metrics.Key{Scenario: "signup", Step: "apply", Kind: metrics.KindStep}).Points {
		var codes int64
		for _, c := range p.Status {
			codes += c.Count
		}
		assert.Equal(t, p.Count(), codes, "interval at %v: one status code per request", p.Start)
	}
	require.NotEmpty(t, res.Errors)
	assert.Contains(t, res.Errors[0].Message, "status 409")
}

func TestFeederModes(t *testing.T) {
	rows := [][]string{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}}
	collect := func(t *testing.T, mode Mode, onEnd OnEnd, vus, iters int) (map[int][]string, *loadgen.Result) {
		f, err := NewFeeder("f", []string{"v"}, rows, mode, onEnd)
		require.NoError(t, err)
		var mu sync.Mutex
		got := map[int][]string{}
		j := Must("j", Parts{Feed(f), Step("use", func(ctx context.Context, vu *VU) error {
			v, _ := vu.Record.Get("v")
			mu.Lock()
			got[vu.ID] = append(got[vu.ID], v)
			mu.Unlock()
			return nil
		})})
		res := run(t, j.Scenario(loadgen.SharedIterations{VUs: vus, Iterations: iters}))
		return got, res
	}
	t.Run("unique never repeats across VUs, then stops", func(t *testing.T) {
		got, res := collect(t, Unique, Stop, 3, 50)
		seen := map[string]bool{}
		for _, vs := range got {
			for _, v := range vs {
				assert.False(t, seen[v], "row %s handed out twice", v)
				seen[v] = true
			}
		}
		assert.Len(t, seen, 5)
		assert.Equal(t, int64(5), res.Iterations("j").Count(), "the scenario stopped when rows ran out")
	})
	t.Run("sequential wraps", func(t *testing.T) {
		got, _ := collect(t, Sequential, Wrap, 1, 7)
		assert.Equal(t, []string{"a", "b", "c", "d", "e", "a", "b"}, got[0])
	})
	t.Run("per-VU cursors", func(t *testing.T) {
		got, _ := collect(t, PerVU, Wrap, 2, 6)
		for _, vs := range got {
			for i, v := range vs {
				assert.Equal(t, string(rune('a'+i%5)), v)
			}
		}
	})
	t.Run("random covers all rows", func(t *testing.T) {
		got, _ := collect(t, Random, Wrap, 2, 200)
		seen := map[string]int{}
		for _, vs := range got {
			for _, v := range vs {
				seen[v]++
			}
		}
		assert.Len(t, seen, 5)
	})
}

func TestCSVFeederErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	_, err := LoadCSV(filepath.Join(dir, "missing.csv"), Sequential, Wrap)
	assert.ErrorContains(t, err, "no such file")
	_, err = LoadCSV(write("empty.csv", ""), Sequential, Wrap)
	assert.ErrorContains(t, err, "the file is empty")
	_, err = LoadCSV(write("ragged.csv", "user,pass\n\"ann\nlee\",1\nbob\ncy,3,x,y\n"), Sequential, Wrap)
	assert.ErrorContains(t, err, "the record on line 4 has 1 field, but the header has 2")
	assert.ErrorContains(t, err, "the record on line 5 has 4 fields, but the header has 2")
	_, err = LoadCSV(write("many.csv", "a,b\n"+strings.Repeat("1\n", 12)), Sequential, Wrap)
	assert.ErrorContains(t, err, "the record on line 11 has 1 field")
	assert.NotContains(t, err.Error(), "line 12 ")
	assert.ErrorContains(t, err, "and 2 more records with another number of fields than the header")
	_, err = LoadCSV(write("quote.csv", "user\n\"ann\n"), Sequential, Wrap)
	assert.ErrorContains(t, err, "quote")
	_, err = LoadCSV(write("header.csv", "user\n"), Sequential, Wrap)
	assert.ErrorContains(t, err, "needs at least one row")
	f, err := LoadCSV(write("ok.csv", "user,pass\nann,1\nbob,2\n"), Unique, Stop)
	require.NoError(t, err)
	assert.Equal(t, 2, f.Len())
	assert.Equal(t, []string{"user", "pass"}, f.Columns())
	_, err = NewFeeder("x", []string{"a", "a", ""}, [][]string{{"1", "2"}}, Mode(9), OnEnd(4))
	for _, want := range []string{`column "a" appears twice`, "column 2 has an empty name", "row 1 has 2 values, want 3", "mode must be", "onEnd must be Wrap or Stop"} {
		assert.ErrorContains(t, err, want)
	}
}

func TestThinkTimeDistributions(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	const n = 20000
	cases := []struct {
		name       string
		d          Dist
		mean, sd   float64 // expected, in ms
		minV, maxV float64
	}{
		{"constant", Constant(250 * time.Millisecond), 250, 0, 250, 250},
		{"uniform", Uniform(100*time.Millisecond, 300*time.Millisecond), 200, 200 / math.Sqrt(12), 100, 300},
		{"normal", Normal(500*time.Millisecond, 50*time.Millisecond), 500, 50, 0, math.Inf(1)},
		{"exponential", Exponential(200 * time.Millisecond), 200, 200, 0, math.Inf(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sum, sq float64
			for range n {
				v := float64(tc.d.Draw(r)) / 1e6
				require.GreaterOrEqual(t, v, tc.minV)
				require.LessOrEqual(t, v, tc.maxV)
				sum += v
				sq += v * v
			}
			mean := sum / n
			sd := math.Sqrt(sq/n - mean*mean)
			// The standard error of the mean is sd/√n (< 1.5 ms here); allow
			// 4.5 standard errors (a false failure: 7e-6), and 5 % on the
			// spread (its own standard error is under 1 % here). The source
			// is seeded, so the test is repeatable; for any seed, the four
			// distributions fail falsely with probability below 1e-4.
			assert.InDelta(t, tc.mean, mean, 4.5*tc.sd/math.Sqrt(n)+1e-9)
			assert.InDelta(t, tc.sd, sd, 0.05*tc.sd+1e-9)
			assert.Equal(t, time.Duration(tc.mean*1e6), tc.d.Mean())
		})
	}
}

func TestPacingAndThinkTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := Must("paced", Parts{
			Step("a", func(ctx context.Context, vu *VU) error { time.Sleep(100 * time.Millisecond); return nil }),
			Think(Constant(200 * time.Millisecond)),
			Step("b", func(ctx context.Context, vu *VU) error { time.Sleep(100 * time.Millisecond); return nil }),
			Pacing(time.Second),
		})
		res := run(t, j.Scenario(loadgen.ConstantVUs{VUs: 2, Duration: 9500 * time.Millisecond}))
		it := res.Iterations("paced")
		assert.Equal(t, int64(20), it.Count(), "one iteration per second per VU")
		assert.Equal(t, time.Second, it.Latency.Min)
		assert.Equal(t, time.Second, it.Latency.Max)
		assert.Equal(t, 100*time.Millisecond, step(res, "paced", "a").Latency.Max, "think time is not in step latency")
	})
}

func TestMixByWeight(t *testing.T) {
	browse := Must("browse", Parts{Step("list", func(context.Context, *VU) error { return nil })})
	signup := Must("signup", Parts{Step("list", func(context.Context, *VU) error { return nil })})
	res := run(t, Mix("site", loadgen.SharedIterations{VUs: 4, Iterations: 2000}, Weighted{80, browse}, Weighted{20, signup}))
	b, s := step(res, "site", "browse/list").Count(), step(res, "site", "signup/list").Count()
	assert.Equal(t, int64(2000), b+s)
	// Which VU runs which iteration depends on scheduling, so the count
	// varies from run to run: Binomial(2000, 0.2), σ ≈ 18. A band of 4σ
	// fails with probability 6e-5.
	assert.InDelta(t, 400, s, 72)
}

func TestStepPanicIsCounted(t *testing.T) {
	j := Must("p", Parts{Step("boom", func(ctx context.Context, vu *VU) error {
		if vu.Iteration == 1 {
			panic("bad input")
		}
		return nil
	})})
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 3}))
	assert.Equal(t, int64(1), step(res, "p", "boom").Outcomes[metrics.Panic])
	assert.Equal(t, int64(1), res.Iterations("p").Outcomes[metrics.Panic])
	require.Len(t, res.Panics, 1)
	assert.Contains(t, res.Panics[0].Stack, "scenario_test.go")
}

func TestErrorClassification(t *testing.T) {
	refused := refusedURL(t)
	resetLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() { // accept, read the request, then reset the connection
		for {
			c, err := resetLn.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1024)
			_, _ = c.Read(buf)
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	})
	defer func() { resetLn.Close(); wg.Wait() }()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	codes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/404":
			http.NotFound(w, r)
		case "/503":
			http.Error(w, "down", http.StatusServiceUnavailable)
		default:
			fmt.Fprint(w, `{"ok":false}`)
		}
	}))
	defer codes.Close()

	cases := []struct {
		name string
		part Part
		want metrics.Outcome
	}{
		{"refused", GET("s", refused), metrics.Refused},
		{"reset", GET("s", "http://"+resetLn.Addr().String()+"/"), metrics.Reset},
		{"timeout", GET("s", slow.URL, Timeout(50*time.Millisecond)), metrics.Timeout},
		{"404", GET("s", codes.URL+"/404"), metrics.HTTP4xx},
		{"503", GET("s", codes.URL+"/503"), metrics.HTTP5xx},
		{"check", GET("s", codes.URL+"/", JSONEquals("ok", "true")), metrics.CheckFailed},
		{"unexpected 200", GET("s", codes.URL+"/", Expect(201)), metrics.CheckFailed},
		{"missing value", Parts{Provides("nothing"), GET("s", codes.URL+"/{{nothing}}")}, metrics.Other},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := Must("e", Parts{tc.part})
			res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}))
			st := step(res, "e", "s")
			assert.Equal(t, int64(2), st.Outcomes[tc.want], "outcomes: %v", st.Outcomes)
			require.NotEmpty(t, res.Errors)
			assert.Equal(t, tc.want.String(), res.Errors[0].Outcome)
		})
	}
}

func TestBuildErrors(t *testing.T) {
	_, err := New("j", Parts{
		Step("", func(context.Context, *VU) error { return nil }),
		Step("a", nil),
		Step("b", func(context.Context, *VU) error { return nil }),
		Group("g", Step("b", func(context.Context, *VU) error { return nil }), Step("b", func(context.Context, *VU) error { return nil })),
		Think(Uniform(time.Second, time.Millisecond)),
		Think(Uniform(0, math.MaxInt64)),
		Think(nil),
		Pacing(0), Pacing(time.Second),
		Feed(nil),
		GET("h", "http://127.0.0.1/{{unclosed", Timeout(-1), Expect(99)),
		nil,
	})
	require.Error(t, err)
	for _, want := range []string{
		"a step has an empty name", `step "a" has no function`, `step "g/b" appears twice`,
		"Think Uniform(1s, 1ms): need 0 <= lo <= hi <= 24h0m0s", "Think Uniform(0s, 2562047h47m16.854775807s): need 0 <= lo <= hi <= 24h0m0s", "Think needs a distribution", "Pacing must be > 0, got 0s",
		"Pacing is given 2 times", "Feed needs a feeder", `step "h": template "http://127.0.0.1/{{unclosed": unclosed {{`,
		`journey "j": step "h": Timeout must be > 0, got -1ns`, `journey "j": step "h": Expect: status 99 is not in 100..599`, "a part is nil",
	} {
		assert.ErrorContains(t, err, want)
	}
	_, err = New("empty", nil)
	assert.ErrorContains(t, err, "needs at least one step")
	_, err = loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{
		Mix("m", loadgen.ConstantVUs{VUs: 1, Duration: time.Second}, Weighted{0, Must("x", Parts{Step("s", func(context.Context, *VU) error { return nil })})}),
	}})
	assert.ErrorContains(t, err, `mix "m": journey 0 weight must be > 0, got 0`)
	one := Must("x", Parts{Step("s", func(context.Context, *VU) error { return nil })})
	_, err = loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{
		Mix("m", loadgen.ConstantVUs{VUs: 1, Duration: time.Second}, Weighted{math.MaxInt, one}, Weighted{1, one}),
	}})
	assert.ErrorContains(t, err, `mix "m": the weights add up to more than 9223372036854775807`, "not an overflow that panics every iteration")
}

func TestJSONPath(t *testing.T) {
	body := []byte(`{"a":{"b":[{"c":"x"},{"c":2}]},"t":true}`)
	for path, want := range map[string]string{"a.b.0.c": "x", "a.b.1.c": "2", "t": "true", "a.b.1": `{"c":2}`} {
		got, err := jsonPath(body, path)
		require.NoError(t, err, path)
		assert.Equal(t, want, got)
	}
	for path, want := range map[string]string{"a.z": `no "z"`, "a.b.5": "out of range", "t.x": "not inside"} {
		_, err := jsonPath(body, path)
		assert.ErrorContains(t, err, want)
	}
	_, err := jsonPath([]byte("<html>"), "a")
	assert.ErrorContains(t, err, "not JSON")
	var v any
	assert.Error(t, json.Unmarshal([]byte("{"), &v))
}

// TestWireSendsWithoutAllocating: on the own client, a GET with a
// templated URL and header, kept alive, allocates nothing per request
// (the server here answers from a fixed buffer, allocating nothing
// either).
func TestWireSendsWithoutAllocating(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		answer := []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
		for {
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(line) <= 2 {
					break
				}
			}
			if _, err := c.Write(answer); err != nil {
				return
			}
		}
	}()
	j := Must("a", Parts{GET("get", "http://"+ln.Addr().String()+"/items/{{vu.id}}?n={{vu.iteration}}", Header("X-VU", "{{vu.id}}"))})
	s := j.ops[0].step.http
	run := j.client.build(1)
	vu := &VU{ID: 3, jar: newVUJar(), store: map[string]string{}}
	vu.http.init()
	send, _ := run.forVU(vu)
	ctx := context.Background()
	require.NoError(t, send.send(ctx, s, vu, time.Now()))
	allocs := testing.AllocsPerRun(500, func() {
		vu.Iteration++
		if err := send.send(ctx, s, vu, time.Now()); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs, "allocations per request")
	assert.Equal(t, 200, vu.http.status)
	run.close()
	<-served
}

// TestPlanRunsAgain runs one plan three times: a two-journey mix, a
// feeder that stops the scenario when its rows run out, a per-VU feeder,
// per-VU stored values and HTTP connections are all set up afresh for
// every run.
func TestPlanRunsAgain(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	rows := [][]string{{"1"}, {"2"}, {"3"}, {"4"}, {"5"}, {"6"}}
	seq, err := NewFeeder("seq", []string{"n"}, rows, Sequential, Stop)
	require.NoError(t, err)
	per, err := NewFeeder("per", []string{"p"}, [][]string{{"x"}, {"y"}}, PerVU, Wrap)
	require.NoError(t, err)
	var mu sync.Mutex
	var stale []string
	body := func(ctx context.Context, vu *VU) error {
		if vu.Iteration == 0 {
			if v, ok := vu.Get("mark"); ok {
				mu.Lock()
				stale = append(stale, v)
				mu.Unlock()
			}
		}
		vu.Set("mark", "set")
		if p, _ := vu.Record.Get("p"); p != []string{"x", "y"}[vu.Iteration%2] {
			return fmt.Errorf("per-VU row %q at iteration %d", p, vu.Iteration)
		}
		return nil
	}
	a := Must("a", Parts{Feed(seq), Feed(per), Step("mark", body), GET("get", srv.URL+"/")})
	b := Must("b", Parts{Feed(seq), Feed(per), Step("mark", body), GET("get", srv.URL+"/")})
	plan := &loadgen.Plan{Scenarios: []loadgen.Scenario{
		Mix("mix", loadgen.ConstantVUs{VUs: 2, Duration: 10 * time.Second}, Weighted{1, a}, Weighted{1, b}),
	}}
	for i := range 3 {
		before := conns.Load()
		res, err := loadgen.Run(t.Context(), plan)
		require.NoError(t, err, "run %d", i)
		it := res.Iterations("mix")
		assert.Equal(t, int64(6), it.Count(), "run %d: one iteration per row of the sequential feeder", i)
		assert.Zero(t, it.Errors(), "run %d: %v", i, res.Errors)
		assert.Empty(t, res.Panics, "run %d", i)
		assert.Equal(t, int64(6), step(res, "mix", "a/get").Count()+step(res, "mix", "b/get").Count())
		assert.Positive(t, conns.Load()-before, "run %d opens its own connections", i)
	}
	assert.Empty(t, stale, "values stored in one run are not seen in the next")
}

// TestUniqueAcrossSegments runs the three segments of a plan: together they
// use every row of a Unique feeder exactly once.
func TestUniqueAcrossSegments(t *testing.T) {
	var rows [][]string
	for i := range 10 {
		rows = append(rows, []string{fmt.Sprint(i)})
	}
	f, err := NewFeeder("ids", []string{"id"}, rows, Unique, Stop)
	require.NoError(t, err)
	var mu sync.Mutex
	used := map[string]int{}
	j := Must("u", Parts{Feed(f), Step("use", func(ctx context.Context, vu *VU) error {
		id, _ := vu.Record.Get("id")
		mu.Lock()
		used[id]++
		mu.Unlock()
		return nil
	})})
	for seg := range 3 {
		_, err := loadgen.Run(t.Context(), &loadgen.Plan{
			Segment:   loadgen.Segment{Index: seg, Count: 3},
			Scenarios: []loadgen.Scenario{j.Scenario(loadgen.SharedIterations{VUs: 3, Iterations: 30})},
		})
		require.NoError(t, err)
	}
	assert.Len(t, used, 10)
	for id, n := range used {
		assert.Equal(t, 1, n, "row %s", id)
	}
	_, err = NewFeeder("bad", []string{"id"}, rows, Unique, Wrap)
	assert.ErrorContains(t, err, "Unique hands each row out at most once, so onEnd must be Stop")
}

// TestHardStopInterruptsStepAndIteration: a request cut off at the hard
// stop is interrupted in the step's row as in the iteration's, and adds no
// latency to either.
func TestHardStopInterruptsStepAndIteration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := Must("hang", Parts{Step("wait", func(ctx context.Context, vu *VU) error {
			<-ctx.Done() // a target that never answers
			return ctx.Err()
		})})
		sc := j.Scenario(loadgen.ConstantVUs{VUs: 3, Duration: time.Second})
		sc.GracefulStop = 500 * time.Millisecond
		res := run(t, sc)
		st, it := step(res, "hang", "wait"), res.Iterations("hang")
		assert.Equal(t, int64(3), st.Outcomes[metrics.Interrupted])
		assert.Equal(t, int64(3), it.Outcomes[metrics.Interrupted])
		assert.Zero(t, st.Errors())
		assert.Zero(t, st.Latency.Count()+st.Failed.Count(), "no latency from cut-off work")
		assert.Equal(t, 1500*time.Millisecond, res.Duration())
	})
}

func TestStatusCodesAreCounted(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 4 {
		case 0:
			http.Error(w, "down", http.StatusServiceUnavailable)
		case 1:
			http.NotFound(w, r)
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	defer srv.Close()
	j := Must("s", Parts{GET("get", srv.URL+"/")})
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 8}))
	st := step(res, "s", "get")
	assert.Equal(t, metrics.StatusCounts{{Code: 200, Count: 4}, {Code: 404, Count: 2}, {Code: 503, Count: 2}}, st.Status)
	assert.Equal(t, int64(2), st.Outcomes[metrics.HTTP5xx])
	assert.Equal(t, int64(4), st.Failed.Count(), "the latency of failed requests is kept apart")
	assert.Equal(t, int64(4), st.Latency.Count())
}

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite ../testdata/results/v5-http.json (when what the engine records changes)")

const httpFixture = "../testdata/results/v5-http.json"

// TestHTTPFixture runs an HTTP journey against the demo service in memory,
// on a fake clock — every phase, status codes, a step that fails (404), a
// warm-up and an event — and checks that it records exactly the stored
// result that renderers and decoders are tested on (-update-fixtures
// rewrites it). The run is deterministic, so any difference is a change in
// what the engine records.
func TestHTTPFixture(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc, err := demo.Start(demo.Options{Rows: 5000, InMemory: true})
		require.NoError(t, err)
		defer svc.Close()
		j := Must("signup", Parts{
			GET("list", svc.URL+"/meetings", ExtractJSON("items.0.id", "meeting")),
			GET("detail", svc.URL+"/meetings/{{meeting}}"),
			POST("apply", svc.URL+"/meetings/{{meeting}}/apply", `{"name":"vu-{{vu.id}}"}`, Expect(201)),
			Think(Uniform(10*time.Millisecond, 30*time.Millisecond)),
			GET("missing", svc.URL+"/meetings/999999", Expect(200)),
		}, WithClient(Client{Dial: svc.Dial}))
		res, err := loadgen.Run(t.Context(), &loadgen.Plan{Name: "http fixture", Warmup: time.Second,
			Scenarios: []loadgen.Scenario{j.Scenario(loadgen.ConstantVUs{VUs: 4, Duration: 3 * time.Second})},
			Events:    []loadgen.Event{loadgen.At(1500*time.Millisecond, "marker", nil)},
		})
		require.NoError(t, err)
		var got bytes.Buffer
		require.NoError(t, res.WriteJSON(&got))
		if *updateFixtures {
			require.NoError(t, os.WriteFile(httpFixture, got.Bytes(), 0o644))
			return
		}
		want, err := os.ReadFile(httpFixture)
		require.NoError(t, err)
		if !bytes.Equal(want, got.Bytes()) {
			_ = os.WriteFile(httpFixture+".got", got.Bytes(), 0o644)
			t.Errorf("the run records differently from %s: see %s.got; rerun with -update-fixtures to accept (and -update in ../report for the golden files made from it)", httpFixture, httpFixture)
		}
	})
}

// TestGoexitInAStepFailsIt: runtime.Goexit in a Go step (t.FailNow) is a
// failed step, not a success, as it is a failed iteration.
func TestGoexitInAStepFailsIt(t *testing.T) {
	j := Must("g", Parts{Step("boom", func(context.Context, *VU) error { runtime.Goexit(); return nil })})
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}))
	st := step(res, "g", "boom")
	assert.Equal(t, int64(2), st.Outcomes[metrics.Other])
	assert.Zero(t, st.Outcomes[metrics.OK])
	assert.Zero(t, st.Latency.Count(), "no latency of a success")
}

// TestAFailedStepKeepsThePauses: a service that refuses every request
// gets the load the model offers, not a VU's full speed. 10 VUs of a
// journey whose step fails after 1 ms, then thinks 1 s, for 10 s: about
// 100 iterations (the old behaviour, skipping the think, made 10 000);
// the step after the failed one is skipped, the think time is not. With
// pacing instead of think time, a failed iteration is paced too.
func TestAFailedStepKeepsThePauses(t *testing.T) {
	fail := Step("pay", func(context.Context, *VU) error {
		time.Sleep(time.Millisecond)
		return errors.New("connection refused")
	})
	var after atomic.Int64
	next := Step("receipt", func(context.Context, *VU) error { after.Add(1); return nil })
	synctest.Test(t, func(t *testing.T) {
		j := Must("shop", Parts{fail, Think(Constant(time.Second)), next, Think(Constant(time.Second))})
		res := run(t, j.Scenario(loadgen.ConstantVUs{VUs: 10, Duration: 10 * time.Second}))
		it := res.Iterations("shop")
		assert.Equal(t, int64(50), it.Count(), "10 VUs × 10 s / (1 ms + 2 s of thinking), the last ones cut at 10 s")
		assert.Equal(t, it.Count(), it.Errors())
		assert.Zero(t, after.Load(), "the step after the failed one is skipped")
		assert.GreaterOrEqual(t, it.Latency.Count()+it.Failed.Count(), it.Count())
		assert.Equal(t, 2001*time.Millisecond, it.Failed.Quantile(0.5), "the failed iteration took its think times")

		paced := Must("paced", Parts{fail, Pacing(2 * time.Second)})
		res = run(t, paced.Scenario(loadgen.ConstantVUs{VUs: 10, Duration: 10 * time.Second}))
		assert.Equal(t, int64(50), res.Iterations("paced").Count(), "10 VUs × 10 s / 2 s of pacing")
	})
}

// TestPausesRecordHowLateTheyWoke: every think time and pacing records how
// late the VU woke from it, under the generator's think lag (on the fake
// clock, never late); a journey that does not pause records none.
func TestPausesRecordHowLateTheyWoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		work := func(name string) Part {
			return Step(name, func(context.Context, *VU) error { time.Sleep(10 * time.Millisecond); return nil })
		}
		j := Must("paused", Parts{work("a"), Think(Constant(time.Second)), work("b"), Pacing(3 * time.Second)})
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 3}))
		lag := res.Metrics.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindThinkLag})
		require.NotNil(t, lag)
		assert.Equal(t, int64(12), lag.Total.Latency.Count(), "2 VUs × 3 iterations × (a think time and the pacing)")
		assert.Zero(t, lag.Total.Latency.Max, "the fake clock wakes every VU on time")
		assert.Equal(t, 9*time.Second, res.Duration(), "3 paced iterations")

		plain := Must("plain", Parts{work("a")})
		res = run(t, plain.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
		assert.Nil(t, res.Metrics.SeriesOf(metrics.Key{Scenario: metrics.Generator, Kind: metrics.KindThinkLag}), "no pauses, no series")
	})
}
