// Package save writes a file from a function that writes to an io.Writer,
// so that every Save method of the module creates, writes, syncs and
// replaces files the same way: atomically, never leaving a file half
// written or an old one truncated.
package save

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File writes the file at path through write, atomically: the bytes go to
// a temporary file beside path, which replaces it only once written,
// synced and closed. On any error path is left as it was and the
// temporary file is removed. An error of write names the path.
func File(path string, write func(io.Writer) error) error {
	s, err := Stage(path, write)
	if err != nil {
		return err
	}
	return s.Commit()
}

// Staged is a file written beside its path that has not replaced it yet:
// [Staged.Commit] puts it in place, [Staged.Discard] removes it. Staging
// every file of a set before committing any keeps a failed write (a full
// disk) from touching the set.
type Staged struct {
	tmp, path string
}

// Stage writes the file that will replace path through write, to a
// temporary file in path's directory. A new file gets mode 0644; one that
// replaces an existing file keeps that file's mode.
func Stage(path string, write func(io.Writer) error) (*Staged, error) {
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, &os.PathError{Op: "write", Path: path, Err: errors.New("not a regular file")}
		}
		mode = fi.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, renamed(err, "create", path)
	}
	s := &Staged{tmp: f.Name(), path: path}
	err = write(f)
	if err != nil {
		err = fmt.Errorf("writing %s: %w", path, err)
	} else if err = f.Sync(); err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.Discard()
		return nil, err
	}
	return s, nil
}

// Commit puts the staged file in place of its path.
func (s *Staged) Commit() error {
	if err := os.Rename(s.tmp, s.path); err != nil {
		s.Discard()
		return err
	}
	return nil
}

// Discard removes the staged file; its path is left as it was.
func (s *Staged) Discard() { _ = os.Remove(s.tmp) }

// Writable reports whether a file can be written at path: its directory
// exists and takes a new file, and path is not a directory. It leaves
// nothing behind.
func Writable(path string) error {
	s, err := Stage(path, func(io.Writer) error { return nil })
	if err != nil {
		return err
	}
	s.Discard()
	return nil
}

// WritableDir reports whether dir can hold new files: it is a directory
// that takes one, or, if it does not exist yet, its nearest existing
// parent is. It creates nothing.
func WritableDir(dir string) error {
	d := filepath.Clean(dir)
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return &os.PathError{Op: "mkdir", Path: dir, Err: fmt.Errorf("%s is not a directory", d)}
			}
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			return err
		}
		d = parent
	}
	f, err := os.CreateTemp(d, ".stampede-probe-*")
	if err != nil {
		return renamed(err, "mkdir", dir)
	}
	f.Close()
	return os.Remove(f.Name())
}

// renamed names path, what the caller asked for, in the error of a
// temporary file made for it (which names the temporary's pattern).
func renamed(err error, op, path string) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &os.PathError{Op: op, Path: path, Err: pe.Err}
	}
	return err
}
