package stampedews

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"

	"github.com/stampede-go/stampede/metrics"
)

// rec is a recorder that keeps what it is given.
type rec []string

func (r *rec) Record(k metrics.Kind, at time.Time, d time.Duration, o metrics.Outcome) {
	*r = append(*r, string(k)+" "+at.Format("05.000")+" "+d.String()+" "+o.String())
}

// TestAwaitedRecordsEachMessageOnce: a Hold's messages are judged by when
// their replies arrived, not by when the step got to them; each is
// recorded once, and those left when the connection ends are recorded
// with its outcome.
func TestAwaitedRecordsEachMessageOnce(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var r rec
	a := awaited{timeout: 100 * time.Millisecond}
	for i, id := range []string{"a", "b", "c", "d"} {
		a.msgs = append(a.msgs, sentMsg{id: id, due: at(10 * i)})
	}

	// The step gets to the replies late, at 500 ms: a's came in time (at
	// 50 ms), b's after its timeout (at 150 ms, due 10 ms).
	a.reply(&r, "a", at(50))
	a.reply(&r, "b", at(150))
	a.reply(&r, "a", at(60)) // a second reply to a: only received
	a.reply(&r, "x", at(60)) // a reply to nothing
	d, ok := a.deadline()
	assert.True(t, ok)
	assert.Equal(t, at(120), d, "c's timeout: the first still waiting")

	a.expire(&r, at(125)) // c (due 20 ms) has timed out, d (due 30 ms) not yet
	a.end(&r, at(126), metrics.Reset)
	assert.Equal(t, rec{
		"ws_rtt 00.050 50ms ok",
		"ws_rtt 00.110 100ms timeout",
		"ws_rtt 00.120 100ms timeout",
		"ws_rtt 00.126 96ms reset",
	}, r)
	_, ok = a.deadline()
	assert.False(t, ok)
	a.end(&r, at(200), metrics.Reset)
	assert.Len(t, r, 4, "nothing is recorded twice")
}

// TestClosedByWhicheverReadTheCloseFrame: the end of a connection the VU
// closed is the service's close frame, whether the reader read it or the
// library's wait did (when the reader was between reads) and then closed
// the connection under the reader; a lost connection stays lost.
func TestClosedByWhicheverReadTheCloseFrame(t *testing.T) {
	normal := websocket.CloseError{Code: websocket.StatusNormalClosure}
	away := websocket.CloseError{Code: websocket.StatusGoingAway}
	lost := fmt.Errorf("failed to get reader: %w", io.ErrUnexpectedEOF)
	afterWait := fmt.Errorf("failed to get reader: %w", net.ErrClosed)
	for _, tc := range []struct {
		name         string
		read, closed error
		code         int
		failed       bool
	}{
		{"the reader read it", normal, nil, int(websocket.StatusNormalClosure), false},
		{"the reader read another code", away, nil, int(websocket.StatusGoingAway), false},
		{"the wait read it, with the code sent", afterWait, nil, int(websocket.StatusNormalClosure), false},
		{"the wait read another code", afterWait, fmt.Errorf("failed to close WebSocket: %w", away), int(websocket.StatusGoingAway), false},
		{"lost before the close", lost, nil, int(websocket.StatusAbnormalClosure), false},
		{"lost during the wait", afterWait, fmt.Errorf("failed to close WebSocket: %w", io.EOF), int(websocket.StatusAbnormalClosure), true},
	} {
		ended, err := closedBy(tc.read, tc.closed)
		assert.Equal(t, tc.code, closeCode(ended), tc.name)
		assert.Equal(t, tc.failed, err != nil, "%s: %v", tc.name, err)
	}
}
