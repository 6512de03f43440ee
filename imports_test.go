package stampede_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const module = "github.com/stampede-go/stampede"

// forbidden lists, per package directory, the imports it must not have, so
// that the layers of the design stay layers: metrics imports no other
// package of the module; loadgen knows nothing of HTTP, scenarios or
// reports; nothing but examples imports report.
var forbidden = map[string][]string{
	"metrics":  {module + "/loadgen", module + "/scenario", module + "/report"},
	"loadgen":  {module + "/scenario", module + "/report", "net/http"},
	"scenario": {module + "/report"},
	"report":   {module + "/scenario"},
	"internal": {module + "/loadgen", module + "/scenario", module + "/report"},
}

func TestForbiddenImports(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		top := strings.Split(filepath.ToSlash(path), "/")[0]
		bad := forbidden[top]
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range bad {
				if p == b || strings.HasPrefix(p, b+"/") {
					t.Errorf("%s imports %s, which %s/ must not", path, p, top)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
