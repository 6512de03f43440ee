package report

import (
	"fmt"
	"io"
	"os"

	"github.com/stampede-go/stampede/loadgen"
)

// WriteJSON writes the run in its own versioned JSON encoding (see
// [loadgen.Result.WriteJSON]): every histogram is kept losslessly, so any
// report can be rebuilt from the file, and a baseline saved today can be
// compared next month.
func WriteJSON(w io.Writer, res *loadgen.Result) error { return res.WriteJSON(w) }

// ReadJSON reads a run written by WriteJSON (see [loadgen.ReadResult]).
func ReadJSON(r io.Reader) (*loadgen.Result, error) { return loadgen.ReadResult(r) }

// SaveFile writes the run to a JSON file.
func SaveFile(path string, res *loadgen.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := res.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// LoadFile reads a run from a JSON file written by SaveFile.
func LoadFile(path string) (*loadgen.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	res, err := loadgen.ReadResult(f)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	return res, nil
}

// SaveHTML writes the run's HTML report (see [WriteHTML]) to a file.
func SaveHTML(path string, res *loadgen.Result, opts HTMLOptions) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := WriteHTML(f, res, opts); err != nil {
		f.Close()
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
