// Package stampedews makes WebSocket steps for stampede's journeys:
// connections opened and held, messages sent on a schedule, each message
// timed to its reply, pushed messages timed from the instant the service
// stamped them, and the connections held as a gauge over the run.
//
// It is a module of its own, so that stampede's core does not depend on a
// WebSocket library (it uses github.com/coder/websocket); import it as
//
//	import stampedews "github.com/stampede-go/stampede/ws"
//
// # Steps
//
// A [Client] says where the steps connect and how to read the service's
// messages: the id that matches a reply to its message, the time the
// service put in a message it pushed. A VU's steps given the same Client
// act on one connection of the VU:
//
//	room := &stampedews.Client{
//		URL:       "wss://chat.test/rooms/{{room}}",
//		Header:    map[string]string{"Authorization": "Bearer {{token}}"},
//		ID:        stampedews.JSONField("id"),
//		Timestamp: stampedews.JSONTime("sent_at"),
//	}
//	j, err := scenario.New("chat", scenario.Parts{
//		scenario.Feed(users),
//		stampedews.Connect("join", room),
//		stampedews.RoundTrip("post", room, `{"id":"{{vu.id}}-{{vu.iteration}}","text":"hello"}`),
//		stampedews.Hold("read", room, time.Minute),
//		stampedews.Close("leave", room),
//	})
//
// [Connect] makes the handshake through the VU's HTTP client, so the
// journey's scenario.Client (TLS, Dial, Hosts, Proxy) applies to it.
// [Send] sends a message; [Receive] waits for a message that satisfies a
// predicate, within a timeout (Gatling's check); [RoundTrip] sends one and
// waits for its reply; [Hold] keeps the connection open for a duration,
// taking what arrives and, with [Every], sending a message every interval
// (an open model of messages per connection); [Close] closes it with a
// close handshake. scenario.New checks every step with the rest of the
// journey, before any load.
//
// # What is recorded
//
// Each step's latency and outcome are recorded under its name as any
// step's (metrics.KindStep): Connect's is the handshake, RoundTrip's the
// round trip, Receive's the wait. Beside them, under the same name:
//
//   - KindSent and KindReceived: the messages sent and received, each at
//     its instant (their timelines are messages per second), and the
//     step's bytes;
//   - KindRoundTrip: in a Hold, each message's round trip, timed from the
//     instant it was due, so that a generator that sent it late does not
//     hide the wait (no coordinated omission);
//   - KindDelay: each message's delivery delay, from the time the service
//     put in it to its arrival;
//   - KindClose: the close codes of connections that ended during a step,
//     by name ("hold[ws]: status(GOING_AWAY)<=0").
//
// A goroutine reads each connection from its handshake on, so a message is
// stamped the instant it arrives, even between steps, and a step that
// stops waiting for one (its timeout) leaves the connection open.
//
// The run samples its open connections as the gauge [GaugeHeld], under the
// scenario's name ("chat.ws_connections").
//
// A service that closes a connection fails the step that finds it closed,
// in the class [OutcomeOf] gives its close code (TRY_AGAIN_LATER is
// refused, INTERNAL_ERROR server_error …); a refused handshake fails
// Connect by its HTTP status.
//
// Server-Sent Events have their steps in the package beside this one,
// github.com/stampede-go/stampede/ws/sse.
package stampedews
