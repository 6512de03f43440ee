// Package stampedegrpc makes gRPC steps for stampede's journeys: unary
// calls and the three kinds of streams, on a service's generated stubs,
// with each call's status code, phases, and the latency of each message of
// a stream.
//
// It is a module of its own, so that stampede's core does not depend on
// grpc-go; import it as
//
//	import stampedegrpc "github.com/stampede-go/stampede/grpc"
//
// # Steps
//
// A step names a method of the generated client (pb.NewOrdersClient's
// interface) by its method expression, and a function that builds each
// call's request for a VU, from its data row and the values earlier steps
// stored:
//
//	svc := &stampedegrpc.Client{Target: "orders.internal:443"}
//	j, err := scenario.New("checkout", scenario.Parts{
//		scenario.Feed(users),
//		stampedegrpc.Unary("create", svc, pb.NewOrdersClient, pb.OrdersClient.Create,
//			func(vu *scenario.VU) (*pb.CreateRequest, error) {
//				user, _ := vu.Record.Get("user")
//				return &pb.CreateRequest{User: user}, nil
//			},
//			stampedegrpc.Metadata("authorization", "Bearer {{token}}"),
//			stampedegrpc.Extract("order", func(r *pb.Order) (string, error) { return r.Id, nil })),
//		stampedegrpc.ServerStream("track", svc, pb.NewOrdersClient, pb.OrdersClient.Track, trackRequest),
//	})
//
// [Unary], [ServerStream], [ClientStream], [Bidi] and [BidiFunc] make the
// steps; options set metadata (templates, as an HTTP step's headers),
// a timeout (the call's deadline), the status codes that pass, checks on
// each message received and extractors on the last. scenario.New checks
// them all with the rest of the journey, before any load.
//
// # What is recorded
//
// Each step's latency and outcome are recorded under its name as any
// step's (metrics.KindStep), and beside them, under the same name:
//
//   - KindStatus: the status codes, named as gRPC names them (OK,
//     UNAVAILABLE ...) in reports and thresholds
//     ("create[grpc]: status(UNAVAILABLE)<=0");
//   - KindConnect: the wait for a connection to be ready, for the calls
//     that waited for one; and,
//     when the Client's Headers is set, KindHeaders: the time to the
//     response headers;
//   - on streams, KindMessage: the latency of each message received, the
//     moment it arrives (a bidirectional stream's round trip from the
//     request it answers; a server stream's wait for it); KindFirstMessage
//     and KindLastMessage; KindSent, the messages sent;
//   - on the step, the bytes of the messages sent and received (their
//     encoded size).
//
// Each call has a deadline, the step's timeout (scenario.DefaultTimeout
// unless [Timeout] says otherwise): the service sees it, and a call that
// outlives it is cut off, DEADLINE_EXCEEDED.
//
// A call that ends with a code the step does not expect fails in the class
// [OutcomeOf] gives: DEADLINE_EXCEEDED is a timeout, UNAVAILABLE refused,
// NOT_FOUND and the other errors of the caller's rejected, INTERNAL and
// the other errors of the service server_error.
//
// # Connections
//
// A [Client] holds the target, TLS (the fields of scenario.Client that
// apply) and the connection policy: a connection per VU by default, so
// that a balancer spreads the load as it would over that many clients; a
// pool of n (Conns: n), or one for all (Conns: 1), each VU's calls then
// streams of a shared HTTP/2 connection.
package stampedegrpc
