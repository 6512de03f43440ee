// Package golden compares renderers' output with golden files under
// testdata, for tests: a mismatch writes a .got file beside the golden one,
// and -update (a flag of the test binary that imports this package)
// rewrites the golden files.
//
// Golden files are named <name>.golden.<ext> (or <name>.golden), and
// every one in a package's testdata must be read by a test of the
// package: [NoOrphans], in TestMain, fails the test binary otherwise, so
// that a golden file left behind by a moved or deleted test is noticed.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// pattern matches the base name of a golden file.
var pattern = regexp.MustCompile(`\.golden(\.[A-Za-z0-9]+)?$`)

// read holds the absolute paths of the golden files that Check compared
// or wrote in this test binary.
var read struct {
	sync.Mutex
	paths map[string]bool
}

// stderr is where NoOrphans says which files no test read.
var stderr io.Writer = os.Stderr

// Check compares got with testdata/name, or rewrites it under -update.
// name must follow the pattern of golden files (<name>.golden.<ext>),
// so that [NoOrphans] sees the file.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	if !pattern.MatchString(name) {
		t.Fatalf("golden: %q is not named <name>.golden.<ext>", name)
	}
	path := filepath.Join("testdata", name)
	markRead(path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		_ = os.WriteFile(path+".got", got, 0o644)
		t.Errorf("%s differs from the golden file; see %s.got (run with -update to accept)", name, path)
	}
}

// markRead records that a test read (or wrote) the golden file at path.
func markRead(path string) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	read.Lock()
	defer read.Unlock()
	if read.paths == nil {
		read.paths = map[string]bool{}
	}
	read.paths[path] = true
}

// M is what a TestMain runs: a *testing.M, or what [NoOrphans] returns.
// It is goleak's TestingM too, so the two compose.
type M interface {
	Run() int
}

// NoOrphans returns m, whose Run also fails (exit code 1, naming the
// files on standard error) when a golden file in the package's testdata
// was read by no test. It checks only when the tests passed and every
// test ran: not under -run, -skip, -list or -fuzz, nor in a fuzzing
// worker. -short does not turn it off, so a test that reads golden files
// must not skip under -short. Use it in TestMain:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(golden.NoOrphans(m)) }
func NoOrphans(m M) M { return orphans{m, flag.Lookup} }

type orphans struct {
	m      M
	lookup func(name string) *flag.Flag // the test binary's flags
}

func (o orphans) Run() int {
	code := o.m.Run()
	if code != 0 || !allRan(o.lookup) {
		return code
	}
	unread, err := unreadIn("testdata")
	if err != nil {
		fmt.Fprintf(stderr, "golden: %v\n", err)
		return 1
	}
	if len(unread) > 0 {
		fmt.Fprintf(stderr, "golden: no test read these golden files; test them or remove them:\n\t%s\n", strings.Join(unread, "\n\t"))
		return 1
	}
	return 0
}

// allRan reports whether the test binary ran all of its tests, judging by
// its flags (lookup is flag.Lookup): no -run or -skip filter, no -list,
// no -fuzz, and not a fuzzing worker, which runs no tests.
func allRan(lookup func(name string) *flag.Flag) bool {
	for _, name := range []string{"test.run", "test.skip", "test.list", "test.fuzz"} {
		if f := lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	f := lookup("test.fuzzworker")
	return f == nil || f.Value.String() != "true"
}

// unreadIn returns the golden files under dir that no Check read, sorted;
// none when dir does not exist.
func unreadIn(dir string) ([]string, error) {
	read.Lock()
	defer read.Unlock()
	var unread []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !pattern.MatchString(d.Name()) {
			return err
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if !read.paths[abs] {
			unread = append(unread, filepath.ToSlash(path))
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	slices.Sort(unread)
	return unread, err
}
