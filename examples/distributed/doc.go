// Command distributed runs one load test as several processes, on one
// machine or many, and merges their results into the report the whole test
// would have produced.
//
//	distributed [run] [-target URL] [-segment i/n] [-start-at RFC3339] [-out FILE | -log]
//	distributed merge [-json FILE] [-html FILE] [-partial] FILE...
//
// # Flow
//
//  1. Every process builds the same plan (see examplePlan) and runs only its
//     segment of it, a [loadgen.Segment]: from -segment ("2/4", 1-based) or
//     from the environment, STAMPEDE_SEGMENT_INDEX or, on a Kubernetes
//     Indexed Job, JOB_COMPLETION_INDEX (0-based), with
//     STAMPEDE_SEGMENT_COUNT (see [loadgen.SegmentFromEnv]). VU counts and
//     iteration budgets are split so that the shares add up to the whole;
//     open-model arrivals are dealt out in turn.
//  2. Every process waits for the same wall-clock start: -start-at or
//     STAMPEDE_START_AT, in RFC 3339 (see [loadgen.StartAtFromEnv]). That
//     puts every process's per-interval series on one grid, which the merge
//     needs. A process that arrives late starts at once, and its result
//     says how late.
//  3. Each process writes its [loadgen.Result] as JSON to -out (or
//     stdout), or with -log to stdout as a framed block of text
//     ([loadgen.Result.WriteLog]) for a log to carry: on Kubernetes, the
//     pod's log, read back with `kubectl logs`, so no shared volume is
//     needed.
//  4. merge reads the results, from result files or from logs holding
//     blocks ([loadgen.LogResults]; - reads stdin), one at a time into a
//     [loadgen.Merger], so its memory is that of the merge, not of every
//     file. It refuses results of different plans and segments that are
//     missing or given twice (the error lists which file holds which
//     segment). Counts and HDR histograms add exactly, so the merged
//     percentiles are those of every request of every process. merge
//     prints the text report and, on request, writes the merged JSON
//     (-json) and an HTML report (-html).
//     The merged result lists its segments and how late each started;
//     -partial merges without a lost segment ([loadgen.MergePartial]), and
//     every report of the merge then says which is missing.
//
// # The plan and its target
//
// The plan has two scenarios against the demo service (internal/demo):
// "browse", 7 VUs sharing 201 iterations of GET /meetings, and "open", 45
// arrivals per second for 2 s of GET /meetings/1. -target is the demo
// service's base URL and must be a loopback URL: like every example, this
// one loads no other host. Without -target, each process starts its own
// demo service in-process, so a try-out needs nothing else; each segment
// then loads its own copy, which changes the latencies but not the counts.
//
// To try it on one machine:
//
//	go build -o /tmp/distributed ./examples/distributed
//	start=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)   # macOS: date -u -v+3S ...
//	for i in 1 2 3 4; do /tmp/distributed -segment $i/4 -start-at $start -out seg-$i.json & done; wait
//	/tmp/distributed merge -html report.html seg-*.json
//
// On Kubernetes, k8s/job.yaml runs the segments as an Indexed Job; see
// k8s/README.md. For a real test, copy this package, change examplePlan and
// drop the loopback check.
package main
