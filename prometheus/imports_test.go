package stampedeprom_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCoreDoesNotImportExporter checks that no package of the core module
// (the parent directory, this module's directory left out) imports this
// one, so that the core never depends on client_golang.
func TestCoreDoesNotImportExporter(t *testing.T) {
	const self = "github.com/stampede-go/stampede/prometheus"
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == filepath.Join("..", "prometheus") || strings.HasPrefix(d.Name(), ".") && path != ".." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		n++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == self || strings.HasPrefix(p, self+"/") {
				t.Errorf("%s imports %s: the core module must not depend on the exporter", path, p)
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Positive(t, n, "found the core module's files")
}
