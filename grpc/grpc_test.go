package stampedegrpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/test/bufconn"

	stampedegrpc "github.com/stampede-go/stampede/grpc"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// A unary call on the generated stub: its request built for each VU, its
// metadata a template, its response checked and a value extracted from
// it; the call's exact latency, status code, phases and bytes recorded
// under the step.
func TestUnary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &testServer{delay: 10 * time.Millisecond}
		client := serve(t, srv, 0)
		client.Headers = true
		feeder, err := scenario.NewFeeder("users", []string{"user"}, [][]string{{"ann"}}, scenario.Sequential, scenario.Wrap)
		require.NoError(t, err)
		var names []string
		j, err := scenario.New("orders", scenario.Parts{
			scenario.Feed(feeder),
			stampedegrpc.Unary("call", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.UnaryCall,
				func(vu *scenario.VU) (*testgrpc.SimpleRequest, error) {
					return &testgrpc.SimpleRequest{ResponseSize: 100, FillUsername: true}, nil
				},
				stampedegrpc.Metadata("x-user", "{{user}}-{{vu.id}}"),
				stampedegrpc.Check(func(vu *scenario.VU, r *testgrpc.SimpleResponse) error {
					if len(r.GetPayload().GetBody()) != 100 {
						return fmt.Errorf("payload of %d bytes", len(r.GetPayload().GetBody()))
					}
					return nil
				}),
				stampedegrpc.Extract("size", func(r *testgrpc.SimpleResponse) (string, error) {
					return fmt.Sprint(len(r.GetPayload().GetBody())), nil
				})),
			scenario.Step("after", func(ctx context.Context, vu *scenario.VU) error {
				v, _ := vu.Get("size")
				srv.mu.Lock()
				names = append(names, v)
				srv.mu.Unlock()
				return nil
			}),
		})
		require.NoError(t, err)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 3}))

		st := stats(t, res, "orders", "call", metrics.KindStep)
		assert.Equal(t, int64(6), st.Outcomes[metrics.OK])
		assert.Equal(t, 10*time.Millisecond, st.Latency.Min)
		assert.Equal(t, 10*time.Millisecond, st.Latency.Max)
		assert.Greater(t, st.BytesSent, int64(0))
		assert.Greater(t, st.BytesReceived, int64(6*100), "the payloads and their framing")

		assert.Equal(t, metrics.StatusCounts{{Code: 0, Count: 6}}, stats(t, res, "orders", "call", stampedegrpc.KindStatus).Status)
		h := stats(t, res, "orders", "call", stampedegrpc.KindHeaders)
		assert.Equal(t, int64(6), h.Count())
		assert.Equal(t, 10*time.Millisecond, h.Latency.Max, "the headers come with the response")
		assert.Equal(t, int64(2), stats(t, res, "orders", "call", stampedegrpc.KindConnect).Count(), "the first call of each VU")

		assert.ElementsMatch(t, []string{"ann-0", "ann-0", "ann-0", "ann-1", "ann-1", "ann-1"}, srv.users)
		assert.Equal(t, []string{"100", "100", "100", "100", "100", "100"}, names)
		assert.Equal(t, 2, srv.conns, "a connection per VU by default")
	})
}

