package stampedegrpc

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/stampede-go/stampede/scenario"
)

// A call's deadline: the service sees it (gRPC sends it as grpc-timeout),
// and the VU's watchdog cancels the call when the service does not answer
// in time. A context.WithTimeout per call would do the same at the cost
// of a timer and a context registered with the run's for every call
// (some 3 µs of CPU per call on a 2-core machine, an eighth of a small
// unary call): a VU makes one call at a time, so one context and one timer
// of its own serve all its calls. The timer is not reset for every call:
// as deadlines only move later, it wakes at the deadline it was set for,
// and sleeps again until the deadline of the call then in flight, if any.

// errDeadline is the cause with which a VU's watchdog cancels its context.
var errDeadline = errors.New("the step's timeout passed")

// watchdog is a VU's context for its calls and the timer that cancels it
// when a call outlives its deadline.
type watchdog struct {
	parent context.Context // what ctx was made from
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	base   time.Time // the origin of due and wake

	mu    sync.Mutex
	due   time.Duration // the call in flight's deadline, from base; 0 when none
	wake  time.Duration // when the timer fires, from base; 0 when it does not
	fired bool          // the timer cancelled ctx
}

// watchdogs are a run's, stopped when it ends.
type watchdogs struct {
	mu  sync.Mutex
	all []*watchdog
}

type watchdogsKey struct{}

func openWatchdogs(r *scenario.Run) (*watchdogs, error) {
	v, err := r.Shared(watchdogsKey{}, func() (any, error) {
		ws := &watchdogs{}
		r.OnClose(ws.stop)
		return ws, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*watchdogs), nil
}

func (ws *watchdogs) stop() {
	ws.mu.Lock()
	all := ws.all
	ws.all = nil
	ws.mu.Unlock()
	for _, w := range all {
		w.timer.Stop()
		w.cancel(nil)
	}
}

// forVU returns vu's watchdog over parent, made afresh after the last one
// fired or when parent changed.
func (ws *watchdogs) forVU(vu *scenario.VU, parent context.Context) *watchdog {
	w, _ := vu.Local(watchdogsKey{}).(*watchdog)
	if w != nil && w.parent == parent && w.ctx.Err() == nil {
		return w
	}
	fresh := &watchdog{parent: parent, base: time.Now()}
	fresh.ctx, fresh.cancel = context.WithCancelCause(parent)
	fresh.timer = time.AfterFunc(time.Hour, fresh.expire)
	fresh.timer.Stop()
	vu.SetLocal(watchdogsKey{}, fresh)
	ws.mu.Lock()
	if w != nil {
		for i, have := range ws.all {
			if have == w {
				ws.all[i] = fresh
				break
			}
		}
	} else {
		ws.all = append(ws.all, fresh)
	}
	ws.mu.Unlock()
	if w != nil {
		w.timer.Stop()
		w.cancel(nil)
	}
	return fresh
}

// expire cancels the calls' context if the deadline of the call in flight
// has passed, and otherwise sleeps until it, if there is one.
func (w *watchdog) expire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Since(w.base)
	w.wake = 0
	switch {
	case w.due == 0: // no call in flight: the next one sets the timer
	case now >= w.due:
		w.fired = true
		w.cancel(errDeadline)
	default:
		w.wake = w.due
		w.timer.Reset(w.due - now)
	}
}

// arm returns the context of a call due within timeout.
func (w *watchdog) arm(timeout time.Duration) context.Context {
	now := time.Now()
	due := now.Sub(w.base) + timeout
	w.mu.Lock()
	w.due = due
	if w.wake == 0 || w.wake > due {
		w.wake = due
		w.timer.Reset(timeout)
	}
	w.mu.Unlock()
	return &callCtx{Context: w.ctx, deadline: now.Add(timeout)}
}

// disarm ends the call in flight and reports whether its deadline cut it
// off.
func (w *watchdog) disarm() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.due = 0
	return w.fired
}

// callCtx is a call's context: the VU's, with the call's deadline.
type callCtx struct {
	context.Context
	deadline time.Time
}

func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *callCtx) Err() error {
	err := c.Context.Err()
	if err != nil && context.Cause(c.Context) == errDeadline {
		return context.DeadlineExceeded
	}
	return err
}
