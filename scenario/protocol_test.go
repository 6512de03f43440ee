package scenario

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// echoProto is a protocol step for the tests: a "call" that takes 10 ms, a
// "stream" of three messages 2 ms apart, a status code of its own, bytes,
// a connection per VU kept in VU.Local and closed when the run ends.
type echoProto struct {
	info   StepInfo
	open   func(r *Run) error
	call   func(ctx context.Context, vu *VU, c *Call) error
	opened *int
}

func (p *echoProto) Describe() StepInfo { return p.info }

func (p *echoProto) Open(ctx context.Context, r *Run) (Caller, error) {
	if p.opened != nil {
		*p.opened++
	}
	if p.open != nil {
		if err := p.open(r); err != nil {
			return nil, err
		}
	}
	return CallerFunc(p.call), nil
}

const (
	kindEcho    metrics.Kind = "echo"
	kindEchoMsg metrics.Kind = "echo_msg"
	kindEchoTx  metrics.Kind = "echo_sent"
)

func TestProtocolStepRecordsWhatItMeasures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		closed := 0
		conns := 0
		type connKey struct{}
		p := &echoProto{info: StepInfo{Kinds: []metrics.Kind{kindEcho, kindEchoMsg, kindEchoTx}, Uses: []string{"user"}, Stores: []string{"token"}}}
		p.open = func(r *Run) error {
			assert.Equal(t, "echo", r.Scenario)
			assert.Equal(t, "call", r.Step)
			assert.Equal(t, 2, r.MaxVUs)
			r.OnClose(func() { closed++ })
			return nil
		}
		user, err := ParseText("metadata user", "u-{{user}}-{{vu.id}}")
		require.NoError(t, err)
		p.call = func(ctx context.Context, vu *VU, c *Call) error {
			if vu.Local(connKey{}) == nil {
				mu.Lock()
				conns++
				mu.Unlock()
				vu.SetLocal(connKey{}, true)
			}
			who, err := user.Fill(vu)
			if err != nil {
				return err
			}
			vu.Set("token", who)
			c.Phase(kindEcho, 3*time.Millisecond)
			for range 3 {
				sent := time.Now()
				c.Count(kindEchoTx, sent, metrics.OK, 1)
				time.Sleep(2 * time.Millisecond)
				c.Record(kindEchoMsg, time.Now(), time.Since(sent), metrics.OK)
			}
			time.Sleep(4 * time.Millisecond)
			c.AddBytes(5, 7)
			c.AddBytes(1, 1)
			if vu.Iteration == 2 {
				c.Status(kindEcho, 5) // NOT_FOUND, say
				return metrics.WithOutcome(errors.New("no such user"), metrics.Rejected)
			}
			c.Status(kindEcho, 0)
			assert.Equal(t, time.Now().Add(-10*time.Millisecond), c.Start(), "the step's start is its latency's origin")
			return nil
		}
		f, err := NewFeeder("users", []string{"user"}, [][]string{{"ann"}}, Sequential, Wrap)
		require.NoError(t, err)
		var tokens []string
		j, err := New("echo", Parts{
			Feed(f),
			ProtocolStep("call", p),
			Step("after", func(ctx context.Context, vu *VU) error {
				tok, _ := vu.Get("token")
				mu.Lock()
				tokens = append(tokens, tok)
				mu.Unlock()
				return nil
			}),
		})
		require.NoError(t, err)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 3}))

		st := step(res, "echo", "call")
		assert.Equal(t, int64(4), st.Outcomes[metrics.OK])
		assert.Equal(t, int64(2), st.Outcomes[metrics.Rejected], "the class the call's error carries")
		assert.Equal(t, 10*time.Millisecond, st.Latency.Max)
		assert.Equal(t, 10*time.Millisecond, st.Failed.Min)
		assert.Equal(t, int64(6*6), st.BytesSent)
		assert.Equal(t, int64(6*8), st.BytesReceived)
		assert.Empty(t, st.Status, "the protocol's codes are not HTTP's")

		kind := func(k metrics.Kind) metrics.Stats {
			s := res.Metrics.SeriesOf(metrics.Key{Scenario: "echo", Step: "call", Kind: k})
			require.NotNil(t, s, k)
			return s.Total
		}
		e := kind(kindEcho)
		assert.Equal(t, metrics.StatusCounts{{Code: 0, Count: 4}, {Code: 5, Count: 2}}, e.Status)
		assert.Equal(t, int64(4), e.Outcomes[metrics.OK], "phases carry the step's outcome")
		assert.Equal(t, int64(2), e.Outcomes[metrics.Rejected])
		assert.Equal(t, 3*time.Millisecond, e.Latency.Min)
		m := kind(kindEchoMsg)
		assert.Equal(t, int64(18), m.Outcomes[metrics.OK])
		assert.Equal(t, 2*time.Millisecond, m.Latency.Min)
		assert.Equal(t, 2*time.Millisecond, m.Latency.Max)
		assert.Equal(t, int64(18), kind(kindEchoTx).Outcomes[metrics.OK])

		assert.Equal(t, 2, conns, "a VU's local state lasts across its iterations")
		assert.Equal(t, 1, closed, "closed once, when the run ended")
		assert.Len(t, tokens, 4)
		assert.Contains(t, tokens, "u-ann-0")
		assert.Contains(t, tokens, "u-ann-1")
	})
}

