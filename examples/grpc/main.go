// Command grpc load-tests a gRPC service started in the same process: each
// virtual user places an order (a unary call, shed now and then with
// UNAVAILABLE, as a service under load does), follows its delivery (a
// server stream of five updates 20 ms apart) and chats with support (a
// bidirectional stream of three questions, each answered in 5 ms). The
// service is grpc-go's interop test service, standing in for yours. It
// prints the report, with each stream message's latency and the status
// codes by name, and checks three thresholds. Its flags are those of the
// command-line kit (package report/cli): -h lists them.
//
//	go run ./examples/grpc [-duration 10s] [-vus 20]
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	stampedegrpc "github.com/stampede-go/stampede/grpc"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/cli"
	"github.com/stampede-go/stampede/scenario"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false)
	stop()
	os.Exit(code)
}

// run runs the command and returns its exit code. inMemory serves the
// service in memory instead of on a loopback port: the test does, on a
// fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) int {
	svc, err := start(inMemory)
	if err != nil {
		fmt.Fprintln(stderr, "grpc:", err)
		return cli.ExitFail
	}
	defer svc.stop()
	tool := &cli.Tool{
		Name:        "grpc",
		Description: "grpc places orders, follows deliveries and chats with support on a gRPC service in this process.",
		Defaults: cli.Flags{VUs: 20, Duration: 10 * time.Second,
			Thresholds: report.MustParseThresholds("place: p99<50ms", "track[grpc_msg]: p99<25ms", "place[grpc]: status(INTERNAL)<=0")},
		Plan: func(f *cli.Flags, _ int) (*loadgen.Plan, error) { return plan(f, svc.client) },
	}
	return tool.Run(ctx, args, stdout, stderr)
}

// plan is the shop's journey under a closed model of -vus users, or an
// open one with -rate; the first second is the warm-up.
func plan(f *cli.Flags, svc *stampedegrpc.Client) (*loadgen.Plan, error) {
	type (
		order = testgrpc.SimpleRequest
		track = testgrpc.StreamingOutputCallRequest
	)
	updates := &track{}
	for range 5 {
		updates.ResponseParameters = append(updates.ResponseParameters, &testgrpc.ResponseParameters{Size: 32, IntervalUs: 20_000})
	}
	question := &track{ResponseParameters: []*testgrpc.ResponseParameters{{Size: 64, IntervalUs: 5_000}}}
	shop, err := scenario.New("shop", scenario.Parts{
		stampedegrpc.Unary("place", svc, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.UnaryCall,
			func(vu *scenario.VU) (*order, error) { return &order{ResponseSize: 128}, nil },
			stampedegrpc.Metadata("x-customer", "customer-{{vu.id}}"),
			stampedegrpc.Timeout(time.Second)),
		stampedegrpc.ServerStream("track", svc, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.StreamingOutputCall,
			func(vu *scenario.VU) (*track, error) { return updates, nil }),
		stampedegrpc.Bidi("chat", svc, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.FullDuplexCall,
			func(vu *scenario.VU) ([]*track, error) { return []*track{question, question, question}, nil }),
		scenario.Think(scenario.Uniform(50*time.Millisecond, 150*time.Millisecond)),
	})
	if err != nil {
		return nil, err
	}
	var load loadgen.Executor = loadgen.ConstantVUs{VUs: f.VUs, Duration: f.Duration}
	if f.Rate > 0 {
		load = f.Executor()
	}
	warmup := f.Warmup
	if warmup == 0 {
		warmup = time.Second
	}
	return &loadgen.Plan{Name: "grpc: shop journey", Warmup: warmup, Scenarios: []loadgen.Scenario{shop.Scenario(load)}}, nil
}

// service is the shop's gRPC service, on a loopback port or in memory.
type service struct {
	client *stampedegrpc.Client
	stop   func()
}

func start(inMemory bool) (*service, error) {
	var l net.Listener
	client := &stampedegrpc.Client{Plaintext: true}
	if inMemory {
		bl := bufconn.Listen(1 << 20)
		l = bl
		client.Target = "passthrough:///shop"
		client.Dial = func(ctx context.Context, _ string) (net.Conn, error) { return bl.DialContext(ctx) }
	} else {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		client.Target = l.Addr().String()
	}
	srv := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(srv, &shop{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	return &service{client: client, stop: func() { srv.Stop(); <-done }}, nil
}

// shop answers an order in 2 ms, but sheds one in 50 with UNAVAILABLE; a
// stream's messages come as its request asks.
type shop struct {
	testgrpc.UnimplementedTestServiceServer
	orders atomic.Int64
}

func (s *shop) UnaryCall(ctx context.Context, r *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	if s.orders.Add(1)%50 == 0 {
		return nil, status.Error(codes.Unavailable, "too busy, try again")
	}
	time.Sleep(2 * time.Millisecond)
	return &testgrpc.SimpleResponse{Payload: &testgrpc.Payload{Body: make([]byte, r.GetResponseSize())}}, nil
}

func (s *shop) StreamingOutputCall(r *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	return reply(stream.Context(), r, stream.Send)
}

func (s *shop) FullDuplexCall(stream grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	for {
		r, err := stream.Recv()
		if err != nil {
			return nil // the end of the questions, or of the call
		}
		if err := reply(stream.Context(), r, stream.Send); err != nil {
			return err
		}
	}
}

// reply sends the messages r asks for, each after its interval.
func reply(ctx context.Context, r *testgrpc.StreamingOutputCallRequest, send func(*testgrpc.StreamingOutputCallResponse) error) error {
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
	return nil
}
