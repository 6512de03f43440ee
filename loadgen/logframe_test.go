package loadgen

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collect returns the results LogResults finds in log, and its error.
func collect(log string) ([]*Result, error) {
	var out []*Result
	for r, err := range LogResults(strings.NewReader(log)) {
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

func encoded(t *testing.T, r *Result) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.WriteJSON(&b))
	return b.String()
}

// TestLogResults writes the results of three segments to logs as
// WriteLog does and reads them back from what `kubectl logs` prints for a
// label selector: one pod's log after another among other lines, or
// interleaved line by line with --prefix and --timestamps. Each reads
// back to the same bytes and the three merge.
func TestLogResults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		segs := []Segment{{Index: 0, Count: 3}, {Index: 1, Count: 3}, {Index: 2, Count: 3}}
		rs := runSegments(t, 30, time.Now().Add(time.Second), segs...)
		logs := make([][]string, len(rs))
		for i, r := range rs {
			var b bytes.Buffer
			fmt.Fprintf(&b, "segment %v: starting at ...\n", r.Segment)
			require.NoError(t, r.WriteLog(&b))
			fmt.Fprintf(&b, "segment %v: 10 iterations; result written to the log\n", r.Segment)
			logs[i] = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			assert.Less(t, len(b.String()), len(encoded(t, r)), "the block is smaller than the JSON")
		}
		check := func(name, log string) {
			got, err := collect(log)
			require.NoError(t, err, name)
			require.Len(t, got, 3, name)
			var m Merger
			for i, r := range got {
				assert.Equal(t, encoded(t, rs[i]), encoded(t, r), "%s: result %d", name, i)
				require.NoError(t, m.Add(r))
			}
			merged, err := m.Result()
			require.NoError(t, err)
			assert.Equal(t, int64(30), merged.Iterations("rate").Count())
		}
		var seq strings.Builder
		for _, l := range logs {
			seq.WriteString(strings.Join(l, "\n") + "\n")
		}
		check("one after another", seq.String())
		var mixed strings.Builder
		for j := 0; ; j++ {
			any := false
			for i, l := range logs {
				if j < len(l) {
					fmt.Fprintf(&mixed, "[pod/stampede-%d-x/loadtest] 2026-12-04T10:00:0%d.123456789Z %s\r\n", i, j%10, l[j])
					any = true
				}
			}
			if !any {
				break
			}
		}
		check("interleaved with prefixes and timestamps", mixed.String())

		// What goes wrong says where.
		one := strings.Join(logs[1], "\n") + "\n"
		lines := logs[1]
		_, err := collect(strings.Join(lines[:len(lines)-3], "\n"))
		assert.EqualError(t, err, "loadgen: the result block of log line 2 (segment 2/3) has no end line: the log ends inside it (cut short, or rotated?)")
		cut := append(append([]string(nil), lines[:3]...), lines[4:]...)
		_, err = collect(strings.Join(cut, "\n"))
		assert.ErrorContains(t, err, "loadgen: the result block of log line 2 (segment 2/3): ")
		swapped := strings.Replace(one, lines[2], strings.ToUpper(lines[2][:4])+lines[2][4:], 1)
		if swapped != one {
			_, err = collect(swapped)
			assert.ErrorContains(t, err, "loadgen: the result block of log line 2 (segment 2/3)")
		}
		other := logs[0][len(logs[0])-2] // segment 1's end line, its checksum
		_, err = collect(strings.Join(append(append([]string(nil), lines[:len(lines)-2]...), other), "\n"))
		assert.EqualError(t, err, "loadgen: the result block of log line 2 (segment 2/3): its checksum does not match: lines are missing or changed")
		_, err = collect(lines[1] + "\n" + one)
		assert.EqualError(t, err, "loadgen: log line 3: the result block of line 1 (segment 2/3) ends without its end line (cut short?)")
		got, err := collect("nothing here\n" + lines[len(lines)-2] + "\n")
		assert.NoError(t, err, "an end whose beginning the log lost is skipped")
		assert.Empty(t, got)

		// A word of the process's own inside a block is skipped.
		stray := append(append(append([]string(nil), lines[:3]...), "done"), lines[3:]...)
		got, err = collect(strings.Join(stray, "\n"))
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, encoded(t, rs[1]), encoded(t, got[0]))

		// After a block cut short, the blocks that follow still read.
		var errs []error
		var after []*Result
		for r, err := range LogResults(strings.NewReader(strings.Join(lines[:len(lines)-3], "\n") + "\n" + strings.Join(logs[2], "\n"))) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			after = append(after, r)
		}
		require.Len(t, errs, 1)
		assert.ErrorContains(t, errs[0], "the result block of line 2 (segment 2/3) ends without its end line")
		require.Len(t, after, 1)
		assert.Equal(t, encoded(t, rs[2]), encoded(t, after[0]))
	})
}
