// Package metrics records what a load test measures and keeps it exactly:
// latencies in HDR histograms, outcomes in counters, both per interval and
// in total, for every scenario and step.
//
// Most programs meet this package through a run's result: the engine
// records into a [Recorder], and [loadgen.Result] holds its [Snapshot].
// Start with [Snapshot.SeriesOf], which gives one key's totals and
// per-interval points; [Stats] answers the questions:
//
//	s := res.Metrics.SeriesOf(metrics.Key{Scenario: "signup", Step: "apply", Kind: metrics.KindStep})
//	p95 := s.Total.Quantile(0.95) // of successful operations, exact to 3 significant digits
//	failed := s.Total.Errors()    // every outcome but OK
//
// An iteration records measurements of its own into the [Shard] it is
// given, under a key resolved once with [Recorder.Handle].
//
// # Model
//
// A [Recorder] holds one series per [Key] (scenario, step, kind). Virtual
// users record into a [Shard]: a [Shard.Record] call is a lock that no other
// shard shares, a histogram index and a few adds, with no allocation and no
// map lookup, because the key was resolved to a [Handle] beforehand. The
// number of shards follows GOMAXPROCS, not the number of virtual users, so
// memory stays flat however many users a test runs: each shard holds one
// dense histogram (about 190 KiB) per key it has seen.
//
// Every recording carries the instant it happened at and belongs to the
// interval that holds that instant. The engine calls [Recorder.Flush] at
// each interval boundary (one second by default) to close the intervals
// that have ended; a recording that reaches the recorder after its interval
// closed is added to that interval at the next flush, so a late flush
// moves nothing between intervals. Closed intervals are frozen into a
// compact form that reads quantiles without decoding, whose size depends
// on how many distinct latencies an interval saw, not on the request count
// (BenchmarkSnapshot measures the worst case).
// Intervals that begin before the warm-up ends stay in the series but are
// left out of the totals.
//
// A [Snapshot] is plain data: it merges exactly with [Merge] (histograms add,
// counters sum, series line up on wall-clock interval starts), so results of
// several machines combine into the numbers one machine would have recorded.
//
// # What is exact and what is not
//
// Histograms have 3 significant digits over 1 µs to 1 h ([MinValue],
// [MaxValue]); a quantile is exact to that precision, never interpolated and
// never averaged. The minimum, maximum and sum are kept exactly beside each
// histogram ([Distribution]), so [Distribution.Mean] and the extreme
// quantiles are exact. Values above one hour are recorded as one hour and
// counted in [Distribution.Clamped]; nothing is dropped. Successful and
// failed operations have distributions of their own ([Stats.Latency],
// [Stats.Failed]); interrupted and dropped ones are counted, with no
// latency.
//
// # JSON format, version 3
//
// [Snapshot.WriteJSON] writes, and [ReadSnapshot] reads back (version 2,
// whose points were JSON objects, is read as well, and version 1, whose
// single latency held failures too, which is marked with
// [Snapshot.LatencyIncludesFailures]):
//
//	{
//	  "version": 3,                       // format version; versions above 3 are refused
//	  "start": "2026-01-02T12:00:00Z",    // RFC 3339 start of interval 0
//	  "interval_ns": 1000000000,          // interval length in nanoseconds
//	  "warmup_ns": 0,                     // span from start excluded from totals
//	  "latency_includes_failures": true,  // only in what was read from version 1
//	  "metrics": [{
//	    "scenario": "signup", "step": "apply", "kind": "step",
//	    "total":  STATS,                  // the measured window
//	    "points": "eJzs…"                 // one point per interval, in order, in one block
//	  }],
//	  "gauges": [{"name": "heap", "points": [{"start": "…", "min": 1, "max": 2, "sum": 3, "n": 2}]}]
//	}
//
// where STATS is
//
//	"outcomes": {"ok": 10, "http_5xx": 1},  // counts by outcome name, zeros left out
//	"latency": DIST,                        // successful operations; left out when empty
//	"failed": DIST,                         // failed operations; left out when empty
//	"status": {"200": 10, "503": 1},        // responses by status code; optional
//	"bytes_sent": 0, "bytes_received": 0, "vus": 0  // optional
//
// and DIST is
//
//	{"hist": "HISTFAAA…", "min_ns": 1000, "max_ns": 9000, "sum_ns": 40000, "clamped": 0}
//
// Durations are integer nanoseconds, with the unit in the field name. The
// histogram string is the standard HdrHistogram V2 compressed encoding in
// base64, so other HDR libraries can read the totals.
//
// The points of a series are one block, so that long runs stay small and
// read fast: in version 2 each point was a JSON object with a histogram
// compressed on its own, and the file of one process's hour of a 10-step
// journey at 1 s intervals (61 series) took 90 MB and 6.6 s to read; in
// blocks it takes 20 MB and 1.0 s (BenchmarkResultOfAnHour in package
// loadgen). [Snapshot.SeriesOf] gives the points as [Point] values.
//
// A block is the base64 (standard alphabet) of a zlib stream of:
//
//	uvarint   number of points
//	per point:
//	  byte    which fields follow: 1 outcomes, 2 latency, 4 failed,
//	          8 status, 16 bytes_sent, 32 bytes_received, 64 vus
//	  outcomes: uvarint k, then k × (byte outcome, uvarint count)
//	  latency, failed: uvarint min_ns, max_ns, sum_ns, clamped,
//	          uvarint n, then n bytes of buckets
//	  status: uvarint k, then k × (uvarint code, uvarint count)
//	  bytes_sent, bytes_received, vus: uvarint
//
// where the buckets are the populated buckets of the histogram in
// ascending order, each as the gap from the previous bucket's index (from
// index 0 for the first) and its count: a gap below 8 with a count below
// 16 is one byte, gap<<4 | count; any other is the byte 0x80 followed by
// the gap and the count as uvarints. Bucket indexes are the flat indexes
// of this package's HDR geometry (see [MinValue]), those of the counts of
// an HdrHistogram of 1 µs to 1 h at 3 digits: index i < 2048 holds the
// values [512·i ns, 512·(i+1) ns), and each next 1024 buckets are twice as
// wide as the last. The i-th point starts at start + i·interval.
package metrics
