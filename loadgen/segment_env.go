package loadgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The environment variables read by [SegmentFromEnv] and [StartAtFromEnv].
// A variable set to the empty string counts as unset.
const (
	// EnvSegmentIndex is this process's segment, 0-based: "0" to "Count-1".
	EnvSegmentIndex = "STAMPEDE_SEGMENT_INDEX"
	// EnvJobCompletionIndex is read for the segment when EnvSegmentIndex is
	// unset: a Kubernetes Indexed Job sets it to the pod's completion index,
	// 0-based.
	EnvJobCompletionIndex = "JOB_COMPLETION_INDEX"
	// EnvSegmentCount is the number of segments, >= 1.
	EnvSegmentCount = "STAMPEDE_SEGMENT_COUNT"
	// EnvStartAt is the wall-clock start shared by every segment, in RFC 3339
	// ("2026-05-01T12:00:00Z", fractional seconds allowed).
	EnvStartAt = "STAMPEDE_START_AT"
)

// ParseSegment parses a segment written as "i/n", 1-based as
// [Segment.String] prints it: "2/4" is Index 1 of Count 4. It needs
// 1 <= i <= n, decimal digits only (no sign, no spaces). "1/1" is
// Segment{Index: 0, Count: 1}, which like the zero Segment is the whole
// plan.
func ParseSegment(s string) (Segment, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Segment{}, fmt.Errorf(`loadgen: segment must be "i/n" (1-based, e.g. "2/4"), got %q`, s)
	}
	n, ok := atoi(ns)
	if !ok {
		return Segment{}, fmt.Errorf("loadgen: segment %q: n must be an integer >= 1, got %q", s, ns)
	}
	if n < 1 {
		return Segment{}, fmt.Errorf("loadgen: segment %q: n must be >= 1, got %d", s, n)
	}
	i, ok := atoi(is)
	if !ok {
		return Segment{}, fmt.Errorf("loadgen: segment %q: i must be an integer in [1, %d], got %q", s, n, is)
	}
	if i < 1 || i > n {
		return Segment{}, fmt.Errorf("loadgen: segment %q: i must be in [1, %d], got %d", s, n, i)
	}
	return Segment{Index: i - 1, Count: n}, nil
}

// atoi parses a non-empty string of ASCII digits; ok is false for
// anything else, or on overflow.
func atoi(s string) (n int, ok bool) {
	if s == "" {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// SegmentFromEnv returns this process's segment from the environment: the
// index (0-based) from STAMPEDE_SEGMENT_INDEX or, when that is unset, from
// JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job), and the count from
// STAMPEDE_SEGMENT_COUNT. When neither an index nor the count is set, it
// returns the zero Segment, the whole plan. An index without a count, a
// count without an index, a value that is not a non-negative integer, a
// count below 1 or an index outside [0, count) is an error naming the
// variable.
func SegmentFromEnv() (Segment, error) { return segmentFromEnv(os.LookupEnv) }

// segmentFromEnv is SegmentFromEnv reading variables through lookup.
func segmentFromEnv(lookup func(string) (string, bool)) (Segment, error) {
	get := func(name string) (string, bool) {
		v, ok := lookup(name)
		return v, ok && v != ""
	}
	idxVar := EnvSegmentIndex
	idx, hasIdx := get(EnvSegmentIndex)
	if !hasIdx {
		idxVar = EnvJobCompletionIndex
		idx, hasIdx = get(EnvJobCompletionIndex)
	}
	cnt, hasCnt := get(EnvSegmentCount)
	switch {
	case !hasIdx && !hasCnt:
		return Segment{}, nil
	case !hasCnt:
		return Segment{}, fmt.Errorf("loadgen: %s is set (%q) but %s is not: set both, or neither for the whole plan",
			idxVar, idx, EnvSegmentCount)
	case !hasIdx:
		return Segment{}, fmt.Errorf("loadgen: %s is set (%q) but neither %s nor %s is: set both, or neither for the whole plan",
			EnvSegmentCount, cnt, EnvSegmentIndex, EnvJobCompletionIndex)
	}
	n, ok := atoi(cnt)
	if !ok || n < 1 {
		return Segment{}, fmt.Errorf("loadgen: %s must be an integer >= 1, got %q", EnvSegmentCount, cnt)
	}
	i, ok := atoi(idx)
	if !ok || i >= n {
		return Segment{}, fmt.Errorf("loadgen: %s must be an integer in [0, %d) (0-based, %s is %d), got %q",
			idxVar, n, EnvSegmentCount, n, idx)
	}
	seg := Segment{Index: i, Count: n}
	if err := seg.Validate(); err != nil {
		return Segment{}, err // unreachable after the checks above; kept as the final word
	}
	return seg, nil
}

// StartAtFromEnv returns the plan's start time from STAMPEDE_START_AT, in
// RFC 3339 (for [Plan.StartAt]), or the zero time when it is unset.
func StartAtFromEnv() (time.Time, error) { return startAtFromEnv(os.LookupEnv) }

// startAtFromEnv is StartAtFromEnv reading variables through lookup.
func startAtFromEnv(lookup func(string) (string, bool)) (time.Time, error) {
	v, ok := lookup(EnvStartAt)
	if !ok || v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf(`loadgen: %s must be an RFC 3339 time such as "2026-05-01T12:00:00Z", got %q`, EnvStartAt, v)
	}
	return t, nil
}
