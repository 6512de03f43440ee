package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// failures is a testing.TB that keeps its errors instead of failing.
type failures struct {
	testing.TB
	errs []string
}

func (f *failures) Helper() {}
func (f *failures) Errorf(format string, a ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, a...))
}

func TestCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "a.txt"), []byte("same"), 0o644); err != nil {
		t.Fatal(err)
	}
	Check(t, "a.txt", []byte("same"))
	if _, err := os.Stat(filepath.Join("testdata", "a.txt.got")); !os.IsNotExist(err) {
		t.Errorf("a match writes no .got file")
	}
	f := &failures{TB: t}
	Check(f, "a.txt", []byte("other"))
	if len(f.errs) != 1 || !strings.Contains(f.errs[0], "a.txt differs from the golden file") {
		t.Errorf("a mismatch fails once, saying which file: %q", f.errs)
	}
	got, err := os.ReadFile(filepath.Join("testdata", "a.txt.got"))
	if err != nil || string(got) != "other" {
		t.Errorf("a mismatch writes what was got beside the golden file: %q, %v", got, err)
	}
}
