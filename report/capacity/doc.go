// Package capacity answers two questions teams ask of a service under
// load: how much does it hold within its SLO (the ceiling), and how does
// it behave at 100, 200 and 300 users (the steps).
//
// Start with [Search] for the ceiling, or [Steps] for given levels; each
// level is a plan that [OpenLoad] or [ClosedLoad] builds from a scenario:
//
//	rep, err := capacity.Search(ctx, capacity.Options{
//		Plan:  capacity.OpenLoad(journey.Scenario, 30*time.Second, 5*time.Second, 2000),
//		SLO:   report.MustParseThresholds("p95<300ms", "error_rate<1%"),
//		Start: 100, Factor: 2, Resolution: 50,
//	})
//	rep.WriteText(os.Stdout) // ceiling: 800 arrivals/s, limited by latency
//
// [Search] raises an open model's arrival rate (or a closed model's VUs)
// level by level, each level a run of its own with its own warm-up (or
// [Options.Runs] runs, one after another), checks the SLO's thresholds on
// it (and, whatever the SLO, that it failed no more than MaxErrorRate of
// its iterations and dropped no more than MaxDropped of its arrivals, 1 %
// each by default), stops at the first level that breaks them and, to a
// stated resolution, bisects between the last good and the first bad
// level. It reports every level (offered and achieved rate, drops, the
// p50/p95/p99 and error rate of the level's rows, the verdict) and the
// ceiling with what limited it: latency, errors, drops while the service
// slowed, or the generator itself (drops, or a rate short of the offered
// one, while the service stayed fast).
//
// A level's figures are those of the rows [Options.Rows] names: by
// default every step merged, the service's answers, not the iterations,
// whose time holds the think times and pacing of a closed model (see
// [Options.Rows] for why); they are typed values in [Level.Figures], each
// run's in [Level.RunFigures].
//
// [Steps] runs a list of levels, all of them, and [CompareSteps] sets two
// services side by side level by level: with five or more runs a level
// each change comes with its significance (the level's five metrics a
// family, Holm-adjusted) and 95 % interval, as report/compare gives them:
//
//	old, _ := capacity.Steps(ctx, capacity.Options{Plan: capacity.ClosedLoad(v1.Scenario, time.Minute, 10*time.Second), Runs: 5}, 100, 200, 300)
//	cand, _ := capacity.Steps(ctx, capacity.Options{Plan: capacity.ClosedLoad(v2.Scenario, time.Minute, 10*time.Second), Runs: 5}, 100, 200, 300)
//	c, _ := capacity.CompareSteps(old, cand)
//	c.WriteMarkdown(os.Stdout) // per level and metric: both values, the change, its 95 % interval, p
//
// Reports and comparisons render as text, Markdown and JSON, and a
// report as a self-contained HTML page whose charts plot latency, errors
// and rate against the offered load, where the knee shows.
package capacity
