package scenario

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/stampede-go/stampede/loadgen"
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
	// Unique hands each row out at most once in the whole run: across all
	// VUs, and across the segments of a run spread over several processes
	// (segment i of n takes rows i, i+n, i+2n …). When the rows run out the
	// scenario ends, so Unique needs [Stop].
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

// ErrNoRecords is returned (wrapped) by a draw from a feeder that has run out
// under [Stop]; it wraps loadgen.ErrStopScenario, so the scenario ends.
var ErrNoRecords = errors.New("scenario: feeder has no rows left")

// Record is one row of data, read by column name. A Record is read-only and may be
// shared between VUs.
type Record struct {
	cols   map[string]int
	values []string
}

// Get returns the value of column col, and whether the row has that column.
func (r Record) Get(col string) (string, bool) {
	i, ok := r.cols[col]
	if !ok {
		return "", false
	}
	return r.values[i], true
}

// Feeder hands rows of test data (user names, ids) to virtual users. A
// Feeder is read-only: the cursors that walk it belong to each run of the
// scenarios that use it, so every run starts from the first row. It is
// safe for concurrent use.
type Feeder struct {
	name  string
	cols  map[string]int
	rows  []Record
	mode  Mode
	onEnd OnEnd
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
	} else if mode == Unique && onEnd != Stop {
		errs = append(errs, fmt.Errorf("scenario: feeder %q: Unique hands each row out at most once, so onEnd must be Stop, got Wrap", name))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	f := &Feeder{name: name, cols: cols, mode: mode, onEnd: onEnd}
	for _, r := range rows {
		f.rows = append(f.rows, Record{cols: cols, values: slices.Clone(r)})
	}
	return f, nil
}

// LoadCSV reads a feeder from a CSV file whose first record names the
// columns. A missing, empty or malformed file is an error that names the
// file and, for malformed input, the line.
func LoadCSV(path string, mode Mode, onEnd OnEnd) (*Feeder, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: feeder: %w", err)
	}
	defer f.Close()
	return ReadCSV(path, f, mode, onEnd)
}

// ReadCSV is LoadCSV over a reader; name is used in errors. A record with
// another number of fields than the header is an error that says so, with
// its line (the first few such records are reported).
func ReadCSV(name string, r io.Reader, mode Mode, onEnd OnEnd) (*Feeder, error) {
	const maxRagged = 10
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted here, to say how many
	var recs [][]string
	var errs []error
	ragged := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("scenario: feeder %q: %w", name, err)
		}
		if len(recs) > 0 && len(rec) != len(recs[0]) {
			if ragged++; ragged <= maxRagged {
				line, _ := cr.FieldPos(0)
				errs = append(errs, fmt.Errorf("scenario: feeder %q: the record on line %d has %d %s, but the header has %d",
					name, line, len(rec), plural(len(rec), "field", "fields"), len(recs[0])))
			}
		}
		recs = append(recs, rec)
	}
	if ragged > maxRagged {
		errs = append(errs, fmt.Errorf("scenario: feeder %q: and %d more records with another number of fields than the header", name, ragged-maxRagged))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("scenario: feeder %q: the file is empty; want a header line and rows", name)
	}
	return NewFeeder(name, recs[0], recs[1:], mode, onEnd)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Len returns the number of rows.
func (f *Feeder) Len() int { return len(f.rows) }

// Columns returns the names of the feeder's columns, in order: what
// placeholders after a [Feed] of it may use.
func (f *Feeder) Columns() []string {
	cs := make([]string, len(f.cols))
	for c, i := range f.cols {
		cs[i] = c
	}
	return cs
}

// column returns the index of column name; a nil feeder has none.
func (f *Feeder) column(name string) (int, bool) {
	if f == nil {
		return 0, false
	}
	i, ok := f.cols[name]
	return i, ok
}

// feedRun is one run's state of a feeder: the rows it hands out (for
// Unique, this segment's share) and its shared cursor.
type feedRun struct {
	f    *Feeder
	rows []Record
	mu   sync.Mutex
	next int
}

func newFeedRun(f *Feeder, seg loadgen.Segment) *feedRun {
	r := &feedRun{f: f, rows: f.rows}
	if f.mode == Unique && !seg.IsWhole() {
		r.rows = nil
		for i := seg.Index; i < len(f.rows); i += seg.Count {
			r.rows = append(r.rows, f.rows[i])
		}
	}
	return r
}

// draw returns the row for vu's next iteration.
func (r *feedRun) draw(vu *VU) (Record, error) {
	f := r.f
	switch f.mode {
	case Random:
		return f.rows[vu.Rand.IntN(len(f.rows))], nil
	case PerVU:
		c := vu.cursors[f]
		if c >= len(f.rows) {
			if f.onEnd == Stop {
				return Record{}, r.exhausted()
			}
			c = 0
		}
		vu.cursors[f] = c + 1
		return f.rows[c], nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next >= len(r.rows) {
		if f.onEnd == Stop {
			return Record{}, r.exhausted()
		}
		r.next = 0
	}
	row := r.rows[r.next]
	r.next++
	return row, nil
}

func (r *feedRun) exhausted() error {
	return fmt.Errorf("%w (%q, %d rows): %w", ErrNoRecords, r.f.name, len(r.rows), errStop)
}
