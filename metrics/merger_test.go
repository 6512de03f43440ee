package metrics

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMergerEqualsRecordingTheUnion adds 300 parts one at a time, every
// other one a few hundred values over three intervals and the others
// three: the waiting buckets join the merged histograms many times, and
// some wait until the end. The merge equals one
// recorder that recorded every value, bucket for bucket, and Merge of all
// the parts at once.
func TestMergerEqualsRecordingTheUnion(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	k := Key{Scenario: "s", Step: "x", Kind: KindStep}
	both := newRec(t, Options{Warmup: time.Second})
	var m Merger
	var parts []*Snapshot
	for p := range 300 {
		r := newRec(t, Options{Warmup: time.Second})
		n := 3
		if p%2 == 0 {
			n = 200 + p
		}
		for i := range n {
			d := time.Duration(rng.ExpFloat64() * float64(time.Duration(1+p%7)*time.Millisecond))
			o := OK
			if i%31 == 0 {
				o = Timeout
			}
			when := at(time.Duration(rng.IntN(3000)) * time.Millisecond)
			for _, r := range []*Recorder{r, both} {
				r.Shard(i).Record(r.Handle(k), when, d, o)
				r.Shard(i).Status(r.Handle(k), when, 200+100*(i%4))
				r.Shard(i).AddBytes(r.Handle(k), when, 1, int64(i))
			}
		}
		r.Observe("g", float64(p))
		both.Observe("g", float64(p))
		r.Finish(at(3 * time.Second))
		s := r.Snapshot()
		parts = append(parts, s)
		require.NoError(t, m.Add(s))
	}
	both.Finish(at(3 * time.Second))
	got, err := m.Snapshot()
	require.NoError(t, err)
	want := both.Snapshot()
	assertSnapshotsEqual(t, want, got)
	all, err := Merge(parts...)
	require.NoError(t, err)
	var a, b bytes.Buffer
	require.NoError(t, all.WriteJSON(&a))
	require.NoError(t, got.WriteJSON(&b))
	assert.Equal(t, a.String(), b.String(), "Merger and Merge agree")
}

// TestMergerRefusesAndKeepsItsMerge: a snapshot Add refuses leaves the
// merge so far as it was, a part far from what was added before is
// refused before anything grows, and errors number the snapshots in the
// order they were given, refused ones too.
func TestMergerRefusesAndKeepsItsMerge(t *testing.T) {
	k := Key{Scenario: "s", Kind: KindIteration}
	one := func(o Options, start time.Time) *Snapshot {
		o.Start = start
		r := newRec(t, o)
		r.Shard(0).Record(r.Handle(k), start, time.Millisecond, OK)
		r.Finish(start.Add(time.Second))
		return r.Snapshot()
	}
	var m Merger
	_, err := m.Snapshot()
	assert.EqualError(t, err, "metrics: Merge needs at least one snapshot")
	assert.EqualError(t, m.Add(nil), "metrics: snapshot 0 is nil")
	require.NoError(t, m.Add(one(Options{}, t0)))
	before, err := m.Snapshot()
	require.NoError(t, err)
	for _, c := range []struct {
		s    *Snapshot
		want string
	}{
		{one(Options{Interval: 2 * time.Second}, t0), "metrics: snapshot 2 has interval 2s, the first has 1s"},
		{one(Options{Warmup: time.Second}, t0), "metrics: snapshot 3 has warm-up 1s, the first has 0s"},
		{one(Options{}, at(1500*time.Millisecond)), "metrics: snapshot 4 starts 1.5s after the first, not a whole number of 1s intervals"},
		{one(Options{}, at(24*time.Hour)), "metrics: the snapshots hold 2 points but their merge would make 86401"},
		{&Snapshot{}, "metrics: snapshot 6: interval_ns must be > 0, got 0"},
	} {
		assert.ErrorContains(t, m.Add(c.s), c.want)
	}
	after, err := m.Snapshot()
	require.NoError(t, err)
	assertSnapshotsEqual(t, before, after)
	require.NoError(t, m.Add(one(Options{}, at(-time.Second))), "an earlier part widens the grid")
	got, err := m.Snapshot()
	require.NoError(t, err)
	assert.True(t, got.Start.Equal(at(-time.Second)))
	assert.Equal(t, []int64{1, 1}, []int64{got.Series[0].Points[0].Count(), got.Series[0].Points[1].Count()})
	assert.Equal(t, int64(1), before.Series[0].Points[0].Count(), "an earlier snapshot stays as it was")
}
