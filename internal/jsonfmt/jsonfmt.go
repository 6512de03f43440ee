// Package jsonfmt holds what the module's versioned JSON formats share: the
// version check and a strict decoder.
package jsonfmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Version reads the top-level "version" field of b and returns it; a
// version not among accepted is an error wrapping errVersion.
func Version(b []byte, errVersion error, accepted ...int) (int, error) {
	var v struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, err
	}
	if v.Version == nil || !slices.Contains(accepted, *v.Version) {
		got := "none"
		if v.Version != nil {
			got = fmt.Sprint(*v.Version)
		}
		want := fmt.Sprint(accepted[0])
		for _, a := range accepted[1:] {
			want += " or " + fmt.Sprint(a)
		}
		return 0, fmt.Errorf("%w: got %s, want %s", errVersion, got, want)
	}
	return *v.Version, nil
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
