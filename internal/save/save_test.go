package save

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	if err := File(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "hello")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "hello" {
		t.Fatalf("file holds %q (%v), want hello", got, err)
	}
}

func TestFileErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	path := filepath.Join(dir, "out.txt")
	err := File(path, func(io.Writer) error { return boom })
	if !errors.Is(err, boom) || err.Error() != "writing "+path+": boom" {
		t.Errorf("write error: %v", err)
	}
	missing := filepath.Join(dir, "no", "such", "dir", "out.txt")
	err = File(missing, func(io.Writer) error { t.Error("write called without a file"); return nil })
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Path != missing {
		t.Errorf("create error: %v, want a *os.PathError naming %s", err, missing)
	}
}

// TestFailedWriteLeavesTheOldFile: a write that fails half way (a full
// disk) leaves the file as it was, with its mode, and no temporary.
func TestFailedWriteLeavesTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run-0.json")
	if err := os.WriteFile(path, []byte("the old baseline"), 0o600); err != nil {
		t.Fatal(err)
	}
	full := errors.New("file too large")
	err := File(path, func(w io.Writer) error {
		if _, err := io.WriteString(w, "half of the new"); err != nil {
			return err
		}
		return full
	})
	if !errors.Is(err, full) {
		t.Fatalf("got %v, want the write's error", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "the old baseline" {
		t.Errorf("after a failed write the file holds %q", got)
	}
	if err := File(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the replaced file's mode is %v (%v), want the old file's 0600", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the file: %v", len(entries), entries)
	}
}

func TestStageThenDiscard(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a")
	s, err := Stage(path, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a staged file is in place before Commit: %v", err)
	}
	s.Discard()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Discard left %v", entries)
	}
}

func TestWritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{filepath.Join(dir, "new.html"), true},
		{file, true},
		{dir, false},                                // a directory
		{filepath.Join(dir, "no", "r.html"), false}, // no such directory
		{filepath.Join(file, "r.html"), false},      // under a file
	} {
		if err := Writable(c.path); (err == nil) != c.ok {
			t.Errorf("Writable(%s) = %v, want ok %v", c.path, err, c.ok)
		}
	}
	for _, c := range []struct {
		dir string
		ok  bool
	}{
		{dir, true},
		{filepath.Join(dir, "new", "deeper"), true}, // created later, under a writable parent
		{file, false},
		{filepath.Join(file, "sub"), false},
	} {
		if err := WritableDir(c.dir); (err == nil) != c.ok {
			t.Errorf("WritableDir(%s) = %v, want ok %v", c.dir, err, c.ok)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the checks left files behind: %v", entries)
	}
}
