package golden

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	defer os.Chdir(wd)
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
}
