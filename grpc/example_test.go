package stampedegrpc_test

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/test/bufconn"

	stampedegrpc "github.com/stampede-go/stampede/grpc"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// A unary call and a server stream against grpc-go's test service,
// served in memory; the stream's messages are timed one by one.
func Example() {
	l := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(srv, &testServer{})
	go srv.Serve(l)
	defer srv.Stop()

	svc := &stampedegrpc.Client{
		Target:    "passthrough:///test",
		Plaintext: true,
		Dial:      func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) },
	}
	j, err := scenario.New("feed", scenario.Parts{
		stampedegrpc.Unary("hello", svc, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.UnaryCall,
			func(vu *scenario.VU) (*testgrpc.SimpleRequest, error) {
				return &testgrpc.SimpleRequest{ResponseSize: 10}, nil
			}),
		stampedegrpc.ServerStream("watch", svc, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.StreamingOutputCall,
			func(vu *scenario.VU) (*testgrpc.StreamingOutputCallRequest, error) {
				return &testgrpc.StreamingOutputCallRequest{ResponseParameters: []*testgrpc.ResponseParameters{
					{Size: 1, IntervalUs: 1000}, {Size: 1, IntervalUs: 1000}, {Size: 1, IntervalUs: 1000},
				}}, nil
			}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{
		j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 5}),
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, step := range []string{"hello", "watch"} {
		codes := res.Metrics.SeriesOf(metrics.Key{Scenario: "feed", Step: step, Kind: stampedegrpc.KindStatus}).Total.Status
		for _, c := range codes {
			fmt.Printf("%s: %d calls %s\n", step, c.Count, metrics.CodeName(stampedegrpc.KindStatus, c.Code))
		}
	}
	msgs := res.Metrics.SeriesOf(metrics.Key{Scenario: "feed", Step: "watch", Kind: stampedegrpc.KindMessage}).Total
	fmt.Println("messages received:", msgs.Count())
	// Output:
	// hello: 10 calls OK
	// watch: 10 calls OK
	// messages received: 30
}
