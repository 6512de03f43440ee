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
// level by level, each level a run of its own with its own warm-up, checks
// the SLO's thresholds on it (and, whatever the SLO, that it failed no
// more than MaxErrorRate of its iterations and dropped no more than
// MaxDropped of its arrivals, 1 % each by default), stops at the first
// level that breaks them
// and, to a stated resolution, bisects between the last good and the first
// bad level. It reports every level (offered and achieved rate, drops,
// p50/p95/p99 of successful iterations, error rate, the verdict) and the
// ceiling with what limited it: latency, errors, drops while the service
// slowed, or the generator itself (drops, or a rate short of the offered
// one, while the service stayed fast). [Steps] runs a list of levels, all
// of them, and [CompareSteps] sets two services side by side level by
// level. Reports render as text and as a self-contained HTML page whose
// charts plot latency, errors and rate against the offered load, where the
// knee shows.
package capacity
