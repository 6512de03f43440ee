package scenario

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
)

// Mode is how a [Feeder] hands out rows.
type Mode int

const (
	// Sequential hands rows out in order from one cursor shared by all VUs.
	Sequential Mode = iota
	// PerVU gives each VU its own cursor over all rows, from the first.
	PerVU
	// Random draws a row at random (from the VU's random source) each time.
	Random
	// Unique hands each row out at most once across all VUs; see [OnEnd].
	Unique
)

// String returns the mode's name.
func (m Mode) String() string {
	switch m {
	case Sequential:
		return "sequential"
	case PerVU:
		return "per-vu"
	case Random:
		return "random"
	case Unique:
		return "unique"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// OnEnd says what a Sequential, PerVU or Unique feeder does when its rows
// run out.
type OnEnd int

const (
	// Wrap starts again from the first row.
	Wrap OnEnd = iota
	// Stop ends the scenario (see loadgen.ErrStopScenario): no row is
	// handed out twice.
	Stop
)

// ErrNoRows is returned (wrapped) by a draw from a feeder that has run out
// under [Stop]; it wraps loadgen.ErrStopScenario, so the scenario ends.
var ErrNoRows = errors.New("scenario: feeder has no rows left")

// Row is one row of data, read by column name. A Row is read-only and may be
// shared between VUs.
type Row struct {
	cols   map[string]int
	values []string
}

// Get returns the value of column col, and whether the row has that column.
func (r Row) Get(col string) (string, bool) {
	i, ok := r.cols[col]
	if !ok {
		return "", false
	}
	return r.values[i], true
}

// Feeder hands rows of test data (user names, ids) to virtual users. It is
// safe for concurrent use.
type Feeder struct {
	name  string
	cols  map[string]int
	rows  []Row
	mode  Mode
	onEnd OnEnd

	mu   sync.Mutex
	next int
}

// NewFeeder returns a feeder over rows with the given column names. Every
// row must have one value per column; columns must be non-empty and unique.
func NewFeeder(name string, columns []string, rows [][]string, mode Mode, onEnd OnEnd) (*Feeder, error) {
	var errs []error
	if len(columns) == 0 {
		errs = append(errs, fmt.Errorf("scenario: feeder %q: columns must be non-empty", name))
	}
	cols := map[string]int{}
	for i, c := range columns {
		if c == "" {
			errs = append(errs, fmt.Errorf("scenario: feeder %q: column %d has an empty name", name, i))
		} else if _, dup := cols[c]; dup {
			errs = append(errs, fmt.Errorf("scenario: feeder %q: column %q appears twice", name, c))
		}
		cols[c] = i
	}
	if len(rows) == 0 {
		errs = append(errs, fmt.Errorf("scenario: feeder %q: needs at least one row", name))
	}
	for i, r := range rows {
		if len(r) != len(columns) {
			errs = append(errs, fmt.Errorf("scenario: feeder %q: row %d has %d values, want %d (one per column)", name, i+1, len(r), len(columns)))
		}
	}
	if mode < Sequential || mode > Unique {
		errs = append(errs, fmt.Errorf("scenario: feeder %q: mode must be Sequential, PerVU, Random or Unique, got %v", name, mode))
	}
	if onEnd != Wrap && onEnd != Stop {
		errs = append(errs, fmt.Errorf("scenario: feeder %q: onEnd must be Wrap or Stop, got %d", name, onEnd))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	f := &Feeder{name: name, cols: cols, mode: mode, onEnd: onEnd}
	for _, r := range rows {
		f.rows = append(f.rows, Row{cols: cols, values: slices.Clone(r)})
	}
	return f, nil
}

// FromCSV reads a feeder from a CSV file whose first record names the
// columns. A missing, empty or malformed file is an error that names the
// file and, for malformed input, the line.
func FromCSV(path string, mode Mode, onEnd OnEnd) (*Feeder, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: feeder: %w", err)
	}
	defer f.Close()
	return ReadCSV(path, f, mode, onEnd)
}

// ReadCSV is FromCSV over a reader; name is used in errors.
func ReadCSV(name string, r io.Reader, mode Mode, onEnd OnEnd) (*Feeder, error) {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("scenario: feeder %q: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("scenario: feeder %q: the file is empty; want a header line and rows", name)
	}
	return NewFeeder(name, recs[0], recs[1:], mode, onEnd)
}

// Len returns the number of rows.
func (f *Feeder) Len() int { return len(f.rows) }

// draw returns the row for vu's next iteration. cursor is the VU's own
// cursor (PerVU).
func (f *Feeder) draw(vu *VU) (Row, error) {
	switch f.mode {
	case Random:
		return f.rows[vu.Rand.IntN(len(f.rows))], nil
	case PerVU:
		c := vu.cursors[f]
		if c >= len(f.rows) {
			if f.onEnd == Stop {
				return Row{}, f.exhausted()
			}
			c = 0
		}
		vu.cursors[f] = c + 1
		return f.rows[c], nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next >= len(f.rows) {
		if f.mode == Unique && f.onEnd == Stop || f.mode == Sequential && f.onEnd == Stop {
			return Row{}, f.exhausted()
		}
		f.next = 0
	}
	r := f.rows[f.next]
	f.next++
	return r, nil
}

func (f *Feeder) exhausted() error {
	return fmt.Errorf("%w (%q, %d rows): %w", ErrNoRows, f.name, len(f.rows), errStop)
}