// Each status code counts under its name and fails the step in the class
// OutcomeOf gives it, unless the step expects it; the step's own deadline
// is a timeout; a failed check is a failed check, its status OK counted.
func TestUnaryStatusClasses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := serve(t, &testServer{delay: 10 * time.Millisecond}, 0)
		answers := []codes.Code{codes.OK, codes.Unavailable, codes.NotFound, codes.Internal, codes.PermissionDenied, codes.Unknown}
		call := func(name string, opts ...stampedegrpc.Option) scenario.Part {
			return stampedegrpc.Unary(name, client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.UnaryCall,
				func(vu *scenario.VU) (*testgrpc.SimpleRequest, error) {
					c := answers[vu.Iteration%int64(len(answers))]
					return &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{Code: int32(c), Message: "asked for"}}, nil
				}, opts...)
		}
		j, err := scenario.New("codes", scenario.Parts{
			call("plain"),
		})
		require.NoError(t, err)
		lenient, err := scenario.New("lenient", scenario.Parts{call("lookup", stampedegrpc.Expect(codes.OK, codes.NotFound))})
		require.NoError(t, err)
		late, err := scenario.New("late", scenario.Parts{call("slow", stampedegrpc.Timeout(4*time.Millisecond))})
		require.NoError(t, err)
		picky, err := scenario.New("picky", scenario.Parts{
			stampedegrpc.Unary("call", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.UnaryCall,
				func(vu *scenario.VU) (*testgrpc.SimpleRequest, error) { return &testgrpc.SimpleRequest{}, nil },
				stampedegrpc.Check(func(*scenario.VU, *testgrpc.SimpleResponse) error { return errors.New("not what I wanted") })),
		})
		require.NoError(t, err)
		res := run(t,
			j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 6}),
			lenient.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 6}),
			late.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}),
			picky.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}))

		st := stats(t, res, "codes", "plain", metrics.KindStep)
		assert.Equal(t, int64(1), st.Outcomes[metrics.OK])
		assert.Equal(t, int64(1), st.Outcomes[metrics.Refused], "UNAVAILABLE")
		assert.Equal(t, int64(2), st.Outcomes[metrics.Rejected], "NOT_FOUND and PERMISSION_DENIED")
		assert.Equal(t, int64(2), st.Outcomes[metrics.ServerError], "INTERNAL and UNKNOWN")
		assert.Equal(t, metrics.StatusCounts{{Code: 0, Count: 1}, {Code: 2, Count: 1}, {Code: 5, Count: 1}, {Code: 7, Count: 1}, {Code: 13, Count: 1}, {Code: 14, Count: 1}},
			stats(t, res, "codes", "plain", stampedegrpc.KindStatus).Status)
		for _, e := range res.Errors {
			if e.Scenario == "codes" && e.Outcome == metrics.Refused.String() {
				assert.Contains(t, e.Message, "status UNAVAILABLE: asked for")
			}
		}

		st = stats(t, res, "lenient", "lookup", metrics.KindStep)
		assert.Equal(t, int64(2), st.Outcomes[metrics.OK], "OK and the NOT_FOUND it expects")

		st = stats(t, res, "late", "slow", metrics.KindStep)
		assert.Equal(t, int64(2), st.Outcomes[metrics.Timeout])
		assert.Equal(t, 4*time.Millisecond, st.Failed.Max, "the step's deadline")
		assert.Equal(t, metrics.StatusCounts{{Code: int(codes.DeadlineExceeded), Count: 2}}, stats(t, res, "late", "slow", stampedegrpc.KindStatus).Status)

		st = stats(t, res, "picky", "call", metrics.KindStep)
		assert.Equal(t, int64(2), st.Outcomes[metrics.CheckFailed])
		assert.Equal(t, metrics.StatusCounts{{Code: 0, Count: 2}}, stats(t, res, "picky", "call", stampedegrpc.KindStatus).Status)
	})
}

// A service that does not answer by the step's deadline is cut off then,
// as a timeout with the status DEADLINE_EXCEEDED, and the VU's next call
// goes out as usual. The VU's watchdog, set for an earlier call's
// deadline, waits on for a later one's: the fifth call, begun 6 ms after
// the fourth, is cut off exactly 10 ms after its own start.
func TestDeadlineOfAStuckService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := serve(t, &testServer{}, 0)
		var rows [][]string
		for _, d := range []string{"50ms", "0s", "0s", "6ms", "50ms", "0s"} {
			rows = append(rows, []string{d})
		}
		stalls, err := scenario.NewFeeder("stalls", []string{"stall"}, rows, scenario.Sequential, scenario.Stop)
		require.NoError(t, err)
		j, err := scenario.New("stuck", scenario.Parts{
			scenario.Feed(stalls),
			stampedegrpc.Unary("call", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.EmptyCall,
				func(*scenario.VU) (*testgrpc.Empty, error) { return &testgrpc.Empty{}, nil },
				stampedegrpc.Metadata("x-stall", "{{stall}}"),
				stampedegrpc.Timeout(10*time.Millisecond)),
		})
		require.NoError(t, err)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 6}))
		st := stats(t, res, "stuck", "call", metrics.KindStep)
		assert.Equal(t, int64(2), st.Outcomes[metrics.Timeout], res.Errors)
		assert.Equal(t, int64(4), st.Outcomes[metrics.OK], "after a call cut off, the next goes out")
		assert.Equal(t, 10*time.Millisecond, st.Failed.Min)
		assert.Equal(t, 10*time.Millisecond, st.Failed.Max)
		assert.Equal(t, 6*time.Millisecond, st.Latency.Max)
		assert.Equal(t, metrics.StatusCounts{{Code: int(codes.OK), Count: 4}, {Code: int(codes.DeadlineExceeded), Count: 2}},
			stats(t, res, "stuck", "call", stampedegrpc.KindStatus).Status)
		assert.Contains(t, res.Errors[0].Message, "status DEADLINE_EXCEEDED")
		time.Sleep(time.Second) // the service's handlers end, as they would not on their own
	})
}

