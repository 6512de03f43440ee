package metrics_test

import (
	"fmt"
	"time"

	"github.com/stampede-go/stampede/metrics"
)

// Example records two steps of a journey for a few virtual users, closes
// one-second intervals, and reads the totals and the series back.
func Example() {
	start := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	rec, err := metrics.New(metrics.Options{Start: start})
	if err != nil {
		panic(err)
	}
	list := rec.Handle(metrics.Key{Scenario: "signup", Step: "list", Kind: metrics.KindStep})
	apply := rec.Handle(metrics.Key{Scenario: "signup", Step: "apply", Kind: metrics.KindStep})

	for sec := range 2 {
		now := start.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
		for vu := range 4 {
			shard := rec.Shard(vu) // once per virtual user, not per request
			shard.Record(list, now, time.Duration(10+vu)*time.Millisecond, metrics.OK)
			outcome := metrics.OK
			if vu == 3 && sec == 1 {
				outcome = metrics.HTTP5xx
			}
			shard.Record(apply, now, time.Duration(100*(vu+1))*time.Millisecond, outcome)
		}
		rec.Flush(start.Add(time.Duration(sec+1) * time.Second))
	}
	rec.Finish(start.Add(2 * time.Second))

	snap := rec.Snapshot()
	for _, m := range snap.Series {
		t := m.Total
		fmt.Printf("%-6s n=%d errors=%d p50=%v max=%v failed=%d\n",
			m.Step, t.Count(), t.Errors(), t.Quantile(0.5).Round(time.Millisecond), t.Latency.Max, t.Failed.Count())
	}
	// Output:
	// list   n=8 errors=0 p50=11ms max=13ms failed=0
	// apply  n=8 errors=1 p50=200ms max=400ms failed=1
}

// ExampleMerge combines the snapshots of two machines into the one a single
// machine would have recorded.
func ExampleMerge() {
	start := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	key := metrics.Key{Scenario: "api", Step: "get", Kind: metrics.KindStep}
	var snaps []*metrics.Snapshot
	for machine := range 2 {
		rec, _ := metrics.New(metrics.Options{Start: start})
		h := rec.Handle(key)
		for i := range 100 {
			rec.Shard(i).Record(h, start, time.Duration(machine*100+i+1)*time.Millisecond, metrics.OK)
		}
		rec.Finish(start.Add(time.Second))
		snaps = append(snaps, rec.Snapshot())
	}
	all, err := metrics.Merge(snaps...)
	if err != nil {
		panic(err)
	}
	t := all.SeriesOf(key).Total
	fmt.Println(t.Count(), t.Quantile(0.5).Round(time.Millisecond), t.Quantile(0.99).Round(time.Millisecond))
	// Output: 200 100ms 198ms
}