// A step that records under a kind it did not declare is a bug in the
// protocol's code: the step panics, is counted as a panic, and says which
// kind; the run goes on.
func TestProtocolStepUndeclaredKindPanics(t *testing.T) {
	p := &echoProto{info: StepInfo{Kinds: []metrics.Kind{kindEcho}}}
	p.call = func(ctx context.Context, vu *VU, c *Call) error {
		c.Record("elsewhere", time.Now(), time.Millisecond, metrics.OK)
		return nil
	}
	j := Must("p", Parts{ProtocolStep("call", p)})
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}))
	assert.Equal(t, int64(2), step(res, "p", "call").Outcomes[metrics.Panic])
	require.Len(t, res.Panics, 1, "one panic, counted twice")
	assert.Contains(t, fmt.Sprint(res.Panics[0].Value), `step "call" records kind "elsewhere", which its StepInfo.Kinds does not list`)
}

// The run's hard stop cuts a call off: the step is interrupted, with no
// latency and no phases, but the status the call saw is still counted.
func TestProtocolStepInterrupted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &echoProto{info: StepInfo{Kinds: []metrics.Kind{kindEcho}}}
		p.call = func(ctx context.Context, vu *VU, c *Call) error {
			c.Phase(kindEcho, time.Millisecond)
			c.Status(kindEcho, 1)
			<-ctx.Done()
			return ctx.Err()
		}
		j := Must("p", Parts{ProtocolStep("call", p)})
		res := run(t, loadgen.Scenario{Name: "p", Executor: loadgen.ConstantVUs{VUs: 1, Duration: time.Second}, GracefulStop: time.Second,
			Setup: j.Scenario(nil).Setup})
		assert.Equal(t, int64(1), step(res, "p", "call").Outcomes[metrics.Interrupted])
		e := res.Metrics.SeriesOf(metrics.Key{Scenario: "p", Step: "call", Kind: kindEcho}).Total
		assert.Equal(t, int64(0), e.Count(), "no phase of an interrupted call")
		assert.Equal(t, metrics.StatusCounts{{Code: 1, Count: 1}}, e.Status)
	})
}

