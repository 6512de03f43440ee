package stampedegrpc_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"

	stampedegrpc "github.com/stampede-go/stampede/grpc"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// as decodes a dynamic message into a generated one.
func as[T any, P interface {
	*T
	proto.Message
}](t *testing.T, m proto.Message) P {
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	p := P(new(T))
	require.NoError(t, proto.Unmarshal(b, p))
	return p
}

// A method called by name with a JSON request, its messages described by
// the service's reflection: the request filled for each VU, the response
// checked, exactly as a call on the stubs.
func TestDynamicUnary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := serve(t, &testServer{delay: 3 * time.Millisecond}, 0)
		sizes, err := scenario.NewFeeder("sizes", []string{"size"}, [][]string{{"10"}, {"20"}}, scenario.Sequential, scenario.Wrap)
		require.NoError(t, err)
		var got []int
		j, err := scenario.New("dyn", scenario.Parts{
			scenario.Feed(sizes),
			stampedegrpc.Dynamic("call", client, "grpc.testing.TestService/UnaryCall", `{"responseSize": {{size}}, "fillUsername": true}`,
				stampedegrpc.Check(func(vu *scenario.VU, m proto.Message) error {
					r := as[testgrpc.SimpleResponse](t, m)
					got = append(got, len(r.GetPayload().GetBody()))
					return nil
				})),
		})
		require.NoError(t, err)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 4}))
		st := stats(t, res, "dyn", "call", metrics.KindStep)
		assert.Equal(t, int64(4), st.Outcomes[metrics.OK], res.Errors)
		assert.Equal(t, 3*time.Millisecond, st.Latency.Max)
		assert.Equal(t, []int{10, 20, 10, 20}, got)
		assert.Equal(t, metrics.StatusCounts{{Code: 0, Count: 4}}, stats(t, res, "dyn", "call", stampedegrpc.KindStatus).Status)
		assert.Greater(t, st.BytesReceived, int64(60))
	})
}

// A server-streaming method called by name: each message timed as the
// server spaces them.
func TestDynamicServerStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := serve(t, &testServer{}, 0)
		j, err := scenario.New("dyn", scenario.Parts{
			stampedegrpc.Dynamic("watch", client, "grpc.testing.TestService/StreamingOutputCall",
				`{"responseParameters": [{"size": 1, "intervalUs": 4000}, {"size": 1, "intervalUs": 6000}]}`),
		})
		require.NoError(t, err)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}))
		assert.Equal(t, int64(2), stats(t, res, "dyn", "watch", metrics.KindStep).Outcomes[metrics.OK], res.Errors)
		m := stats(t, res, "dyn", "watch", stampedegrpc.KindMessage)
		assert.Equal(t, int64(4), m.Count())
		assert.Equal(t, 4*time.Millisecond, m.Latency.Min)
		assert.Equal(t, 6*time.Millisecond, m.Latency.Max)
	})
}

// What stops a dynamic step: a method the service lacks, a service its
// reflection does not know, a service without reflection, a method that
// streams requests (before any load); a request that is not the
// message's JSON (the call, as other).
func TestDynamicErrors(t *testing.T) {
	for _, tc := range []struct {
		name, method, request string
		noReflection          bool
		want                  string
	}{
		{"no such method", "grpc.testing.TestService/Nope", `{}`, false, "service grpc.testing.TestService has no method Nope (it has EmptyCall, UnaryCall"},
		{"no such service", "grpc.testing.Nope/Call", `{}`, false, "service grpc.testing.Nope: its reflection does not know it"},
		{"no reflection", "grpc.testing.TestService/EmptyCall", `{}`, true, "is grpc's reflection service registered"},
		{"streams requests", "grpc.testing.TestService/FullDuplexCall", `{}`, false, "streams requests: call it on the service's generated stubs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client := serve(t, &testServer{noReflection: tc.noReflection}, 0)
				j, err := scenario.New("dyn", scenario.Parts{stampedegrpc.Dynamic("call", client, tc.method, tc.request)})
				require.NoError(t, err)
				_, err = loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1})}})
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
			})
		})
	}
	t.Run("bad request", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			client := serve(t, &testServer{}, 0)
			j, err := scenario.New("dyn", scenario.Parts{stampedegrpc.Dynamic("call", client, "grpc.testing.TestService/UnaryCall", `{"responseSise": 1}`)})
			require.NoError(t, err)
			res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))
			assert.Equal(t, int64(1), stats(t, res, "dyn", "call", metrics.KindStep).Outcomes[metrics.Other])
			require.NotEmpty(t, res.Errors)
			assert.Contains(t, res.Errors[0].Message, "grpc.testing.SimpleRequest")
			assert.Contains(t, res.Errors[0].Message, "responseSise")
		})
	})
	for in, want := range map[string]string{
		"TestService/":                 "want package.Service/Method",
		"grpc.testing.TestService":     "want package.Service/Method",
		"a/b/c":                        "want package.Service/Method",
		"grpc.testing.TestService/Get": "", // well-formed
	} {
		_, err := scenario.New("dyn", scenario.Parts{stampedegrpc.Dynamic("call", &stampedegrpc.Client{Target: "x:1"}, in, `{"a": {{missing}}}`)})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "missing", "the request's placeholders are checked")
		if want != "" {
			assert.Contains(t, err.Error(), want, in)
		} else {
			assert.NotContains(t, err.Error(), "want package.Service/Method", in)
		}
	}
}
