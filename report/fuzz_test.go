package report

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stampede-go/stampede/loadgen"
)

// FuzzRender renders whatever ReadResult accepts every way the package
// can — text, Markdown, HTML, the timeline, the JSON summary, the failure
// report of thresholds and the benchmark format — without a panic (a
// minimal accepted result once panicked WriteHTML), and the JSON summary
// always encodes.
func FuzzRender(f *testing.F) {
	for _, name := range []string{"v2-fixed.json", "v2-http.json", "v1-fixed.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "results", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":2,"plan":{"interval_ns":1000000000,"scenarios":[]},"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:00Z","metrics":{"version":2,"start":"2026-01-01T00:00:00Z","interval_ns":1000000000,"metrics":[]}}`))
	// A scenario that recorded nothing.
	f.Add([]byte(`{"version":2,"plan":{"interval_ns":1000000000,"scenarios":[{"name":"idle"}]},"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","metrics":{"version":2,"start":"2026-01-01T00:00:00Z","interval_ns":1000000000,"metrics":[]}}`))
	ts := MustParseThresholds("p95<1s", "error_rate<1%", "rate>1/s", "status(503)<=0")
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := loadgen.ReadResult(bytes.NewReader(b))
		if err != nil {
			return
		}
		s := Summarize(res)
		vs := Check(res, ts...)
		for _, write := range []func(io.Writer) error{
			s.WriteText, s.WriteMarkdown, s.WriteTimeline,
			func(w io.Writer) error { return s.WriteHTML(w, HTMLOptions{Verdicts: vs}) },
			func(w io.Writer) error { return s.WriteFailure(w, vs) },
			func(w io.Writer) error { return WriteBenchmark(w, "Fuzz", res) },
			vs.WriteText,
		} {
			if err := write(io.Discard); err != nil {
				t.Fatalf("a renderer failed: %v", err)
			}
		}
		if err := s.WriteJSON(io.Discard, vs); err != nil {
			t.Fatalf("the JSON summary does not encode: %v", err)
		}
	})
}
