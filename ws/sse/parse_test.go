package stampedesse

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParse reads the format's corner cases: a byte order mark, comments,
// CRLF, CR and LF line ends, data on several lines, an id with NUL
// (ignored), the last id carried to later events, retry, a field without
// a colon, an event without data (not dispatched) and a last event not
// ended by a blank line (dropped).
func TestParse(t *testing.T) {
	stream := "\xef\xbb\xbf: hello\r\n" +
		"event: score\r\ndata: 1-0\r\nid: 7\r\n\r\n" +
		"data:a\rdata: b\r\rretry: 1500\n" +
		"id: x\x00y\ndata\n\n" +
		"event: empty\n\n" +
		"retry: 12a\ndata: late\nid: 9\n\n" +
		"data: cut off"
	// One byte at a time: a CR at the end of what has arrived waits for
	// what follows it.
	p := newParser(iotest.OneByteReader(strings.NewReader(stream)), "3")
	var got []Event
	for {
		ev, err := p.next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, ev)
	}
	assert.Equal(t, []Event{
		{Type: "score", Data: "1-0", ID: "7"},
		{Type: "message", Data: "a\nb", ID: "7"},
		{Type: "message", Data: "", ID: "7"},
		{Type: "message", Data: "late", ID: "9"},
	}, got)
	assert.Equal(t, 1500, p.retry, "a retry that is not all digits is ignored")
}

func TestParseLongLine(t *testing.T) {
	p := newParser(strings.NewReader("data: "+strings.Repeat("x", MaxLine)+"\n\n"), "")
	_, err := p.next()
	assert.ErrorIs(t, err, errLongLine)
}
