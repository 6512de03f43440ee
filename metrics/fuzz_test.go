package metrics

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// FuzzReadJSON feeds arbitrary bytes to the decoder: it must never panic, and
// whatever it accepts must encode and decode again to the same snapshot.
func FuzzReadJSON(f *testing.F) {
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
		s, err := ReadJSON(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := s.WriteJSON(&out); err != nil {
			t.Fatalf("accepted input does not encode: %v", err)
		}
		s2, err := ReadJSON(bytes.NewReader(out.Bytes()))
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