// A server stream's messages are timed one by one, as the server spaces
// them: the first from the request, each other from the message before.
func TestServerStreamPerMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := serve(t, &testServer{}, 0)
		gaps := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}
		var seen int
		j, err := scenario.New("feed", scenario.Parts{
			stampedegrpc.ServerStream("watch", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.StreamingOutputCall,
				func(vu *scenario.VU) (*testgrpc.StreamingOutputCallRequest, error) {
					r := &testgrpc.StreamingOutputCallRequest{}
					for i, g := range gaps {
						r.ResponseParameters = append(r.ResponseParameters, &testgrpc.ResponseParameters{Size: int32(i + 1), IntervalUs: int32(g / time.Microsecond)})
					}
					return r, nil
				},
				stampedegrpc.Check(func(vu *scenario.VU, m *testgrpc.StreamingOutputCallResponse) error {
					seen++
					return nil
				}),
				stampedegrpc.Extract("last", func(m *testgrpc.StreamingOutputCallResponse) (string, error) {
					return fmt.Sprint(len(m.GetPayload().GetBody())), nil
				})),
			scenario.Step("after", func(ctx context.Context, vu *scenario.VU) error {
				if v, _ := vu.Get("last"); v != "3" {
					return fmt.Errorf("last = %q", v)
				}
				return nil
			}),
		})
		require.NoError(t, err)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}))

		st := stats(t, res, "feed", "watch", metrics.KindStep)
		assert.Equal(t, int64(2), st.Outcomes[metrics.OK])
		assert.Equal(t, 35*time.Millisecond, st.Latency.Max)
		assert.Equal(t, int64(2), stats(t, res, "feed", "after", metrics.KindStep).Outcomes[metrics.OK], "extracted from the last message")
		assert.Equal(t, 6, seen, "checked every message")

		msgs := res.Metrics.SeriesOf(metrics.Key{Scenario: "feed", Step: "watch", Kind: stampedegrpc.KindMessage}).Total
		assert.Equal(t, int64(6), msgs.Count())
		assert.Equal(t, 5*time.Millisecond, msgs.Latency.Min)
		assert.Equal(t, 20*time.Millisecond, msgs.Latency.Max)
		assert.Equal(t, 70*time.Millisecond/6, msgs.Latency.Mean(), "each gap as the server made it: 5, 10 and 20 ms")
		assert.Equal(t, 5*time.Millisecond, stats(t, res, "feed", "watch", stampedegrpc.KindFirstMessage).Latency.Max)
		assert.Equal(t, 35*time.Millisecond, stats(t, res, "feed", "watch", stampedegrpc.KindLastMessage).Latency.Max)
		assert.Equal(t, metrics.StatusCounts{{Code: 0, Count: 2}}, stats(t, res, "feed", "watch", stampedegrpc.KindStatus).Status)
	})
}

// A client stream counts the messages it sends; its one response is
// checked.
func TestClientStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := serve(t, &testServer{}, 0)
		j, err := scenario.New("upload", scenario.Parts{
			stampedegrpc.ClientStream("put", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.StreamingInputCall,
				func(vu *scenario.VU) ([]*testgrpc.StreamingInputCallRequest, error) {
					var rs []*testgrpc.StreamingInputCallRequest
					for range 4 {
						rs = append(rs, &testgrpc.StreamingInputCallRequest{Payload: &testgrpc.Payload{Body: make([]byte, 10)}})
					}
					return rs, nil
				},
				stampedegrpc.Check(func(vu *scenario.VU, r *testgrpc.StreamingInputCallResponse) error {
					if r.GetAggregatedPayloadSize() != 40 {
						return fmt.Errorf("the server saw %d bytes", r.GetAggregatedPayloadSize())
					}
					return nil
				})),
		})
		require.NoError(t, err)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 2}))
		assert.Equal(t, int64(4), stats(t, res, "upload", "put", metrics.KindStep).Outcomes[metrics.OK])
		assert.Equal(t, int64(16), stats(t, res, "upload", "put", stampedegrpc.KindSent).Outcomes[metrics.OK])
	})
}

