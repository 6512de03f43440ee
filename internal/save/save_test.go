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
