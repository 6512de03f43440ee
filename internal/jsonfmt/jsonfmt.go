// Package jsonfmt holds what the module's versioned JSON formats share: the
// version check and a strict decoder.
package jsonfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// CheckVersion reads the top-level "version" field of b and returns an
// error wrapping errVersion unless it is want.
func CheckVersion(b []byte, want int, errVersion error) error {
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Version == nil || *v.Version != want {
		got := "none"
		if v.Version != nil {
			got = fmt.Sprint(*v.Version)
		}
		return fmt.Errorf("%w: got %s, want %d", errVersion, got, want)
	}
	return nil
}

// Strict decodes exactly one JSON value from r into v, refusing unknown
// fields and trailing data.
func Strict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the value")
	}
	return nil
}

// StrictBytes is Strict over a byte slice.
func StrictBytes(b []byte, v any) error { return Strict(bytes.NewReader(b), v) }
