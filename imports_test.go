package stampede_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const module = "github.com/stampede-go/stampede"

// allowed lists, for every package of the module (by directory), the
// packages of the module it may import: an allowlist, so that a new edge is
// a deliberate edit here. The layers of the design: metrics imports no
// other package of the module; loadgen knows nothing of HTTP, scenarios or
// reports; nothing but examples imports report; internal packages import
// the standard library and metrics only (report/internal is report's own:
// runchart sits below report, thresholds above it, shared by the pages of
// compare and capacity);
// the HTTP/1.1 codec (internal/wire) imports nothing of the module, and
// only scenario imports it; the engine's clock (internal/clock) imports
// nothing of the module either, and loadgen and scenario read it. The
// benchmarks' target (bench/target) stands alone. Examples may import
// anything.
var allowed = map[string][]string{
	"":                           nil,
	"metrics":                    {"internal/jsonfmt"},
	"loadgen":                    {"metrics", "internal/clock", "internal/jsonfmt", "internal/proc", "internal/save"},
	"scenario":                   {"loadgen", "metrics", "internal/clock", "internal/wire"},
	"report":                     {"loadgen", "metrics", "internal/chart", "internal/format", "internal/page", "internal/save", "internal/table", "report/internal/runchart"},
	"report/compare":             {"loadgen", "metrics", "report", "internal/chart", "internal/format", "internal/page", "internal/save", "internal/table", "report/internal/runchart", "report/internal/thresholds"},
	"report/reporttest":          {"loadgen", "report", "report/compare"},
	"report/capacity":            {"loadgen", "metrics", "report", "report/compare", "internal/chart", "internal/format", "internal/page", "internal/save", "internal/table", "report/internal/thresholds"},
	"report/cli":                 {"loadgen", "report", "report/compare", "internal/save"},
	"report/internal/runchart":   {"loadgen", "metrics", "internal/chart", "internal/format"},
	"report/internal/thresholds": {"report", "internal/page", "internal/table"},
	"internal/chart":             {"metrics"},
	"internal/clock":             nil,
	"internal/demo":              {"internal/memnet"},
	"internal/format":            {"metrics"},
	"internal/golden":            nil,
	"internal/htmltest":          nil,
	"internal/jsonfmt":           nil,
	"internal/memnet":            nil,
	"internal/page":              {"internal/chart", "internal/table"},
	"internal/proc":              nil,
	"internal/save":              nil,
	"internal/table":             nil,
	"internal/wire":              nil,
	"bench/target":               nil,
}

// forbiddenStd lists standard packages a package must not import.
var forbiddenStd = map[string][]string{
	"loadgen": {"net/http"},
	"metrics": {"net/http"},
}

func TestImportsFollowTheLayers(t *testing.T) {
	fset := token.NewFileSet()
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			dir = ""
		}
		if strings.HasPrefix(dir, "examples/") || dir == "prometheus" || strings.HasPrefix(dir, "prometheus/") || dir == "grpc" || strings.HasPrefix(dir, "grpc/") || dir == "ws" || strings.HasPrefix(dir, "ws/") {
			return nil // examples import anything; prometheus, grpc and ws are modules of their own
		}
		seen[dir] = true
		ok, known := allowed[dir]
		if !known {
			t.Errorf("%s: package %q is not in the allowlist of imports_test.go; add it deliberately", path, dir)
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rel, in := strings.CutPrefix(p, module+"/"); in {
				if !slices.Contains(ok, rel) {
					t.Errorf("%s imports %s, which %q may not (allowed: %v)", path, p, dir, ok)
				}
			} else if slices.Contains(forbiddenStd[dir], p) {
				t.Errorf("%s imports %s, which %q must not", path, p, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range allowed {
		if !seen[dir] {
			t.Errorf("imports_test.go allows imports for %q, which has no Go files: remove it", dir)
		}
	}
}

// TestTestingIsNotLinked: a program that uses the engine, journeys,
// summaries, thresholds and comparisons does not link package testing;
// only report/reporttest, the go test helpers, does.
func TestTestingIsNotLinked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, pkg := range []string{"./metrics", "./loadgen", "./scenario", "./report", "./report/compare"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == "testing" || strings.HasPrefix(dep, "testing/") {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}
