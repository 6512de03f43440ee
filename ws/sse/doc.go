// Package stampedesse makes Server-Sent Events steps for stampede's
// journeys: a subscription to a text/event-stream, read as a browser's
// EventSource reads it, with the time to the first event, the gaps
// between events, the events per second, the reconnections, and each
// event's delivery delay when it carries the time it was sent.
//
// It is in the module of the WebSocket steps
// (github.com/stampede-go/stampede/ws), beside them, and uses only the
// standard library; import it as
//
//	import stampedesse "github.com/stampede-go/stampede/ws/sse"
//
// A journey subscribes with [Subscribe], through the VU's HTTP client (the
// journey's scenario.Client applies):
//
//	j, err := scenario.New("fan", scenario.Parts{
//		scenario.GET("match", base+"/matches/{{match}}"),
//		stampedesse.Subscribe("live", base+"/matches/{{match}}/events", time.Minute,
//			stampedesse.Timestamp(stampedesse.JSONTime("sent_at")),
//			stampedesse.Timeout(10*time.Second)),
//	})
//
// The step's latency is the subscription's length; beside it, under its
// name, it records [KindFirstEvent], [KindEvent] (the events, each with the
// gap before it), [KindDelay], [KindReconnect] and the HTTP status of each
// connection ([KindStatus]): "live[sse_event]: p99<2s" bounds the
// silences, "live[sse_delay]: p99<500ms" the delivery delay.
package stampedesse
