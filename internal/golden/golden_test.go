package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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
func (f *failures) Fatalf(format string, a ...any) {
	f.Errorf(format, a...)
	runtime.Goexit()
}

// run calls f on a goroutine of its own, so that a Fatalf ends only it.
func run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// write creates the files (path: content) under the current directory.
func write(t *testing.T, files map[string]string) {
	t.Helper()
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// forgetReads empties the record of golden files read, for the test, and
// puts the test binary's back afterwards.
func forgetReads(t *testing.T) {
	read.Lock()
	saved := read.paths
	read.paths = nil
	read.Unlock()
	t.Cleanup(func() {
		read.Lock()
		read.paths = saved
		read.Unlock()
	})
}

func TestCheck(t *testing.T) {
	t.Chdir(t.TempDir())
	forgetReads(t)
	write(t, map[string]string{"testdata/a.golden.txt": "same"})
	Check(t, "a.golden.txt", []byte("same"))
	if _, err := os.Stat(filepath.Join("testdata", "a.golden.txt.got")); !os.IsNotExist(err) {
		t.Errorf("a match writes no .got file")
	}
	f := &failures{TB: t}
	Check(f, "a.golden.txt", []byte("other"))
	if len(f.errs) != 1 || !strings.Contains(f.errs[0], "a.golden.txt differs from the golden file") {
		t.Errorf("a mismatch fails once, saying which file: %q", f.errs)
	}
	got, err := os.ReadFile(filepath.Join("testdata", "a.golden.txt.got"))
	if err != nil || string(got) != "other" {
		t.Errorf("a mismatch writes what was got beside the golden file: %q, %v", got, err)
	}

	f = &failures{TB: t}
	run(func() { Check(f, "a.txt", []byte("same")) })
	if len(f.errs) != 1 || !strings.Contains(f.errs[0], `"a.txt" is not named <name>.golden.<ext>`) {
		t.Errorf("a name the orphan check would not see is refused: %q", f.errs)
	}
}

// mFunc is a TestMain's M whose tests are f.
type mFunc func() int

func (f mFunc) Run() int { return f() }

// flags returns the lookup of a test binary's flags, set to args.
func flags(t *testing.T, args ...string) func(string) *flag.Flag {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	for _, name := range []string{"test.run", "test.skip", "test.list", "test.fuzz"} {
		fs.String(name, "", "")
	}
	fs.Bool("test.short", false, "")
	fs.Bool("test.fuzzworker", false, "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs.Lookup
}

// TestNoOrphans: after tests that pass and all ran, a golden file of
// testdata that no Check read fails the binary, named; other files of
// testdata and .got files are not golden files.
func TestNoOrphans(t *testing.T) {
	t.Chdir(t.TempDir())
	var out bytes.Buffer
	stderr = &out
	t.Cleanup(func() { stderr = os.Stderr })
	write(t, map[string]string{
		"testdata/a.golden.txt":       "a",
		"testdata/b.golden.md":        "b",
		"testdata/sub/c.golden.json":  "c",
		"testdata/d.golden":           "d",
		"testdata/input.json":         "{}",
		"testdata/a.golden.txt.got":   "x",
		"testdata/notes.golden.txt.x": "not a golden file either",
	})
	some := func(t *testing.T) int { Check(t, "a.golden.txt", []byte("a")); return 0 }
	all := func(t *testing.T) int {
		Check(t, "a.golden.txt", []byte("a"))
		Check(t, "b.golden.md", []byte("b"))
		Check(t, filepath.Join("sub", "c.golden.json"), []byte("c"))
		Check(t, "d.golden", []byte("d"))
		return 0
	}
	failed := func(*testing.T) int { return 3 }
	for _, tc := range []struct {
		name string
		m    func(t *testing.T) int // the tests
		args []string
		code int
		says string
	}{
		{"orphans", some, nil, 1, "golden: no test read these golden files; test them or remove them:\n\ttestdata/b.golden.md\n\ttestdata/d.golden\n\ttestdata/sub/c.golden.json\n"},
		{"orphans under -short", some, []string{"-test.short"}, 1, "testdata/b.golden.md"},
		{"none", all, nil, 0, ""},
		{"tests failed", failed, nil, 3, ""},
		{"-run", some, []string{"-test.run=TestX"}, 0, ""},
		{"-skip", some, []string{"-test.skip=TestX"}, 0, ""},
		{"-list", some, []string{"-test.list=."}, 0, ""},
		{"-fuzz", some, []string{"-test.fuzz=FuzzX"}, 0, ""},
		{"fuzzing worker", some, []string{"-test.fuzzworker"}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forgetReads(t)
			out.Reset()
			code := orphans{mFunc(func() int { return tc.m(t) }), flags(t, tc.args...)}.Run()
			if code != tc.code {
				t.Errorf("exit code %d, want %d; said %q", code, tc.code, out.String())
			}
			if tc.says == "" && out.Len() > 0 || !strings.Contains(out.String(), tc.says) {
				t.Errorf("said %q, want %q", out.String(), tc.says)
			}
		})
	}
}

func TestNoOrphansWithoutTestdata(t *testing.T) {
	t.Chdir(t.TempDir())
	forgetReads(t)
	if code := (orphans{mFunc(func() int { return 0 }), flags(t)}).Run(); code != 0 {
		t.Errorf("no testdata, no golden file to read: exit code %d", code)
	}
}

// A *testing.M is an M, and NoOrphans returns what goleak.VerifyTestMain
// takes.
var _ goleak.TestingM = NoOrphans((*testing.M)(nil))
