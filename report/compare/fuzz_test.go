package compare

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
)

// FuzzRenderComparison compares whatever ReadResult accepts with itself
// and renders the comparison every way: no panic (the comparison page once
// dereferenced nil on a minimal accepted result).
func FuzzRenderComparison(f *testing.F) {
	for _, name := range []string{"v2-fixed.json", "v2-http.json", "v1-fixed.json"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "results", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":2,"plan":{"interval_ns":1000000000,"scenarios":[]},"start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:00Z","metrics":{"version":2,"start":"2026-01-01T00:00:00Z","interval_ns":1000000000,"metrics":[]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := loadgen.ReadResult(bytes.NewReader(b))
		if err != nil {
			return
		}
		c, err := Compare([]*loadgen.Result{res, res}, []*loadgen.Result{res, res})
		if err != nil {
			return
		}
		for _, write := range []func(io.Writer) error{c.WriteText, c.WriteMarkdown, c.WriteJSON, func(w io.Writer) error { return c.WriteHTML(w, report.HTMLOptions{}) }} {
			if err := write(io.Discard); err != nil {
				t.Fatalf("a renderer failed: %v", err)
			}
		}
	})
}