// Steps of one service share what Run.Shared opened, once a run; what was
// opened is closed when the run ends, in reverse order, and again for the
// next run, which opens afresh. A step that fails to open stops the run
// before any load and closes what the steps before it opened.
func TestProtocolStepsShareAndClose(t *testing.T) {
	var log []string
	opens := 0
	type poolKey struct{}
	shared := func(name string) *echoProto {
		p := &echoProto{info: StepInfo{Kinds: []metrics.Kind{kindEcho}}}
		p.open = func(r *Run) error {
			v, err := r.Shared(poolKey{}, func() (any, error) {
				opens++
				log = append(log, "open pool")
				r.OnClose(func() { log = append(log, "close pool") })
				return "pool", nil
			})
			if err != nil {
				return err
			}
			assert.Equal(t, "pool", v)
			r.OnClose(func() { log = append(log, "close "+name) })
			return nil
		}
		p.call = func(ctx context.Context, vu *VU, c *Call) error { return nil }
		return p
	}
	j := Must("svc", Parts{ProtocolStep("a", shared("a")), ProtocolStep("b", shared("b"))})
	plan := &loadgen.Plan{Scenarios: []loadgen.Scenario{j.Scenario(loadgen.SharedIterations{VUs: 1, Iterations: 1})}}
	for range 2 {
		_, err := loadgen.Run(t.Context(), plan)
		require.NoError(t, err)
	}
	assert.Equal(t, 2, opens, "once a run")
	assert.Equal(t, []string{"open pool", "close b", "close a", "close pool", "open pool", "close b", "close a", "close pool"}, log)

	log = nil
	broken := &echoProto{info: StepInfo{Kinds: []metrics.Kind{kindEcho}}, open: func(r *Run) error { return errors.New("no route to the service") }}
	j = Must("svc", Parts{ProtocolStep("a", shared("a")), ProtocolStep("c", broken)})
	_, err := loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{j.Scenario(loadgen.SharedIterations{VUs: 1, Iterations: 1})}})
	require.ErrorContains(t, err, `scenario "svc": step "c": no route to the service`)
	assert.Equal(t, []string{"open pool", "close a", "close pool"}, log)

	j = Must("svc", Parts{ProtocolStep("n", nilCallerProto{})})
	_, err = loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{j.Scenario(loadgen.SharedIterations{VUs: 1, Iterations: 1})}})
	require.ErrorContains(t, err, `step "n": Open returned no Caller`)
}

// TestProtocolGauge: a gauge a protocol step adds when it opens is sampled
// once per interval under the scenario's name, once per name in a run.
func TestProtocolGauge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var held atomic.Int64
		type key struct{}
		p := &echoProto{info: StepInfo{Kinds: []metrics.Kind{kindEcho}}}
		p.open = func(r *Run) error {
			_, err := r.Shared(key{}, func() (any, error) {
				return nil, r.Gauge("held", func() float64 { return float64(held.Load()) })
			})
			return err
		}
		p.call = func(ctx context.Context, vu *VU, c *Call) error {
			held.Add(1)
			time.Sleep(1500 * time.Millisecond)
			return nil
		}
		j := Must("svc", Parts{ProtocolStep("a", p), ProtocolStep("b", p)})
		res, err := loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 1})}})
		require.NoError(t, err)
		g := res.Metrics.Gauge("svc.held")
		require.NotNil(t, g)
		// Two VUs' steps at 0 s, then at 1.5 s: sampled at 1 s and 2 s.
		assert.Equal(t, []float64{2, 4}, []float64{g.Points[0].Mean(), g.Points[1].Mean()})

		p.open = func(r *Run) error { return r.Gauge("held", func() float64 { return 0 }) }
		_, err = loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1})}})
		assert.ErrorContains(t, err, `step "b": the gauge "svc.held" is added twice in the run`)
	})
}

type nilCallerProto struct{}

func (nilCallerProto) Describe() StepInfo                               { return StepInfo{} }
func (nilCallerProto) Open(ctx context.Context, r *Run) (Caller, error) { return nil, nil }