// On a bidirectional stream each reply is timed from the request it
// answers: in a conversation, one at a time; when requests go out in a
// burst, each waits for the replies before it too.
func TestBidiRoundTrips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := serve(t, &testServer{}, 0)
		ask := func(d time.Duration) *testgrpc.StreamingOutputCallRequest {
			return &testgrpc.StreamingOutputCallRequest{ResponseParameters: []*testgrpc.ResponseParameters{{Size: 1, IntervalUs: int32(d / time.Microsecond)}}}
		}
		talk, err := scenario.New("talk", scenario.Parts{
			stampedegrpc.Bidi("chat", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.FullDuplexCall,
				func(vu *scenario.VU) ([]*testgrpc.StreamingOutputCallRequest, error) {
					return []*testgrpc.StreamingOutputCallRequest{ask(7 * time.Millisecond), ask(7 * time.Millisecond), ask(7 * time.Millisecond)}, nil
				}),
		})
		require.NoError(t, err)
		burst, err := scenario.New("burst", scenario.Parts{
			stampedegrpc.BidiFunc("chat", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.FullDuplexCall,
				func(ctx context.Context, vu *scenario.VU, s *stampedegrpc.Stream[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
					for range 3 {
						if err := s.Send(ask(7 * time.Millisecond)); err != nil {
							return err
						}
					}
					for range 3 {
						if _, err := s.Recv(); err != nil {
							return err
						}
					}
					return nil
				}),
		})
		require.NoError(t, err)
		res := run(t, talk.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}), burst.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}))

		assert.Equal(t, int64(2), stats(t, res, "talk", "chat", metrics.KindStep).Outcomes[metrics.OK])
		m := stats(t, res, "talk", "chat", stampedegrpc.KindMessage)
		assert.Equal(t, int64(6), m.Count())
		assert.Equal(t, 7*time.Millisecond, m.Latency.Min)
		assert.Equal(t, 7*time.Millisecond, m.Latency.Max)
		assert.Equal(t, int64(6), stats(t, res, "talk", "chat", stampedegrpc.KindSent).Outcomes[metrics.OK])
		assert.Equal(t, 21*time.Millisecond, stats(t, res, "talk", "chat", metrics.KindStep).Latency.Max)

		m = stats(t, res, "burst", "chat", stampedegrpc.KindMessage)
		assert.Equal(t, int64(3), m.Count())
		assert.Equal(t, 7*time.Millisecond, m.Latency.Min)
		assert.Equal(t, 21*time.Millisecond, m.Latency.Max, "the third reply waited for the two before it")
	})
}

// Conns chooses the connections: one per VU, a pool of n, one for all.
// The wait for a new connection is the connect phase, 0 on one ready.
func TestConnectionPolicy(t *testing.T) {
	for _, tc := range []struct {
		conns, want int
	}{{0, 4}, {2, 2}, {1, 1}} {
		t.Run(fmt.Sprint(tc.conns), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := &testServer{delay: time.Millisecond}
				client := serve(t, srv, 3*time.Millisecond)
				client.Conns = tc.conns
				j, err := scenario.New("pool", scenario.Parts{
					stampedegrpc.Unary("call", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.EmptyCall,
						func(vu *scenario.VU) (*testgrpc.Empty, error) { return &testgrpc.Empty{}, nil }),
				})
				require.NoError(t, err)
				res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 4, Iterations: 3}))
				assert.Equal(t, int64(12), stats(t, res, "pool", "call", metrics.KindStep).Outcomes[metrics.OK], res.Errors)
				assert.Equal(t, tc.want, srv.conns)
				c := stats(t, res, "pool", "call", stampedegrpc.KindConnect)
				assert.Equal(t, int64(4), c.Count(), "each VU's first call waited for its connection; the others found it ready")
				assert.Equal(t, 3*time.Millisecond, c.Latency.Min, "the dial's time")
				assert.Equal(t, 3*time.Millisecond, c.Latency.Max)
			})
		})
	}
}

