package stampedews

import (
	"github.com/coder/websocket"

	"github.com/stampede-go/stampede/metrics"
)

// The kinds of metrics a WebSocket step records under its name, beside its
// latency (metrics.KindStep). Each step declares those its type can
// record.
const (
	// KindClose counts the close codes of the connections that ended
	// during a step, named as RFC 6455 names them (NORMAL_CLOSURE,
	// GOING_AWAY, ABNORMAL_CLOSURE for a connection lost without a close
	// frame …): a report prints "ws GOING_AWAY 12" and a threshold reads
	// "hold[ws]: status(GOING_AWAY)<=0".
	KindClose metrics.Kind = "ws"
	// KindSent counts the messages a step sent.
	KindSent metrics.Kind = "ws_sent"
	// KindReceived counts the messages a step took from its connection,
	// at the instant each arrived: its timeline is the messages received
	// per second.
	KindReceived metrics.Kind = "ws_recv"
	// KindRoundTrip is the round trip of each message a Hold sent: from
	// the instant it was due (not the instant it was sent, which a busy
	// generator can make late) to the arrival of the reply that Client.ID
	// matches to it. A message without a reply within the step's timeout
	// is recorded as a timeout.
	KindRoundTrip metrics.Kind = "ws_rtt"
	// KindDelay is, for each message received that carries the time the
	// service sent it (Client.Timestamp), the time from then to its
	// arrival: the delivery delay of pushed messages. It relies on the
	// clocks of the service and the generator agreeing; on one machine
	// they do.
	KindDelay metrics.Kind = "ws_delay"
)

// The close codes of RFC 6455 section 7.4.1 and the IANA registry, as
// KindClose names them.
var closeNames = map[int]string{
	1000: "NORMAL_CLOSURE",
	1001: "GOING_AWAY",
	1002: "PROTOCOL_ERROR",
	1003: "UNSUPPORTED_DATA",
	1005: "NO_STATUS",
	1006: "ABNORMAL_CLOSURE",
	1007: "INVALID_PAYLOAD",
	1008: "POLICY_VIOLATION",
	1009: "MESSAGE_TOO_BIG",
	1010: "MANDATORY_EXTENSION",
	1011: "INTERNAL_ERROR",
	1012: "SERVICE_RESTART",
	1013: "TRY_AGAIN_LATER",
	1014: "BAD_GATEWAY",
	1015: "TLS_HANDSHAKE",
}

func init() { metrics.RegisterCodes(KindClose, closeNames) }

// OutcomeOf returns the outcome class of a step during which the service
// closed the connection with code:
//
//   - NORMAL_CLOSURE, GOING_AWAY, NO_STATUS and ABNORMAL_CLOSURE (the
//     connection lost without a close frame): metrics.Reset, the
//     connection closed by the peer;
//   - SERVICE_RESTART and TRY_AGAIN_LATER: metrics.Refused, the service
//     shedding its clients (HTTP's 503, gRPC's UNAVAILABLE);
//   - PROTOCOL_ERROR, UNSUPPORTED_DATA, INVALID_PAYLOAD, POLICY_VIOLATION,
//     MESSAGE_TOO_BIG, MANDATORY_EXTENSION: metrics.Rejected, the client's
//     messages refused (HTTP's 4xx);
//   - INTERNAL_ERROR and BAD_GATEWAY: metrics.ServerError (HTTP's 5xx);
//   - any other (an application's 4000–4999): metrics.Other.
//
// A connection that the step itself closed (Close) fails nothing: its
// close code is counted, and the step is OK.
func OutcomeOf(code int) metrics.Outcome {
	switch websocket.StatusCode(code) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd, websocket.StatusAbnormalClosure:
		return metrics.Reset
	case websocket.StatusServiceRestart, websocket.StatusTryAgainLater:
		return metrics.Refused
	case websocket.StatusProtocolError, websocket.StatusUnsupportedData, websocket.StatusInvalidFramePayloadData,
		websocket.StatusPolicyViolation, websocket.StatusMessageTooBig, websocket.StatusMandatoryExtension:
		return metrics.Rejected
	case websocket.StatusInternalError, websocket.StatusBadGateway:
		return metrics.ServerError
	}
	return metrics.Other
}
