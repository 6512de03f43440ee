package stampedegrpc_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	stampedegrpc "github.com/stampede-go/stampede/grpc"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// testServer is grpc-go's interop test service, answering as its requests
// say: a unary call after delay with the status and payload size asked for,
// a stream's messages after the intervals asked for. It remembers the
// metadata x-user it saw and counts the connections it accepted.
type testServer struct {
	testgrpc.UnimplementedTestServiceServer
	delay        time.Duration
	noReflection bool // serve without grpc's reflection service

	mu    sync.Mutex
	users []string
	conns int
}

func (s *testServer) saw(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	s.users = append(s.users, md.Get("x-user")...)
	s.mu.Unlock()
}

// EmptyCall answers after delay, or after the duration its metadata
// x-stall gives, paying no heed to the call's deadline (as a stuck service
// would not).
func (s *testServer) EmptyCall(ctx context.Context, _ *testgrpc.Empty) (*testgrpc.Empty, error) {
	d := s.delay
	if md, _ := metadata.FromIncomingContext(ctx); len(md.Get("x-stall")) > 0 {
		var err error
		if d, err = time.ParseDuration(md.Get("x-stall")[0]); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	time.Sleep(d)
	return &testgrpc.Empty{}, nil
}

func (s *testServer) UnaryCall(ctx context.Context, r *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	s.saw(ctx)
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	if st := r.GetResponseStatus(); st.GetCode() != 0 {
		return nil, status.Error(codes.Code(st.GetCode()), st.GetMessage())
	}
	return &testgrpc.SimpleResponse{Payload: &testgrpc.Payload{Body: make([]byte, r.GetResponseSize())}}, nil
}

func (s *testServer) StreamingOutputCall(r *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	return reply(r, stream.Context(), stream.Send)
}

// reply sends the messages r asks for, each after its interval, then the
// status it asks for.
func reply(r *testgrpc.StreamingOutputCallRequest, ctx context.Context, send func(*testgrpc.StreamingOutputCallResponse) error) error {
	for _, p := range r.GetResponseParameters() {
		select {
		case <-time.After(time.Duration(p.GetIntervalUs()) * time.Microsecond):
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := send(&testgrpc.StreamingOutputCallResponse{Payload: &testgrpc.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
			return err
		}
	}
	if st := r.GetResponseStatus(); st.GetCode() != 0 {
		return status.Error(codes.Code(st.GetCode()), st.GetMessage())
	}
	return nil
}

func (s *testServer) StreamingInputCall(stream grpc.ClientStreamingServer[testgrpc.StreamingInputCallRequest, testgrpc.StreamingInputCallResponse]) error {
	n := 0
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&testgrpc.StreamingInputCallResponse{AggregatedPayloadSize: int32(n)})
		}
		if err != nil {
			return err
		}
		n += len(m.GetPayload().GetBody())
	}
}

func (s *testServer) FullDuplexCall(stream grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	for {
		r, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := reply(r, stream.Context(), stream.Send); err != nil {
			return err
		}
	}
}

// countingListener counts the connections a listener accepts.
type countingListener struct {
	net.Listener
	s *testServer
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.conns++
		l.s.mu.Unlock()
	}
	return c, err
}

// serve starts s on an in-memory listener for the test and returns a
// plaintext Client of it; dialDelay makes each connection take that long
// to open.
func serve(t *testing.T, s *testServer, dialDelay time.Duration, opts ...grpc.ServerOption) *stampedegrpc.Client {
	t.Helper()
	l := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(opts...)
	testgrpc.RegisterTestServiceServer(srv, s)
	if !s.noReflection {
		reflection.Register(srv)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(countingListener{l, s})
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
	return &stampedegrpc.Client{
		Target:    "passthrough:///bufnet",
		Plaintext: true,
		Dial: func(ctx context.Context, _ string) (net.Conn, error) {
			if dialDelay > 0 {
				time.Sleep(dialDelay)
			}
			return l.DialContext(ctx)
		},
	}
}

func run(t *testing.T, scs ...loadgen.Scenario) *loadgen.Result {
	t.Helper()
	res, err := loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: scs})
	require.NoError(t, err)
	return res
}

// stats returns the totals of one series, failing the test without it.
func stats(t *testing.T, res *loadgen.Result, sc, step string, k metrics.Kind) metrics.Stats {
	t.Helper()
	s := res.Metrics.SeriesOf(metrics.Key{Scenario: sc, Step: step, Kind: k})
	require.NotNil(t, s, "no series %s/%s[%s]", sc, step, k)
	return s.Total
}
