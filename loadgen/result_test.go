package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzMerge merges pairs of whatever ReadResult accepts, seeded with the
// stored results and with segments 1/2 and 2/2 of one: it must never
// panic (a segment {"index":7,"count":2} once did) nor exhaust memory (two
// 2.8 kB files once asked for 208 GB), and a merge must encode and read
// back.
func FuzzMerge(f *testing.F) {
	for _, name := range []string{"v2-fixed.json", "v2-http.json", "v1-fixed.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "results", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, b)
		seg := func(i int) []byte {
			return bytes.Replace(b, []byte("\"segment\": {\n  \"index\": 0,\n  \"count\": 0\n }"), fmt.Appendf(nil, `"segment":{"index":%d,"count":2}`, i), 1)
		}
		if bytes.Equal(seg(0), b) {
			f.Fatalf("%s: no segment to replace", name)
		}
		f.Add(seg(0), seg(1))
		f.Add(seg(7), seg(1))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ra, err := ReadResult(bytes.NewReader(a))
		if err != nil {
			return
		}
		rb, err := ReadResult(bytes.NewReader(b))
		if err != nil {
			return
		}
		m, err := Merge(ra, rb)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := m.WriteJSON(&out); err != nil {
			t.Fatalf("a merge does not encode: %v", err)
		}
		if _, err := ReadResult(&out); err != nil {
			t.Fatalf("a merge does not read back: %v", err)
		}
	})
}

// TestReadAndMergeRefuseBadFiles: a segment out of range (it once made
// Merge panic: index out of range), negative durations and negative counts
// are refused when a result is read, naming the field.
func TestReadAndMergeRefuseBadFiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "results", "v2-fixed.json"))
	require.NoError(t, err)
	for _, tc := range []struct{ from, to, want string }{
		{"\"segment\": {\n  \"index\": 0,\n  \"count\": 0\n }", `"segment":{"index":7,"count":2}`, "Segment.Index must be in [0, 2), got 7"},
		{`"duration_ns": 600000000000`, `"duration_ns": -1`, "plan duration_ns must be >= 0, got -1"},
		{`"start": "2000-01-01T00:00:00Z",`, `"start": "2000-01-01T00:00:00Z", "more_panics": -1,`, "more_panics must be >= 0, got -1"},
	} {
		bad := bytes.Replace(b, []byte(tc.from), []byte(tc.to), 1)
		require.NotEqual(t, b, bad, tc.from)
		_, err := ReadResult(bytes.NewReader(bad))
		assert.ErrorContains(t, err, tc.want)
	}
	res, err := ReadResult(bytes.NewReader(b))
	require.NoError(t, err)
	odd := *res
	odd.Segment = Segment{Index: 7, Count: 2}
	_, err = Merge(res, &odd)
	assert.Error(t, err, "no panic")
}

// TestMergeRefusesSegmentsOfDifferentRuns: segment 1/2 of one run and
// segment 2/2 of a run of the same plan started 3 s later once merged into
// a 4 s result of a 1 s plan. Segments of one run share Plan.StartAt, and
// so their Start.
// segmentPlan is one segment of a 1 s open model of rate arrivals, all
// segments starting at startAt.
func segmentPlan(rate int, seg Segment, startAt time.Time) *Plan {
	return &Plan{Segment: seg, StartAt: startAt, Scenarios: []Scenario{
		{Name: "rate", Executor: ConstantRate{Rate: rate, Duration: time.Second, MaxVUs: 2}, Iteration: noop},
	}}
}

// runSegments runs the given segments of segmentPlan(rate) side by side,
// starting together at startAt, and returns their results in order.
func runSegments(t *testing.T, rate int, startAt time.Time, segs ...Segment) []*Result {
	out := make([]*Result, len(segs))
	var wg sync.WaitGroup
	for i, s := range segs {
		wg.Go(func() { out[i] = run(t, segmentPlan(rate, s, startAt)) })
	}
	wg.Wait()
	return out
}

func TestMergeRefusesSegmentsOfDifferentRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plan := func(seg Segment, startAt time.Time) *Plan { return segmentPlan(10, seg, startAt) }
		at := time.Now().Add(time.Second)
		rs := runSegments(t, 10, at, Segment{Index: 0, Count: 2}, Segment{Index: 1, Count: 2})
		first, second := rs[0], rs[1]
		m, err := Merge(first, second)
		require.NoError(t, err, "the two segments of one run merge")
		assert.True(t, m.Start.Equal(at))
		assert.Equal(t, []SegmentRecord{{Segment: first.Segment, End: first.End}, {Segment: second.Segment, End: second.End}}, m.Segments, "a merged run says what it is made of")
		assert.False(t, m.Partial())
		_, err = Merge(m)
		assert.ErrorContains(t, err, "result 0 is itself a merge of segments")
		assert.Equal(t, int64(10), m.Iterations("rate").Count())
		assert.Equal(t, time.Second, m.Duration())

		later := run(t, plan(Segment{Index: 1, Count: 2}, at.Add(3*time.Second)))
		_, err = Merge(first, later)
		require.Error(t, err)
		assert.Equal(t, fmt.Sprintf("loadgen: result 1 (segment 2/2) started at %s, the first (segment 1/2) at %s: "+
			"segments of one run start together (give every segment the same Plan.StartAt)",
			at.Add(3*time.Second).UTC().Format(time.RFC3339Nano), at.UTC().Format(time.RFC3339Nano)), err.Error())
		_, err = Merge(later, first)
		assert.ErrorContains(t, err, "result 1 (segment 1/2) started at "+at.UTC().Format(time.RFC3339Nano))
		var mr Merger
		assert.ErrorContains(t, mr.Add(&Result{Segment: Segment{Count: SegmentLimit + 1}, Metrics: first.Metrics}),
			"loadgen: Segment.Count must be between 0 and 100000 (SegmentLimit), got 100001 (result 0)", "a count beyond the limit is refused, not allocated")
	})
}

