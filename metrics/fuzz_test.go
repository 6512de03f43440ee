package metrics

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// FuzzReadSnapshot feeds arbitrary bytes to the decoder: it must never panic, and
// whatever it accepts must encode and decode again to the same snapshot.
func FuzzReadSnapshot(f *testing.F) {
	r, _ := New(Options{Start: t0})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	for i := range 50 {
		r.Shard(i).Record(h, t0, time.Duration(i)*time.Millisecond, Outcome(i%3))
		r.Shard(i).Status(h, t0, 200+i%2)
	}
	r.Observe("g", 1.5)
	r.Finish(t0.Add(time.Second))
	var buf bytes.Buffer
	_ = r.Snapshot().WriteJSON(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":2,"interval_ns":1000000000,"metrics":[]}`))
	if v1, err := os.ReadFile("../testdata/results/v1-fixed.json"); err == nil {
		var file struct{ Metrics json.RawMessage }
		if json.Unmarshal(v1, &file) == nil {
			f.Add([]byte(file.Metrics))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ReadSnapshot(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := s.WriteJSON(&out); err != nil {
			t.Fatalf("accepted input does not encode: %v", err)
		}
		s2, err := ReadSnapshot(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("re-decoding our own encoding: %v\n%s", err, out.Bytes())
		}
		var out2 bytes.Buffer
		_ = s2.WriteJSON(&out2)
		if !bytes.Equal(out.Bytes(), out2.Bytes()) {
			t.Fatalf("encode → decode → encode is not stable")
		}
	})
}

// FuzzMerge merges two snapshots of whatever the decoder accepts: Merge
// must never panic nor allocate far beyond its inputs (two 204-byte
// snapshots with a 1 ns interval and starts a second apart once asked for
// 208 GB), and what it returns must add up and encode.
func FuzzMerge(f *testing.F) {
	r, _ := New(Options{Start: t0})
	h := r.Handle(Key{Scenario: "s", Step: "a", Kind: KindStep})
	for i := range 20 {
		r.Shard(i).Record(h, t0.Add(time.Duration(i)*100*time.Millisecond), time.Duration(i)*time.Millisecond, Outcome(i%3))
	}
	r.Observe("g", 2)
	r.Finish(t0.Add(2 * time.Second))
	var buf bytes.Buffer
	_ = r.Snapshot().WriteJSON(&buf)
	f.Add(buf.Bytes(), buf.Bytes())
	tiny := func(start string) []byte {
		return []byte(`{"version":2,"start":"` + start + `","interval_ns":1,"warmup_ns":0,"metrics":[{"scenario":"s","kind":"iteration","total":{"outcomes":{"ok":1}},"series":[{"start":"` + start + `","outcomes":{"ok":1}}]}]}`)
	}
	f.Add(tiny("2026-01-01T00:00:00Z"), tiny("2026-01-01T00:00:01Z"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		sa, err := ReadSnapshot(bytes.NewReader(a))
		if err != nil {
			return
		}
		sb, err := ReadSnapshot(bytes.NewReader(b))
		if err != nil {
			return
		}
		m, err := Merge(sa, sb)
		if err != nil {
			return
		}
		held := 0
		for _, s := range []*Snapshot{sa, sb} {
			for _, x := range s.Series {
				held += len(x.Points)
			}
			for _, g := range s.Gauges {
				held += len(g.Points)
			}
		}
		made := 0
		for _, x := range m.Series {
			made += len(x.Points)
		}
		for _, g := range m.Gauges {
			made += len(g.Points)
		}
		if made > 2*held+mergeSlack {
			t.Fatalf("%d points made from %d", made, held)
		}
		for _, x := range m.Series {
			var want Counts
			for _, s := range []*Snapshot{sa, sb} {
				if y := s.SeriesOf(x.Key); y != nil {
					want.Add(&y.Total.Outcomes)
				}
			}
			if want != x.Total.Outcomes {
				t.Fatalf("%v: totals %v, want %v", x.Key, x.Total.Outcomes, want)
			}
		}
		var out bytes.Buffer
		if err := m.WriteJSON(&out); err != nil {
			t.Fatalf("a merge does not encode: %v", err)
		}
		if _, err := ReadSnapshot(&out); err != nil {
			t.Fatalf("a merge does not decode: %v", err)
		}
	})
}
