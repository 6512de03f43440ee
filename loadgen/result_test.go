package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

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
