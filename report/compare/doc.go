// Package compare sets a candidate's runs against a baseline's and says,
// per step and metric, what changed and whether the change is real.
//
// Start with [RepeatInterleaved] to run both sides in turn, then [Compare]
// them, and hold the candidate to [Budget]s:
//
//	base, cand, err := compare.RepeatInterleaved(ctx, compare.RecommendedRuns, oldPlan, newPlan, compare.RepeatOptions{})
//	c, err := compare.Compare(base, cand) // DefaultMetrics: p50, p95, p99, rate, error_rate …
//	c.WriteText(os.Stdout)
//	vs, err := c.Violations(compare.MustParseBudget("p95 +10%"), compare.MustParseBudget("error_rate +1pp"))
//
// # Model
//
// [Compare] takes each side's runs (one each, or repetitions; see
// [RepeatInterleaved], which runs them in turn so that drift of the machine
// does not look like a change) and compares them on a list of
// [report.Metric]s. The values shown come from each side's merged
// histograms. Whether a change is real is decided on the per-run values,
// one per run, each from that run's own histogram: a two-sided
// Mann-Whitney U test (golang.org/x/perf/benchmath, assuming nothing about
// the distribution) at [Alpha], with the size of the change estimated by
// Hodges-Lehmann, as a ratio for latencies and rates, with a
// distribution-free 95 % interval from the exact U distribution. Pooled
// per-request samples are never tested: requests of one run are
// autocorrelated, and a test on them finds differences that are not there.
// Fewer than [MinRuns] runs per side give the conclusion [Inconclusive]
// ([RecommendedRuns] are recommended).
//
// [Compare] goes row by row; [Selection] compares what one selector picks
// in each run, several rows merged ("[step]", every step), the same way:
// report/capacity compares load levels with it.
//
// Two numbers describe a change, and every renderer names them: the
// change of the merged values (the headline), and the estimate with its
// interval (what the conclusion rests on).
//
// # Families
//
// A table tests many metrics at once, and each test alone is wrong 5 % of
// the time: over 16 metrics of identical services, per-metric verdicts
// call something better or worse in about half of the comparisons. So
// the p-values of a comparison are adjusted together ([Correction]):
// Holm's step-down by default, which keeps the chance of any false
// verdict in the family at most [Alpha] whatever the dependence between
// the metrics; Benjamini-Hochberg for a false discovery rate instead; or
// per metric on request ([Comparison.SetCorrection]). Each [Delta] keeps
// its raw P and its PAdjusted, and every rendering shows both. The family
// is the table's tests, until a gate ([Comparison.Violations]) names
// its own: the tests its budgets check are then one family and the rest
// another, so gating on p95 alone is not diluted by the metrics nobody
// gates on. A family also asks for runs: the smallest p-value of n+n runs
// is 2/C(2n, n), 0.029 for 4+4, so under Holm no test of 4+4 runs is
// significant in a family of two, and such a delta is [Inconclusive] (see
// [Correction.RunsFor]); a gate then holds the merged change to its
// budget, so that it never passes for want of runs.
//
// # Power and runs until decided
//
// "How many runs do I need to see a 5 % change?" For each test a gate
// checks, [Comparison.Violations] estimates by simulation from the spread
// the runs showed what the comparison could find with an 80 % chance at
// its family's level, and how many runs a side find the budget's change
// ([Delta.PowerFor], [Delta.PowerString]: "7+7 runs detect +11.4% (80%
// chance at p < 0.0167); +5.0% needs 27 runs a side to be significant").
// Renderings list it under the table, and the JSON carries it. A gated
// test breaks its budget when it is significant and its interval, at the
// comparison's level over its family, lies past the budget: a change
// exactly the size of a budget breaks it in at most 2.5 % of gates (per
// test, under PerMetric).
//
// [RepeatUntilDecided] (a tool's -until-decided) adds runs, a pair at a
// time, until every gated test either breaks its budget or is known to
// lie within it, or a maximum is reached. Looking after every pair would
// find false changes far more often than Alpha; the level is spread over
// the looks (Bonferroni: Alpha/K at each of K looks), so that the chance
// of any false violation over the whole sequence stays at most Alpha.
//
// # Budgets
//
// A [Budget] turns "p95 worse by more than 10 %" into a failure: a row
// violates it when the change is significant and the whole interval lies
// beyond the budget ([Comparison.Violations]). Budgets read from text
// with [ParseBudget]: "p95 +10%", "checkout: error_rate +1pp".
//
// # Repetitions
//
// [Repeat] runs one plan n times; [SummarizeRuns] gives per row each metric's
// median over the runs, their quartiles, and the value of all runs merged,
// each labelled.
package compare
