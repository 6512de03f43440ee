package metrics

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadVersion2 reads the snapshot of a stored version-2 result (every
// point a JSON object) and writes it as version 3 (points in blocks):
// what it holds is the same, to the bucket, and the file is smaller.
func TestReadVersion2(t *testing.T) {
	b, err := os.ReadFile("../testdata/results/v2-http.json")
	require.NoError(t, err)
	var file struct{ Metrics json.RawMessage }
	require.NoError(t, json.Unmarshal(b, &file))
	v2, err := ReadSnapshot(bytes.NewReader(file.Metrics))
	require.NoError(t, err)
	assert.Equal(t, 2, v2.Version)
	var buf bytes.Buffer
	require.NoError(t, v2.WriteJSON(&buf))
	v3, err := ReadSnapshot(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	assert.Equal(t, Version, v3.Version)
	assertSnapshotsEqual(t, v2, v3)
	assert.Less(t, buf.Len(), len(file.Metrics)/2, "version 3 is less than half the size of version 2")
}

// block returns raw as a points block: zlib-compressed, base64.
func block(raw ...byte) string {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write(raw)
	_ = w.Close()
	return base64.StdEncoding.EncodeToString(z.Bytes())
}

// TestPointsBlockErrors: a malformed block is an error saying what is
// wrong, never a panic nor a huge allocation.
func TestPointsBlockErrors(t *testing.T) {
	// One point with a latency of one value in bucket 5, as a well-formed
	// block holds it.
	good := []byte{1, pfOutcomes | pfLatency, 1, byte(OK), 1, 5, 5, 5, 0, 1, 5<<4 | 1}
	pts, err := decodePoints(block(good...), t0, time.Second, nil)
	require.NoError(t, err)
	require.Len(t, pts, 1)
	assert.Equal(t, int64(1), pts[0].Latency.Count())
	assert.Equal(t, t0, pts[0].Start)

	huge := make([]byte, 4<<20) // zeros: inflates 1000-fold
	for _, c := range []struct{ name, block, want string }{
		{"not base64", "%%%", "points must be base64"},
		{"not zlib", base64.StdEncoding.EncodeToString([]byte("plain")), "points must be a zlib stream"},
		{"empty", block(), "points: truncated"},
		{"too many points", block(0xff, 0xff, 0xff, 0xff, 0x0f), "points: 4294967295 points"},
		{"truncated point", block(good[:7]...), "points: point 0: latency: truncated"},
		{"buckets truncated", block(1, pfLatency, 5, 5, 10, 0, 3, 0x80, 0x80, 0x80), "points: point 0: latency: histogram buckets truncated"},
		{"unknown field", block(1, 0x80), "points: point 0: unknown fields 0x80"},
		{"outcome out of range", block(1, pfOutcomes, 1, 13, 1), "outcome 13, want below 13"},
		{"bucket count 0", block(1, pfFailed, 5, 5, 5, 0, 1, 5<<4), "points: point 0: failed: histogram buckets out of order or counts out of range"},
		{"buckets out of order", block(1, pfLatency, 5, 5, 10, 0, 4, 5<<4|1, 0x80, 0, 1), "buckets out of order"},
		{"bucket beyond the geometry", block(1, pfLatency, 5, 5, 5, 0, 5, 0x80, 0xff, 0xff, 0x03, 1), "buckets out of order"},
		{"status descending", block(1, pfStatus, 2, 0xf4, 0x03, 1, 0xc8, 0x01, 1), "status codes must be ascending in 0..65535"},
		{"status out of range", block(1, pfStatus, 1, 0x80, 0x80, 0x04, 1), "a count of 65536, more than 65535"},
		{"bytes after the points", block(append(append([]byte(nil), good...), 0)...), "1 bytes after the last point"},
		{"a bomb", block(huge...), "points inflate to more than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodePoints(c.block, t0, time.Second, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// FuzzDecodePoints feeds arbitrary bytes, compressed, to the block
// decoder: it must never panic, and what it accepts must encode and
// decode to the same block.
func FuzzDecodePoints(f *testing.F) {
	f.Add([]byte{1, pfOutcomes | pfLatency, 1, byte(OK), 1, 5, 5, 5, 0, 1, 5<<4 | 1})
	f.Add([]byte{2, pfStatus | pfSent | pfVUs, 1, 0xc8, 0x01, 3, 9, 2, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		pts, err := decodePoints(block(raw...), t0, time.Second, nil)
		if err != nil {
			return
		}
		b := encodePoints(pts)
		again, err := decodePoints(b, t0, time.Second, nil)
		if err != nil {
			t.Fatalf("re-decoding our own block: %v", err)
		}
		if encodePoints(again) != b {
			t.Fatal("decode → encode → decode is not stable")
		}
	})
}

// TestBlocksShareOneBudget: blocks of empty points compress a
// thousandfold; ten series of a week's worth each, 6 million points from a
// file of a few kilobytes, are refused, the budget being the snapshot's,
// not each block's.
func TestBlocksShareOneBudget(t *testing.T) {
	week := append(binary.AppendUvarint(nil, MaxIntervals), make([]byte, MaxIntervals)...) // every point empty
	b := block(week...)
	var js strings.Builder
	js.WriteString(`{"version":3,"start":"2026-01-01T00:00:00Z","interval_ns":1000000000,"warmup_ns":0,"metrics":[`)
	for i := range 10 {
		if i > 0 {
			js.WriteString(",")
		}
		fmt.Fprintf(&js, `{"scenario":"s%d","kind":"iteration","total":{"outcomes":{}},"points":%q}`, i, b)
	}
	js.WriteString("]}")
	assert.Less(t, js.Len(), 20_000, "a small file")
	_, err := ReadSnapshot(strings.NewReader(js.String()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "points: 604800 points, more than the ")
	assert.Contains(t, err.Error(), " left to the snapshot's blocks (1048576, and 16 a byte of their compressed size)")

	one := strings.Replace(js.String(), `,{"scenario":"s1"`, `]}`+"\x00"+`{"scenario":"s1"`, 1)
	one = one[:strings.Index(one, "\x00")]
	s, err := ReadSnapshot(strings.NewReader(one))
	require.NoError(t, err, "one such series fits the free allowance")
	assert.Len(t, s.Series[0].Points, MaxIntervals)
}
