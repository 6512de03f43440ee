package stampedesse_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/stampede-go/stampede/internal/memnet"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
	stampedesse "github.com/stampede-go/stampede/ws/sse"
)

// A subscription to a stream, served in memory, of three events 10 ms
// apart, read until its "final" event.
func Example() {
	l := memnet.Listen()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i, typ := range []string{"goal", "goal", "final"} {
			time.Sleep(10 * time.Millisecond)
			fmt.Fprintf(w, "event: %s\nid: %d\ndata: {}\n\n", typ, i+1)
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	})}
	go srv.Serve(l)
	defer srv.Close()

	j, err := scenario.New("fans", scenario.Parts{
		stampedesse.Subscribe("live", "http://scores.test/live", time.Minute,
			stampedesse.Until(func(e stampedesse.Event) bool { return e.Type == "final" })),
	}, scenario.WithClient(scenario.Client{Dial: l.Dial}))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{
		j.Scenario(loadgen.PerVUIterations{VUs: 2, Iterations: 2}),
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	events := res.Metrics.SeriesOf(metrics.Key{Scenario: "fans", Step: "live", Kind: stampedesse.KindEvent}).Total
	fmt.Println("subscriptions:", res.Metrics.SeriesOf(metrics.Key{Scenario: "fans", Step: "live", Kind: metrics.KindStep}).Total.Outcomes[metrics.OK])
	fmt.Println("events:", events.Count())
	// Output:
	// subscriptions: 4
	// events: 12
}