// TestMergePartial: a run of three segments whose second is lost merges,
// when asked, from the two it has, and says which is missing; Merge
// refuses it, naming the segment and the way out. A segment given twice
// is refused either way.
func TestMergePartial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rs := runSegments(t, 30, time.Now().Add(time.Second), Segment{Index: 0, Count: 3}, Segment{Index: 2, Count: 3})
		a, c := rs[0], rs[1]
		_, err := Merge(a, c)
		assert.EqualError(t, err, "loadgen: results are segments of 3, got 2 results")
		m, err := MergePartial(c, a)
		require.NoError(t, err)
		assert.True(t, m.Partial())
		assert.Equal(t, []Segment{{Index: 1, Count: 3}}, m.Missing)
		assert.Equal(t, []Segment{{Index: 0, Count: 3}, {Index: 2, Count: 3}}, segmentsOf(m.Segments), "by index")
		assert.Equal(t, int64(20), m.Iterations("rate").Count(), "two thirds of the 30 arrivals")
		var buf bytes.Buffer
		require.NoError(t, m.WriteJSON(&buf))
		back, err := ReadResult(&buf)
		require.NoError(t, err)
		assert.Equal(t, m.Missing, back.Missing)
		_, err = MergePartial(a, a)
		assert.EqualError(t, err, "loadgen: segment 1/3 appears twice")

		// A file whose segments do not make one split is refused.
		bad := *m
		bad.Missing = []Segment{{Index: 2, Count: 3}}
		assert.ErrorContains(t, bad.validate(), "missing[0] (3/3) is listed twice")
		bad.Missing = nil
		assert.ErrorContains(t, bad.validate(), "segments and missing must cover all 3 segments, got 2")
		bad.Missing = []Segment{{Index: 1, Count: 4}}
		assert.ErrorContains(t, bad.validate(), "missing[0] must be a segment of 3, got 2/4")
	})
}

func segmentsOf(rs []SegmentRecord) []Segment {
	out := make([]Segment, len(rs))
	for i, r := range rs {
		out[i] = r.Segment
	}
	return out
}

// TestMergerStreams adds the segments of a run one at a time, as a
// program reading their files would: a refused result (a segment given
// twice, a result of another plan) leaves the merge as it was, and the
// result is Merge's, byte for byte; asked before every segment is in, it
// names the missing one, or merges without it when asked to.
func TestMergerStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		segs := []Segment{{Index: 0, Count: 3}, {Index: 1, Count: 3}, {Index: 2, Count: 3}}
		at := time.Now().Add(time.Second)
		rs := runSegments(t, 30, at, segs...)
		var m Merger
		require.NoError(t, m.Add(rs[2]))
		require.NoError(t, m.Add(rs[0]))
		_, err := m.Result()
		assert.EqualError(t, err, "loadgen: segment 2/3 is missing (MergePartial merges without it)")
		part, err := m.PartialResult()
		require.NoError(t, err)
		assert.Equal(t, []Segment{{Index: 1, Count: 3}}, part.Missing)
		assert.EqualError(t, m.Add(rs[0]), "loadgen: segment 1/3 appears twice")
		other := run(t, &Plan{Segment: segs[1], StartAt: time.Now().Add(time.Second), Scenarios: []Scenario{
			{Name: "rate", Executor: ConstantRate{Rate: 31, Duration: time.Second, MaxVUs: 2}, Iteration: noop},
		}})
		assert.EqualError(t, m.Add(other), "loadgen: result 3 (segment 2/3) ran a different plan than the first (segment 3/3)", "results numbered as given, the refused one too")
		require.NoError(t, m.Add(rs[1]))
		got, err := m.Result()
		require.NoError(t, err)
		want, err := Merge(rs...)
		require.NoError(t, err)
		var a, b bytes.Buffer
		require.NoError(t, want.WriteJSON(&a))
		require.NoError(t, got.WriteJSON(&b))
		assert.Equal(t, a.String(), b.String())
		assert.Equal(t, int64(30), got.Iterations("rate").Count())
		assert.Equal(t, int64(20), part.Iterations("rate").Count(), "the partial result taken before stays as it was")
	})
}
