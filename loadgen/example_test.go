package loadgen_test

import (
	"context"
	"fmt"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// Example runs a closed model: 4 virtual users, 25 iterations each.
func Example() {
	plan := &loadgen.Plan{Scenarios: []loadgen.Scenario{{
		Name:     "browse",
		Executor: loadgen.PerVUIterations{VUs: 4, Iterations: 25},
		Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
			// A real iteration calls the system under test here.
			if it.VU.ID == 0 && it.Number == 24 {
				return metrics.WithOutcome(fmt.Errorf("HTTP 503"), metrics.HTTP5xx)
			}
			return nil
		},
	}}}
	res, err := loadgen.Run(context.Background(), plan)
	if err != nil {
		panic(err)
	}
	it := res.Iterations("browse")
	fmt.Println(res.Plan.Scenarios[0].Description)
	fmt.Printf("started %d, completed %d, failed %d (%s)\n",
		it.Count(), it.Outcomes[metrics.OK], it.Errors(), res.Errors[0].Outcome)
	// Output:
	// per-vu-iterations: 4 VUs × 25 iterations (max 10m0s)
	// started 100, completed 99, failed 1 (http_5xx)
}

// Example_openModel runs an open model: 200 arrivals per second for a
// quarter of a second, whatever the iterations take.
func Example_openModel() {
	plan := &loadgen.Plan{Scenarios: []loadgen.Scenario{{
		Name:     "api",
		Executor: loadgen.ConstantRate{Rate: 200, Duration: 250 * time.Millisecond, PreAllocatedVUs: 5, MaxVUs: 50},
		Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
			time.Sleep(time.Millisecond) // the call under test
			return nil
		},
	}}}
	res, err := loadgen.Run(context.Background(), plan)
	if err != nil {
		panic(err)
	}
	it := res.Iterations("api")
	fmt.Printf("scheduled %d = started %d + dropped %d\n",
		it.Count()+it.Outcomes[metrics.Dropped], it.Count(), it.Outcomes[metrics.Dropped])
	// Output: scheduled 50 = started 50 + dropped 0
}

// spike is a load shape of one's own: 2 VUs, 6 from 100 ms to 200 ms, then
// 2 again until 300 ms. Any type with the methods of Executor plugs in.
type spike struct{}

func (spike) Validate() error { return nil }
func (spike) String() string  { return "spike: 2, 6 from 100ms to 200ms, 2 until 300ms" }
func (spike) Kind() string    { return "spike" }
func (spike) Load() loadgen.Load {
	return loadgen.Load{Duration: 300 * time.Millisecond, MaxVUs: 6,
		VUs: func(t time.Duration) (int, time.Duration) {
			switch {
			case t < 100*time.Millisecond:
				return 2, 100 * time.Millisecond
			case t < 200*time.Millisecond:
				return 6, 200 * time.Millisecond
			}
			return 2, -1
		}}
}

// ExampleExecutor runs a load shape of one's own, as the built-in
// executors run.
func ExampleExecutor() {
	res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{{
		Name:     "shape",
		Executor: spike{},
		Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
			time.Sleep(10 * time.Millisecond)
			return nil
		},
	}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Plan.Scenarios[0].Executor, "—", res.Plan.Scenarios[0].Description)
	fmt.Println("VUs at the peak:", loadgen.MaxVUs(spike{}), "— iterations ran:", res.Iterations("shape").Count() > 0)
	// Output:
	// spike — spike: 2, 6 from 100ms to 200ms, 2 until 300ms
	// VUs at the peak: 6 — iterations ran: true
}