func TestProtocolStepBuildErrors(t *testing.T) {
	ok := func(ctx context.Context, vu *VU, c *Call) error { return nil }
	p := func(info StepInfo) Part { return ProtocolStep("call", &echoProto{info: info, call: ok}) }
	for _, c := range []struct {
		name  string
		parts Parts
		want  []string
	}{
		{"nil protocol", Parts{ProtocolStep("call", nil)}, []string{`step "call": ProtocolStep needs a protocol, got nil`}},
		{"its own error", Parts{p(StepInfo{Err: errors.New("method must be /Service/Method")})}, []string{`step "call": method must be /Service/Method`}},
		{"bad kinds", Parts{p(StepInfo{Kinds: []metrics.Kind{"", "x", "x", metrics.KindStep, KindTTFB, "http_queue"}})}, []string{
			`kind 0 is empty`, `kind "x" is given twice`, `kind "step" is one the engine or the HTTP steps record`, `kind "http_ttfb" is one the engine`, `kind "http_queue" is one the engine`}},
		{"bad names", Parts{p(StepInfo{Uses: []string{"a b"}, Stores: []string{""}})}, []string{
			`Uses: value 0 is "a b"`, `Stores: value 0 is ""`}},
		{"a value nothing provides", Parts{p(StepInfo{Uses: []string{"order"}})}, []string{
			`step "call" uses the value "order", which is provided by nothing before it`}},
		{"a value stored later", Parts{p(StepInfo{Uses: []string{"order"}}), Step("s", func(context.Context, *VU) error { return nil }), Provides("order")}, []string{
			`step "call" uses the value "order", which is provided only after this step, by a Provides`}},
		{"a value stored by a later protocol step", Parts{p(StepInfo{Uses: []string{"order"}}), ProtocolStep("place", &echoProto{info: StepInfo{Stores: []string{"order"}}, call: ok})}, []string{
			`step "call" uses the value "order", which is provided only after this step, by step "place"`}},
		{"an HTTP placeholder a protocol step stores later", Parts{GET("get", "http://127.0.0.1/{{order}}"), ProtocolStep("place", &echoProto{info: StepInfo{Stores: []string{"order"}}, call: ok})}, []string{
			`is provided only after this step, by step "place"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New("j", c.parts)
			require.Error(t, err)
			for _, w := range c.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
	// What a protocol step stores and what is built in are available.
	_, err := New("j", Parts{
		ProtocolStep("place", &echoProto{info: StepInfo{Stores: []string{"order"}}, call: ok}),
		GET("get", "http://127.0.0.1/{{order}}"),
		p(StepInfo{Uses: []string{"order", "vu.id"}}),
	})
	assert.NoError(t, err)
}

func TestTemplates(t *testing.T) {
	vu := &VU{ID: 3, Iteration: 4, store: map[string]string{"name": `a"b`, "n": "12"}}
	tx, err := ParseText("metadata x-user", "{{name}}/{{vu.id}}/{{vu.iteration}}/{{name}}")
	require.NoError(t, err)
	assert.Equal(t, []string{"name"}, tx.Uses())
	assert.Equal(t, "{{name}}/{{vu.id}}/{{vu.iteration}}/{{name}}", tx.String())
	s, err := tx.Fill(vu)
	require.NoError(t, err)
	assert.Equal(t, `a"b/3/4/a"b`, s)

	js, err := ParseJSON("request", `{"name": "{{name}}", "n": {{n}}}`)
	require.NoError(t, err)
	assert.Equal(t, []string{"name", "n"}, js.Uses())
	b, err := js.AppendFill([]byte("> "), vu)
	require.NoError(t, err)
	assert.Equal(t, `> {"name": "a\"b", "n": 12}`, string(b))

	vu.store["n"] = "twelve"
	_, err = js.Fill(vu)
	assert.ErrorContains(t, err, "{{n}} in the request")
	vu.store["name"] = "a\nb"
	_, err = tx.Fill(vu)
	assert.ErrorContains(t, err, "{{name}} in the metadata x-user")
	delete(vu.store, "name")
	_, err = tx.Fill(vu)
	assert.ErrorContains(t, err, "no value for {{name}} in the metadata x-user")

	_, err = ParseText("metadata x-user", "a\nb")
	assert.ErrorContains(t, err, `metadata x-user: the text "a\nb" holds a control character`)
	_, err = ParseText("metadata x-user", "{{oops")
	assert.Error(t, err)
	_, err = ParseJSON("request", `{"a": {{x}}`)
	assert.Error(t, err)
}
