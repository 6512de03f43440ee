package stampedews_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/stampede-go/stampede/internal/memnet"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
	stampedews "github.com/stampede-go/stampede/ws"
)

// Round trips to an echo service, served in memory, that answers each
// message at once.
func Example() {
	l := memnet.Listen()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(context.Background())
			if err != nil || c.Write(context.Background(), typ, msg) != nil {
				return
			}
		}
	})}
	go srv.Serve(l)
	defer srv.Close()

	echo := &stampedews.Client{URL: "ws://echo.test/", ID: stampedews.JSONField("id")}
	j, err := scenario.New("echo", scenario.Parts{
		stampedews.Connect("connect", echo),
		stampedews.RoundTrip("ping", echo, `{"id":"{{vu.id}}-{{vu.iteration}}"}`, stampedews.Timeout(time.Second)),
		stampedews.Close("close", echo),
	}, scenario.WithClient(scenario.Client{Dial: l.Dial}))
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
	ping := res.Metrics.SeriesOf(metrics.Key{Scenario: "echo", Step: "ping", Kind: metrics.KindStep}).Total
	fmt.Println("round trips:", ping.Outcomes[metrics.OK])
	for _, c := range res.Metrics.SeriesOf(metrics.Key{Scenario: "echo", Step: "close", Kind: stampedews.KindClose}).Total.Status {
		fmt.Printf("closed: %d %s\n", c.Count, metrics.CodeName(stampedews.KindClose, c.Code))
	}
	// Output:
	// round trips: 10
	// closed: 10 NORMAL_CLOSURE
}
