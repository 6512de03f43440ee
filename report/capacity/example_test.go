package capacity_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/capacity"
)

// Steps runs a closed model at 100, 200 and 300 VUs and judges each level;
// this service starts failing at 300.
func ExampleSteps() {
	rep, err := capacity.Steps(context.Background(), capacity.Options{
		Plan: func(vus int) (*loadgen.Plan, error) {
			return &loadgen.Plan{Scenarios: []loadgen.Scenario{{
				Name: "api", Executor: loadgen.PerVUIterations{VUs: vus, Iterations: 5},
				Iteration: func(ctx context.Context, it *loadgen.Iteration) error {
					time.Sleep(time.Millisecond)
					if vus >= 300 {
						return metrics.WithOutcome(errors.New("status 503"), metrics.HTTP5xx)
					}
					return nil
				},
			}}}, nil
		},
		SLO: report.MustParseThresholds("error_rate<1%"),
	}, 100, 200, 300)
	if err != nil {
		panic(err)
	}
	for _, l := range rep.Levels {
		fmt.Printf("%d VUs: pass %v, errors %.0f%%\n", l.Load, l.Pass, 100*l.Figures.ErrorRate)
	}
	fmt.Println(rep.Summary())
	// Output:
	// 100 VUs: pass true, errors 0%
	// 200 VUs: pass true, errors 0%
	// 300 VUs: pass false, errors 100%
	// ceiling: 200 VUs, limited by errors
}
