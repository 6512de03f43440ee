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
// message without one as a timeout (at its deadline, with the Timeout as
// its latency). A reply is judged by when it arrived, however late the
// step gets to it. When the connection ends, the messages still waiting
// are recorded with its outcome; a message in which c.ID finds no id is
// sent and counted, not timed.
//
// Its latency is the hold, d and that wait. The connection's end fails it
// with its close code's outcome (see [OutcomeOf]); a message without a
// reply does not.
func Hold(name string, c *Client, d time.Duration, opts ...Option) scenario.Part {
	s := newStep(c, what{step: "Hold", kinds: []metrics.Kind{KindClose, KindReceived}, consumes: true, every: true}, "", opts,
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
	id      string
	due     time.Time
	replied bool
}

// recorder records a round trip: a *scenario.Call.
type recorder interface {
	Record(k metrics.Kind, at time.Time, d time.Duration, o metrics.Outcome)
}

// awaited are the messages of a Hold waiting for their replies, in the
// order sent, which is the order they time out in. Every message put in
// is recorded once (KindRoundTrip): replied in time, timed out, or ended
// with the connection.
type awaited struct {
	msgs    []sentMsg
	timeout time.Duration
}

// reply matches the reply with id that arrived at at to the first message
// with that id still waiting: its round trip, timed from its due time, if
// the reply came within the timeout, else a timeout. A reply that matches
// none is only received.
func (a *awaited) reply(c recorder, id string, at time.Time) {
	for i := range a.msgs {
		if w := &a.msgs[i]; w.id == id && !w.replied {
			w.replied = true
			if deadline := w.due.Add(a.timeout); at.Before(deadline) {
				c.Record(KindRoundTrip, at, at.Sub(w.due), metrics.OK)
			} else {
				c.Record(KindRoundTrip, deadline, a.timeout, metrics.Timeout)
			}
			return
		}
	}
}

// expire records a timeout, at its deadline, for each message still
// waiting whose timeout had passed by now, and forgets those and the
// replied ones before the first still in time. Replies that arrived
// before now must have been taken first.
func (a *awaited) expire(c recorder, now time.Time) {
	for len(a.msgs) > 0 {
		w := a.msgs[0]
		if !w.replied {
			deadline := w.due.Add(a.timeout)
			if now.Before(deadline) {
				return
			}
			c.Record(KindRoundTrip, deadline, a.timeout, metrics.Timeout)
		}
		a.msgs = a.msgs[1:]
	}
}

// deadline is when the first message still waiting times out, and
// whether there is one.
func (a *awaited) deadline() (time.Time, bool) {
	for _, w := range a.msgs {
		if !w.replied {
			return w.due.Add(a.timeout), true
		}
	}
	return time.Time{}, false
}

// end records the messages still waiting when the connection ended (or
// the run stopped) at at: a timeout for those already past it, the end's
// outcome o for the others.
func (a *awaited) end(c recorder, at time.Time, o metrics.Outcome) {
	a.expire(c, at)
	for _, w := range a.msgs {
		if !w.replied {
			c.Record(KindRoundTrip, at, at.Sub(w.due), o)
		}
	}
	a.msgs = nil
}

// fired is a deadline that has passed: a wait on it takes only what has
// already arrived.
var fired = func() <-chan time.Time {
	ch := make(chan time.Time)
	close(ch)
	return ch
}()

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
	waiting := awaited{timeout: s.o.timeout}
	// take takes m: counted, and matched to the message it replies to.
	take := func(m message) {
		s.take(c, m)
		if timed {
			if id, ok := s.client.ID(m.data); ok {
				waiting.reply(c, id, m.at)
			}
		}
	}
	// stop ends the hold on err, a wait that returned no message.
	stop := func(err error) error {
		err = s.ended(ctx, vu, c, err, "hold")
		waiting.end(c, time.Now(), metrics.OutcomeOf(err))
		return err
	}
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		for every > 0 && !next.After(now) && next.Before(end) {
			msg := s.o.message(vu, seq)
			seq++
			if err := s.send(ctx, vu, c, cn, now, msg); err != nil {
				waiting.end(c, time.Now(), metrics.OutcomeOf(err))
				return err
			}
			if timed {
				if id, ok := s.client.ID(msg); ok {
					waiting.msgs = append(waiting.msgs, sentMsg{id: id, due: next})
				}
			}
			next = next.Add(every)
		}
		// The replies that arrived by now, then the messages whose
		// timeout passed without one.
		for {
			m, err := cn.next(ctx, fired)
			if errors.Is(err, errTimeout) {
				break
			}
			if err != nil {
				return stop(err)
			}
			take(m)
		}
		waiting.expire(c, now)
		first, pending := waiting.deadline()
		if !now.Before(end) && !pending {
			return nil
		}
		// Wake at the hold's end, the next message's due time or the
		// first reply's timeout, whichever comes first and is to come.
		wake := end
		if !now.Before(end) || pending && first.Before(wake) {
			wake = first
		}
		if every > 0 && next.Before(wake) && next.Before(end) {
			wake = next
		}
		t.Reset(wake.Sub(now))
		m, err := cn.next(ctx, t.C)
		if errors.Is(err, errTimeout) {
			continue
		}
		if err != nil {
			return stop(err)
		}
		take(m)
	}
}
