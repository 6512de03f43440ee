package stampedegrpc

import (
	"google.golang.org/grpc/codes"

	"github.com/stampede-go/stampede/metrics"
)

// The kinds of metrics a gRPC step records under its name, beside its
// latency (metrics.KindStep). A step records those its type has: every
// call its status and phases, a stream its messages.
const (
	// KindStatus counts the calls' status codes, named as gRPC names them
	// (OK, UNAVAILABLE ...): a report prints "grpc UNAVAILABLE 12" and a
	// threshold reads "checkout[grpc]: status(UNAVAILABLE)<=0".
	KindStatus metrics.Kind = "grpc"
	// KindConnect is the wait for the call's connection to be ready:
	// name resolution, TCP connect, TLS and HTTP/2 handshakes. It is
	// recorded for the calls that waited for one (a VU's first, with a
	// connection of its own), not for those on a connection already ready.
	KindConnect metrics.Kind = "grpc_connect"
	// KindHeaders is the time from the call's start on its connection to
	// the response headers, recorded when the Client's Headers is set.
	KindHeaders metrics.Kind = "grpc_headers"
	// KindFirstMessage and KindLastMessage are, on a stream, the time from
	// the step's start to the first and to the last message received.
	KindFirstMessage metrics.Kind = "grpc_first_msg"
	KindLastMessage  metrics.Kind = "grpc_last_msg"
	// KindMessage is the latency of each message a stream receives,
	// recorded the moment it arrives: on a bidirectional stream the round
	// trip from the request it answers, on a server stream the wait for it
	// (from the request for the first, from the message before it for the
	// others). Its count is the messages received.
	KindMessage metrics.Kind = "grpc_msg"
	// KindSent counts the messages a client or bidirectional stream sent.
	KindSent metrics.Kind = "grpc_sent"
)

func init() {
	names := make(map[int]string, 17)
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		names[int(c)] = codeName(c)
	}
	metrics.RegisterCodes(KindStatus, names)
}

// codeName is a code's name as gRPC's documentation and other tools spell
// it: UNAVAILABLE, DEADLINE_EXCEEDED.
func codeName(c codes.Code) string {
	switch c {
	case codes.OK:
		return "OK"
	case codes.Canceled:
		return "CANCELLED"
	case codes.Unknown:
		return "UNKNOWN"
	case codes.InvalidArgument:
		return "INVALID_ARGUMENT"
	case codes.DeadlineExceeded:
		return "DEADLINE_EXCEEDED"
	case codes.NotFound:
		return "NOT_FOUND"
	case codes.AlreadyExists:
		return "ALREADY_EXISTS"
	case codes.PermissionDenied:
		return "PERMISSION_DENIED"
	case codes.ResourceExhausted:
		return "RESOURCE_EXHAUSTED"
	case codes.FailedPrecondition:
		return "FAILED_PRECONDITION"
	case codes.Aborted:
		return "ABORTED"
	case codes.OutOfRange:
		return "OUT_OF_RANGE"
	case codes.Unimplemented:
		return "UNIMPLEMENTED"
	case codes.Internal:
		return "INTERNAL"
	case codes.Unavailable:
		return "UNAVAILABLE"
	case codes.DataLoss:
		return "DATA_LOSS"
	case codes.Unauthenticated:
		return "UNAUTHENTICATED"
	}
	return c.String()
}

// OutcomeOf returns the outcome class a call that ended with status code c
// is counted in, when c is not one its step expects:
//
//   - OK: metrics.OK;
//   - DEADLINE_EXCEEDED: metrics.Timeout;
//   - UNAVAILABLE: metrics.Refused (no connection, or the service shed the
//     call: what a refused HTTP connection or a 503 would say);
//   - INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
//     UNAUTHENTICATED, FAILED_PRECONDITION, OUT_OF_RANGE,
//     RESOURCE_EXHAUSTED, ABORTED: metrics.Rejected, the caller's request
//     refused (HTTP's 4xx);
//   - INTERNAL, UNKNOWN, DATA_LOSS, UNIMPLEMENTED: metrics.ServerError, the
//     service failing (HTTP's 5xx);
//   - CANCELLED and any other: metrics.Other (a call cut off by the run's
//     hard stop is counted as interrupted by the journey, whatever its
//     code).
func OutcomeOf(c codes.Code) metrics.Outcome {
	switch c {
	case codes.OK:
		return metrics.OK
	case codes.DeadlineExceeded:
		return metrics.Timeout
	case codes.Unavailable:
		return metrics.Refused
	case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.PermissionDenied,
		codes.Unauthenticated, codes.FailedPrecondition, codes.OutOfRange,
		codes.ResourceExhausted, codes.Aborted:
		return metrics.Rejected
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unimplemented:
		return metrics.ServerError
	}
	return metrics.Other
}
