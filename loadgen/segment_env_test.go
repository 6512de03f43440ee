package loadgen

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSegment(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Segment
		err      string
	}{
		{name: "whole", in: "1/1", want: Segment{Index: 0, Count: 1}},
		{name: "second of four", in: "2/4", want: Segment{Index: 1, Count: 4}},
		{name: "last of four", in: "4/4", want: Segment{Index: 3, Count: 4}},
		{name: "many", in: "13/1000", want: Segment{Index: 12, Count: 1000}},
		{name: "leading zeros", in: "02/04", want: Segment{Index: 1, Count: 4}},
		{name: "empty", in: "", err: `loadgen: segment must be "i/n" (1-based, e.g. "2/4"), got ""`},
		{name: "no slash", in: "2", err: `loadgen: segment must be "i/n" (1-based, e.g. "2/4"), got "2"`},
		{name: "no count", in: "2/", err: `loadgen: segment "2/": n must be an integer >= 1, got ""`},
		{name: "no index", in: "/4", err: `loadgen: segment "/4": i must be an integer in [1, 4], got ""`},
		{name: "0-based index", in: "0/4", err: `loadgen: segment "0/4": i must be in [1, 4], got 0`},
		{name: "index past count", in: "5/4", err: `loadgen: segment "5/4": i must be in [1, 4], got 5`},
		{name: "zero count", in: "1/0", err: `loadgen: segment "1/0": n must be >= 1, got 0`},
		{name: "negative", in: "-1/4", err: `loadgen: segment "-1/4": i must be an integer in [1, 4], got "-1"`},
		{name: "plus sign", in: "+2/4", err: `loadgen: segment "+2/4": i must be an integer in [1, 4], got "+2"`},
		{name: "spaces", in: " 2/4", err: `loadgen: segment " 2/4": i must be an integer in [1, 4], got " 2"`},
		{name: "letters", in: "a/4", err: `loadgen: segment "a/4": i must be an integer in [1, 4], got "a"`},
		{name: "two slashes", in: "2/4/6", err: `loadgen: segment "2/4/6": n must be an integer >= 1, got "4/6"`},
		{name: "overflow", in: "1/99999999999999999999", err: `loadgen: segment "1/99999999999999999999": n must be an integer >= 1, got "99999999999999999999"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSegment(tc.in)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.NoError(t, got.Validate())
		})
	}
}

func TestParseSegmentRoundTrip(t *testing.T) {
	for n := 1; n <= 9; n++ {
		for i := range n {
			seg := Segment{Index: i, Count: n}
			got, err := ParseSegment(seg.String())
			require.NoError(t, err)
			assert.Equal(t, seg, got)
		}
	}
	// The zero Segment prints as "1/1", which parses to Count 1: the whole
	// plan either way.
	got, err := ParseSegment(Segment{}.String())
	require.NoError(t, err)
	assert.True(t, got.IsWhole())
}

func FuzzParseSegment(f *testing.F) {
	for _, s := range []string{"1/1", "2/4", "4/4", "0/4", "5/4", "", "/", "9999999999999999999/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seg, err := ParseSegment(s)
		if err != nil {
			return
		}
		require.NoError(t, seg.Validate())
		back, err := ParseSegment(seg.String())
		require.NoError(t, err)
		require.Equal(t, seg, back)
	})
}

// env returns a lookup function over a fixed environment.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestSegmentFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars map[string]string
		want Segment
		err  string
	}{
		{name: "nothing set", vars: nil, want: Segment{}},
		{name: "both empty", vars: map[string]string{EnvSegmentIndex: "", EnvSegmentCount: ""}, want: Segment{}},
		{name: "index and count", vars: map[string]string{EnvSegmentIndex: "1", EnvSegmentCount: "4"}, want: Segment{Index: 1, Count: 4}},
		{name: "first", vars: map[string]string{EnvSegmentIndex: "0", EnvSegmentCount: "4"}, want: Segment{Index: 0, Count: 4}},
		{name: "one of one", vars: map[string]string{EnvSegmentIndex: "0", EnvSegmentCount: "1"}, want: Segment{Index: 0, Count: 1}},
		{name: "job completion index", vars: map[string]string{EnvJobCompletionIndex: "3", EnvSegmentCount: "4"}, want: Segment{Index: 3, Count: 4}},
		{name: "own index wins over the job's",
			vars: map[string]string{EnvSegmentIndex: "2", EnvJobCompletionIndex: "3", EnvSegmentCount: "4"}, want: Segment{Index: 2, Count: 4}},
		{name: "empty own index falls back to the job's",
			vars: map[string]string{EnvSegmentIndex: "", EnvJobCompletionIndex: "3", EnvSegmentCount: "4"}, want: Segment{Index: 3, Count: 4}},
		{name: "index without count", vars: map[string]string{EnvSegmentIndex: "1"},
			err: `loadgen: STAMPEDE_SEGMENT_INDEX is set ("1") but STAMPEDE_SEGMENT_COUNT is not: set both, or neither for the whole plan`},
		{name: "job index without count", vars: map[string]string{EnvJobCompletionIndex: "0"},
			err: `loadgen: JOB_COMPLETION_INDEX is set ("0") but STAMPEDE_SEGMENT_COUNT is not: set both, or neither for the whole plan`},
		{name: "count without index", vars: map[string]string{EnvSegmentCount: "4"},
			err: `loadgen: STAMPEDE_SEGMENT_COUNT is set ("4") but neither STAMPEDE_SEGMENT_INDEX nor JOB_COMPLETION_INDEX is: set both, or neither for the whole plan`},
		{name: "index out of range", vars: map[string]string{EnvSegmentIndex: "4", EnvSegmentCount: "4"},
			err: `loadgen: STAMPEDE_SEGMENT_INDEX must be an integer in [0, 4) (0-based, STAMPEDE_SEGMENT_COUNT is 4), got "4"`},
		{name: "job index out of range", vars: map[string]string{EnvJobCompletionIndex: "7", EnvSegmentCount: "4"},
			err: `loadgen: JOB_COMPLETION_INDEX must be an integer in [0, 4) (0-based, STAMPEDE_SEGMENT_COUNT is 4), got "7"`},
		{name: "negative index", vars: map[string]string{EnvSegmentIndex: "-1", EnvSegmentCount: "4"},
			err: `loadgen: STAMPEDE_SEGMENT_INDEX must be an integer in [0, 4) (0-based, STAMPEDE_SEGMENT_COUNT is 4), got "-1"`},
		{name: "1-based by mistake", vars: map[string]string{EnvSegmentIndex: "2/4", EnvSegmentCount: "4"},
			err: `loadgen: STAMPEDE_SEGMENT_INDEX must be an integer in [0, 4) (0-based, STAMPEDE_SEGMENT_COUNT is 4), got "2/4"`},
		{name: "zero count", vars: map[string]string{EnvSegmentIndex: "0", EnvSegmentCount: "0"},
			err: `loadgen: STAMPEDE_SEGMENT_COUNT must be an integer >= 1, got "0"`},
		{name: "bad count", vars: map[string]string{EnvSegmentIndex: "0", EnvSegmentCount: "four"},
			err: `loadgen: STAMPEDE_SEGMENT_COUNT must be an integer >= 1, got "four"`},
		{name: "count overflow", vars: map[string]string{EnvSegmentIndex: "0", EnvSegmentCount: "99999999999999999999"},
			err: `loadgen: STAMPEDE_SEGMENT_COUNT must be an integer >= 1, got "99999999999999999999"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := segmentFromEnv(env(tc.vars))
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestStartAtFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars map[string]string
		want time.Time
		err  string
	}{
		{name: "unset", want: time.Time{}},
		{name: "empty", vars: map[string]string{EnvStartAt: ""}, want: time.Time{}},
		{name: "utc", vars: map[string]string{EnvStartAt: "2026-05-01T12:00:00Z"}, want: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		{name: "offset and fraction", vars: map[string]string{EnvStartAt: "2026-05-01T14:00:00.25+02:00"},
			want: time.Date(2026, 5, 1, 12, 0, 0, 250e6, time.UTC)},
		{name: "no zone", vars: map[string]string{EnvStartAt: "2026-05-01T12:00:00"},
			err: `loadgen: STAMPEDE_START_AT must be an RFC 3339 time such as "2026-05-01T12:00:00Z", got "2026-05-01T12:00:00"`},
		{name: "unix seconds", vars: map[string]string{EnvStartAt: "1777636800"},
			err: `loadgen: STAMPEDE_START_AT must be an RFC 3339 time such as "2026-05-01T12:00:00Z", got "1777636800"`},
		{name: "placeholder", vars: map[string]string{EnvStartAt: "__START_AT__"},
			err: `loadgen: STAMPEDE_START_AT must be an RFC 3339 time such as "2026-05-01T12:00:00Z", got "__START_AT__"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := startAtFromEnv(env(tc.vars))
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tc.want.Equal(got), "want %v, got %v", tc.want, got)
		})
	}
}

// TestSegmentSharesExact complements TestSegmentShares (which checks that
// shares sum to the whole) with each segment's exact share of odd splits.
func TestSegmentSharesExact(t *testing.T) {
	for _, tc := range []struct {
		name     string
		n, count int
		want     []int
	}{
		{name: "7 VUs over 3", n: 7, count: 3, want: []int{2, 2, 3}},
		{name: "1000/s over 6", n: 1000, count: 6, want: []int{166, 167, 167, 166, 167, 167}},
		{name: "7 VUs over 4", n: 7, count: 4, want: []int{1, 2, 2, 2}},
		{name: "3 VUs over 4", n: 3, count: 4, want: []int{0, 1, 1, 1}},
		{name: "1 over 4", n: 1, count: 4, want: []int{0, 0, 0, 1}},
		{name: "whole", n: 7, count: 1, want: []int{7}},
		{name: "overflow-safe", n: 1 << 62, count: 3, want: []int{1537228672809129301, 1537228672809129301, 1537228672809129302}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]int, tc.count)
			for i := range tc.count {
				got[i] = Segment{Index: i, Count: tc.count}.Share(tc.n)
			}
			assert.Equal(t, tc.want, got)
		})
	}
	// Ramp stages over 4: at every ms each segment holds floor or ceil of
	// a quarter of the whole, so no segment is ever more than one VU off.
	stages := []Stage{{3 * time.Second, 17}, {2 * time.Second, 5}, {time.Second, 0}}
	for at := time.Duration(0); at < 6*time.Second; at += time.Millisecond {
		whole, _ := rampAt(3, stages, at)
		for i := range 4 {
			s := Segment{Index: i, Count: 4}.Share(whole)
			require.True(t, s == whole/4 || s == (whole+3)/4, "segment %d at %v: share %d of %d", i, at, s, whole)
		}
	}
}

// TestSegmentArrivalsDealtInTurn checks that open-model arrivals are dealt
// out in turn: over the segments, every arrival of the whole schedule
// appears exactly once, at the same offset, and the segments' counts
// differ by at most one.
func TestSegmentArrivalsDealtInTurn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ramp  rateRamp
		count int
		want  []int // arrivals per segment
	}{
		{name: "1000/s for 1s over 6", count: 6, want: []int{167, 167, 167, 167, 166, 166},
			ramp: rateRamp{start: 1000 / float64(time.Second), per: time.Second, stages: []Stage{{time.Second, 1000}}}},
		{name: "7/s for 1s over 3", count: 3, want: []int{3, 2, 2},
			ramp: rateRamp{start: 7 / float64(time.Second), per: time.Second, stages: []Stage{{time.Second, 7}}}},
		{name: "ramp 0 to 100/s over 2s, down to 30/s over 1s, over 4", count: 4, want: []int{42, 41, 41, 41},
			ramp: rateRamp{per: time.Second, stages: []Stage{{2 * time.Second, 100}, {time.Second, 30}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type arrival struct {
				n  int64
				at time.Duration
			}
			collect := func(seg Segment) []arrival {
				var out []arrival
				a := newArrivals(tc.ramp, Even, seg)
				for {
					n, at, ok := a.next()
					if !ok {
						return out
					}
					out = append(out, arrival{n, at})
				}
			}
			whole := collect(Segment{})
			got := make([]int, tc.count)
			seen := make([]bool, len(whole))
			for i := range tc.count {
				for _, a := range collect(Segment{Index: i, Count: tc.count}) {
					require.Less(t, a.n, int64(len(whole)), "segment %d: arrival past the whole schedule", i)
					require.False(t, seen[a.n], "arrival %d dealt twice", a.n)
					seen[a.n] = true
					assert.Equal(t, whole[a.n], a, "segment %d: arrival %d", i, a.n)
					assert.Equal(t, int64(i), a.n%int64(tc.count), "arrival %d dealt to segment %d", a.n, i)
					got[i]++
				}
			}
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, seen, false, "every arrival of the whole schedule is dealt")
		})
	}
}