// The run's hard stop cuts a call off: it is interrupted, and no status is
// counted for it.
func TestInterrupted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client := serve(t, &testServer{delay: time.Hour}, 0)
		j, err := scenario.New("stuck", scenario.Parts{
			stampedegrpc.Unary("call", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.UnaryCall,
				func(vu *scenario.VU) (*testgrpc.SimpleRequest, error) { return &testgrpc.SimpleRequest{}, nil }),
		})
		require.NoError(t, err)
		res := run(t, loadgen.Scenario{Name: "stuck", Executor: loadgen.ConstantVUs{VUs: 1, Duration: time.Second}, GracefulStop: time.Second,
			Setup: j.Scenario(nil).Setup})
		assert.Equal(t, int64(1), stats(t, res, "stuck", "call", metrics.KindStep).Outcomes[metrics.Interrupted])
		assert.Empty(t, stats(t, res, "stuck", "call", stampedegrpc.KindStatus).Status)
	})
}

// Mistakes in a step are reported by New with the step's name, all at
// once.
func TestBuildErrors(t *testing.T) {
	req := func(vu *scenario.VU) (*testgrpc.Empty, error) { return &testgrpc.Empty{}, nil }
	for _, tc := range []struct {
		name   string
		client *stampedegrpc.Client
		opts   []stampedegrpc.Option
		want   []string
	}{
		{"nil client", nil, nil, []string{"client: nil"}},
		{"no target", &stampedegrpc.Client{}, nil, []string{"Target is empty"}},
		{"bad fields", &stampedegrpc.Client{Target: "x:1", Conns: -1, Plaintext: true, ServerName: "x", ConnectTimeout: -1}, nil,
			[]string{"Conns is -1", "ServerName would be ignored", "ConnectTimeout is -1ns"}},
		{"options", &stampedegrpc.Client{Target: "x:1"}, []stampedegrpc.Option{
			stampedegrpc.Metadata("X-User", "a"),
			stampedegrpc.Metadata("grpc-x", "a"),
			stampedegrpc.Metadata("x-ok", "{{missing}}"),
			stampedegrpc.Timeout(0),
			stampedegrpc.Expect(codes.Code(40)),
			stampedegrpc.Check(func(*scenario.VU, *testgrpc.SimpleResponse) error { return nil }),
			stampedegrpc.Extract("", func(*testgrpc.Empty) (string, error) { return "", nil }),
			nil,
		}, []string{`key "X-User" holds 'X'`, "starts with grpc-", "missing", "Timeout is 0s", "status code 40", "Check 0 takes *grpc_testing.SimpleResponse; the step's messages are *grpc_testing.Empty", `Extract: key ""`, "an option is nil"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scenario.New("j", scenario.Parts{
				stampedegrpc.Unary("call", tc.client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.EmptyCall, req, tc.opts...),
			})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), "call")
		})
	}
	_, err := scenario.New("j", scenario.Parts{
		stampedegrpc.Unary[testgrpc.TestServiceClient, *testgrpc.Empty, *testgrpc.Empty]("call", &stampedegrpc.Client{Target: "x:1"}, testgrpc.NewTestServiceClient, nil, req),
	})
	require.ErrorContains(t, err, "must not be nil")
}

// A service that accepts connections and never answers: the step's
// deadline cuts off the wait for the connection, a timeout.
func TestDeadlineOfABlackHole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := bufconn.Listen(1 << 16)
		var mu sync.Mutex
		var accepted []net.Conn
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				accepted = append(accepted, c) // held open, never read
				mu.Unlock()
			}
		}()
		client := &stampedegrpc.Client{Target: "passthrough:///hole", Plaintext: true,
			Dial: func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) }}
		j, err := scenario.New("hole", scenario.Parts{
			stampedegrpc.Unary("call", client, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.EmptyCall,
				func(*scenario.VU) (*testgrpc.Empty, error) { return &testgrpc.Empty{}, nil },
				stampedegrpc.Timeout(10*time.Millisecond)),
		})
		require.NoError(t, err)
		res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}))
		st := stats(t, res, "hole", "call", metrics.KindStep)
		assert.Equal(t, int64(2), st.Outcomes[metrics.Timeout], res.Errors)
		assert.Equal(t, 10*time.Millisecond, st.Failed.Max)
		assert.Equal(t, metrics.StatusCounts{{Code: int(codes.DeadlineExceeded), Count: 2}},
			stats(t, res, "hole", "call", stampedegrpc.KindStatus).Status)
		l.Close()
		mu.Lock()
		for _, c := range accepted {
			c.Close()
		}
		mu.Unlock()
	})
}
