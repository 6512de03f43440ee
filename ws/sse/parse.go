package stampedesse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Event is one event of a stream, as the text/event-stream format
// defines it.
type Event struct {
	// Type is the event's type (its "event" field), "message" when it
	// has none.
	Type string
	// Data is its data: its "data" lines, joined with newlines.
	Data string
	// ID is the stream's last event id once the event arrived (its own
	// "id" field, or an earlier event's): what a reconnection sends as
	// Last-Event-ID.
	ID string
}

// MaxLine is the longest line of a stream read; a longer one fails the
// step.
const MaxLine = 1 << 20

// errLongLine is a line longer than MaxLine.
var errLongLine = errors.New("a line of the stream is longer than 1 MiB")

// parser reads events from a text/event-stream body.
type parser struct {
	sc      *bufio.Scanner
	lastID  string // the id field's last value: the format's last event ID buffer
	eventID string // lastID as of the last event's end, with data or not: what a reconnection sends
	retry   int    // milliseconds, from the last "retry" field; -1: none
	first   bool
	evType  string
	data    strings.Builder
	hasData bool
}

func newParser(r io.Reader, lastID string) *parser {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	sc.Split(scanLines)
	return &parser{sc: sc, lastID: lastID, eventID: lastID, retry: -1, first: true}
}

// next returns the stream's next event, or the reading's error (io.EOF
// at the stream's end).
func (p *parser) next() (Event, error) {
	for p.sc.Scan() {
		line := p.sc.Bytes()
		if p.first {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			p.first = false
		}
		if len(line) == 0 {
			if ev, ok := p.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			continue // a comment
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		switch string(field) {
		case "event":
			p.evType = string(value)
		case "data":
			if p.hasData {
				p.data.WriteByte('\n')
			}
			p.data.Write(value)
			p.hasData = true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				p.lastID = string(value)
			}
		case "retry":
			if n, err := strconv.Atoi(string(value)); err == nil && n >= 0 && strings.Trim(string(value), "0123456789") == "" {
				p.retry = n
			}
		}
	}
	if err := p.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Event{}, errLongLine
		}
		return Event{}, err
	}
	return Event{}, io.EOF // an event not ended by a blank line is dropped, as the format says
}

// dispatch ends the event being read: its id becomes the last event ID,
// and it is returned if it has data.
func (p *parser) dispatch() (Event, bool) {
	p.eventID = p.lastID
	typ := p.evType
	p.evType = ""
	if !p.hasData {
		p.data.Reset()
		return Event{}, false
	}
	if typ == "" {
		typ = "message"
	}
	ev := Event{Type: typ, Data: p.data.String(), ID: p.lastID}
	p.data.Reset()
	p.hasData = false
	return ev, true
}

// scanLines splits a stream into lines ended by CRLF, LF or CR.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	for i, b := range data {
		switch b {
		case '\n':
			return i + 1, data[:i], nil
		case '\r':
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if atEOF {
				return i + 1, data[:i], nil
			}
			return 0, nil, nil // a CR at the end: wait to see whether LF follows
		}
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
