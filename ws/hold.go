package stampedews

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// Hold returns a step that holds the VU's connection to c open for d,
// taking every message that arrives (counted, with its delivery delay when
// c.Timestamp finds one), as a user's open tab does. With [Every] it also
// sends a message every interval, an open model of messages on the
// connection, and, when c.ID is set, times each to its reply
// (KindRoundTrip) from the instant it was due; after d it waits for the
// replies still due, each for at most the step's Timeout, and records a
// message without one as a timeout.
//
// Its latency is the hold, d and that wait. The connection's end fails it
// with its close code's outcome (see [OutcomeOf]); a message without a
// reply does not.
func Hold(name string, c *Client, d time.Duration, opts ...Option) scenario.Part {
	s := newStep(c, what{kinds: []metrics.Kind{KindClose, KindReceived}, consumes: true}, "", opts,
		func(s *step, ctx context.Context, _ *sockets, vu *scenario.VU, c *scenario.Call) error {
			return s.hold(ctx, vu, c, d)
		})
	if s.o.every > 0 {
		s.kinds = append(s.kinds, KindSent)
		if c != nil && c.ID != nil {
			s.kinds = append(s.kinds, KindRoundTrip)
		}
	}
	if d <= 0 {
		s.errs = append(s.errs, fmt.Errorf("Hold: the duration is %v; it must be more than 0", d))
	}
	return scenario.ProtocolStep(name, s)
}

// sentMsg is a message of a Hold waiting for its reply.
type sentMsg struct {
	id  string
	due time.Time
}

func (s *step) hold(ctx context.Context, vu *scenario.VU, c *scenario.Call, d time.Duration) error {
	cn, err := s.conn(vu)
	if err != nil {
		return err
	}
	end := c.Start().Add(d)
	next := c.Start() // the next message's due time
	every := s.o.every
	seq := 0
	timed := every > 0 && s.client.ID != nil
	var waiting []sentMsg       // in the order sent: the order they expire
	var replied map[string]bool // ids replied to, not yet off the head of waiting
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		for every > 0 && !next.After(now) && next.Before(end) {
			msg := s.o.message(vu, seq)
			seq++
			if err := s.send(ctx, vu, c, cn, now, msg); err != nil {
				return err
			}
			if timed {
				if id, ok := s.client.ID(msg); ok {
					waiting = append(waiting, sentMsg{id, next})
				}
			}
			next = next.Add(every)
		}
		// The messages whose reply is past their timeout, or came.
		for len(waiting) > 0 {
			w := waiting[0]
			if replied[w.id] {
				delete(replied, w.id)
			} else if !now.Before(w.due.Add(s.o.timeout)) {
				c.Record(KindRoundTrip, now, now.Sub(w.due), metrics.Timeout)
			} else {
				break
			}
			waiting = waiting[1:]
		}
		if !now.Before(end) && len(waiting) == len(replied) {
			return nil
		}
		// Wake at the hold's end, the next message's due time or the
		// first reply's timeout, whichever comes first and is to come.
		wake := end
		if !now.Before(end) {
			wake = waiting[0].due.Add(s.o.timeout)
		}
		if every > 0 && next.Before(wake) && next.Before(end) {
			wake = next
		}
		if len(waiting) > 0 && waiting[0].due.Add(s.o.timeout).Before(wake) {
			wake = waiting[0].due.Add(s.o.timeout)
		}
		t.Reset(wake.Sub(now))
		m, err := cn.next(ctx, t.C)
		if errors.Is(err, errTimeout) {
			continue
		}
		if err != nil {
			return s.ended(ctx, vu, c, err, "hold")
		}
		s.take(c, m)
		if timed {
			if id, ok := s.client.ID(m.data); ok {
				for _, w := range waiting {
					if w.id == id && !replied[id] {
						c.Record(KindRoundTrip, m.at, m.at.Sub(w.due), metrics.OK)
						if replied == nil {
							replied = map[string]bool{}
						}
						replied[id] = true
						break
					}
				}
			}
		}
	}
}
