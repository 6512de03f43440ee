// Package save writes a file from a function that writes to an io.Writer,
// so that every SaveX method of the module handles creating, writing and
// closing the same way.
package save

import (
	"fmt"
	"io"
	"os"
)

// File creates (or truncates) the file at path and calls write with it. An
// error names the path; an error of write or of closing the file is
// returned, and the file is closed in every case.
func File(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
