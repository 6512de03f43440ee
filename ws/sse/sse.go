package stampedesse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// The kinds of metrics a Subscribe step records under its name, beside
// its latency (metrics.KindStep, the subscription's length).
const (
	// KindStatus counts the HTTP status of each connection to the
	// stream, the first and the reconnections.
	KindStatus metrics.Kind = "sse"
	// KindFirstEvent is the time from the step's start to its first
	// event: how long a user waits for the first update.
	KindFirstEvent metrics.Kind = "sse_first"
	// KindEvent counts the events received, each the instant it arrives
	// (its timeline is the events per second), with, for each after the
	// first, the gap before it as its latency: how long the stream was
	// silent.
	KindEvent metrics.Kind = "sse_event"
	// KindDelay is, for each event that carries the time the service sent
	// it (see [Timestamp]), the time from then to its arrival.
	KindDelay metrics.Kind = "sse_delay"
	// KindReconnect counts the reconnections after the service ended the
	// stream.
	KindReconnect metrics.Kind = "sse_reconnect"
)

// DefaultRetry is how long a Subscribe waits before it reconnects to a
// stream that ended, unless the stream's "retry" field says otherwise.
const DefaultRetry = 3 * time.Second

// An Option changes what a Subscribe step does.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type header struct {
	name string
	t    *scenario.Template
}

type options struct {
	headers   []header
	timeout   time.Duration
	timestamp func(Event) (time.Time, bool)
	until     func(Event) bool
	noRetry   bool
	errs      []error
}

// Header sets a header of the stream's request, with placeholders in its
// value ("Bearer {{token}}").
func Header(name, value string) Option {
	return optionFunc(func(o *options) {
		if name == "" || strings.ContainsAny(name, " \t\r\n:") {
			o.errs = append(o.errs, fmt.Errorf("Header: %q is not a header name", name))
			return
		}
		t, err := scenario.ParseText("header "+name, value)
		if err != nil {
			o.errs = append(o.errs, err)
			return
		}
		o.headers = append(o.headers, header{http.CanonicalHeaderKey(name), t})
	})
}

// Timeout bounds how long the stream may be silent: the wait for the
// response and its first event, and for each event after it, a wait to
// reconnect included. A stream silent longer fails the step as a timeout.
// By default only the subscription's length bounds it.
func Timeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.errs = append(o.errs, fmt.Errorf("Timeout is %v; it must be more than 0", d))
		}
		o.timeout = d
	})
}

// Timestamp has each event that carries the time the service sent it
// record its delivery delay (KindDelay): f returns that time, or false
// for an event without one. JSONTime reads a field of JSON data.
func Timestamp(f func(Event) (time.Time, bool)) Option {
	return optionFunc(func(o *options) {
		if f == nil {
			o.errs = append(o.errs, errors.New("Timestamp: the function is nil"))
		}
		o.timestamp = f
	})
}

// Until ends the subscription at the first event for which f returns
// true (the order's "delivered" event, say), before its length is up.
func Until(f func(Event) bool) Option {
	return optionFunc(func(o *options) {
		if f == nil {
			o.errs = append(o.errs, errors.New("Until: the function is nil"))
		}
		o.until = f
	})
}

// NoReconnect ends the subscription when the service ends the stream,
// instead of reconnecting as a browser's EventSource does.
func NoReconnect() Option { return optionFunc(func(o *options) { o.noRetry = true }) }

// step is a Subscribe step.
type step struct {
	url  *scenario.Template
	d    time.Duration
	o    options
	errs []error
}

// Subscribe returns a step that subscribes to the event stream at url
// (with placeholders), through the VU's HTTP client (the journey's
// scenario.Client applies: TLS, Dial, Hosts, Proxy, cookies), and reads
// its events for d, as a browser's EventSource does: when the service
// ends the stream it reconnects after the stream's retry time
// (DefaultRetry unless the stream sets one), sending the last event id as
// Last-Event-ID, and stops at a 204 answer.
//
// Its latency is the subscription's length; it records each connection's
// status (KindStatus), the time to the first event (KindFirstEvent), each
// event after it with the gap before it (KindEvent), each event's delay
// when [Timestamp] finds when it was sent (KindDelay), and the
// reconnections (KindReconnect); its bytes received are the events' data.
//
// A connection answered with another status than 200 or 204 fails the step
// in its class (HTTP4xx, HTTP5xx), one whose Content-Type is not
// text/event-stream as other, and a stream silent past the [Timeout] as a
// timeout.
func Subscribe(name, url string, d time.Duration, opts ...Option) scenario.Part {
	s := &step{d: d}
	for _, opt := range opts {
		if opt == nil {
			s.errs = append(s.errs, errors.New("an option is nil"))
			continue
		}
		opt.apply(&s.o)
	}
	s.errs = append(s.errs, s.o.errs...)
	if d <= 0 {
		s.errs = append(s.errs, fmt.Errorf("Subscribe: the duration is %v; it must be more than 0", d))
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "{{") {
		s.errs = append(s.errs, fmt.Errorf("Subscribe: the URL %q must start with http:// or https://", url))
	}
	t, err := scenario.ParseText("URL", url)
	if err != nil {
		s.errs = append(s.errs, err)
	}
	s.url = t
	return scenario.ProtocolStep(name, s)
}

// Describe tells scenario.New what the step records and uses.
func (s *step) Describe() scenario.StepInfo {
	kinds := []metrics.Kind{KindStatus, KindFirstEvent, KindEvent, KindReconnect}
	if s.o.timestamp != nil {
		kinds = append(kinds, KindDelay)
	}
	var uses []string
	if s.url != nil {
		uses = s.url.Uses()
	}
	for _, h := range s.o.headers {
		for _, u := range h.t.Uses() {
			if !slices.Contains(uses, u) {
				uses = append(uses, u)
			}
		}
	}
	return scenario.StepInfo{Kinds: kinds, Uses: uses, Err: errors.Join(s.errs...)}
}

// Open returns the step's caller.
func (s *step) Open(context.Context, *scenario.Run) (scenario.Caller, error) {
	return scenario.CallerFunc(s.call), nil
}

// errSilent is a stream silent past the step's Timeout.
var errSilent = errors.New("silent")

// sub is one subscription in progress.
type sub struct {
	s      *step
	vu     *scenario.VU
	c      *scenario.Call
	last   time.Time // the last event's arrival; zero before the first
	lastID string
	retry  time.Duration
}

func (s *step) call(ctx context.Context, vu *scenario.VU, c *scenario.Call) error {
	u, err := s.url.Fill(vu)
	if err != nil {
		return metrics.WithOutcome(fmt.Errorf("URL: %w", err), metrics.Other)
	}
	// The subscription ends at its length, or when the stream is silent
	// past the timeout (the cause says which).
	end := c.Start().Add(s.d)
	sctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	rctx, silent := context.WithCancelCause(sctx)
	defer silent(nil)
	var watchdog *time.Timer
	if s.o.timeout > 0 {
		watchdog = time.AfterFunc(s.o.timeout, func() { silent(errSilent) })
		defer watchdog.Stop()
	}
	sb := &sub{s: s, vu: vu, c: c, retry: DefaultRetry}
	// ended says why the subscription is over, if it is.
	ended := func() (bool, error) {
		switch {
		case ctx.Err() != nil:
			return true, ctx.Err() // the run's stop
		case context.Cause(rctx) == errSilent:
			return true, metrics.WithOutcome(fmt.Errorf("no event within the step's timeout of %v", s.o.timeout), metrics.Timeout)
		case sctx.Err() != nil || !time.Now().Before(end):
			return true, nil // its length is up
		}
		return false, nil
	}
	for {
		done, err := sb.stream(rctx, u, watchdog)
		if over, err := ended(); over {
			return err
		}
		switch {
		case done:
			return nil
		case err != nil:
			return err
		case s.o.noRetry:
			return nil
		}
		// The service ended the stream: wait its retry time.
		t := time.NewTimer(sb.retry)
		select {
		case <-t.C:
		case <-rctx.Done():
			t.Stop()
		}
		if over, err := ended(); over {
			return err
		}
		c.Count(KindReconnect, time.Now(), metrics.OK, 1)
	}
}

// stream makes one connection to the stream and reads it until it ends
// (nil error), fails, or the subscription is over (done).
func (sb *sub) stream(ctx context.Context, u string, watchdog *time.Timer) (done bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, metrics.WithOutcome(err, metrics.Other)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	for _, h := range sb.s.o.headers {
		v, err := h.t.Fill(sb.vu)
		if err != nil {
			return false, metrics.WithOutcome(fmt.Errorf("header %s: %w", h.name, err), metrics.Other)
		}
		req.Header.Set(h.name, v)
	}
	if sb.lastID != "" {
		req.Header.Set("Last-Event-ID", sb.lastID)
	}
	resp, err := sb.vu.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return true, nil
		}
		return false, metrics.WithOutcome(fmt.Errorf("connect: %w", err), scenario.NetOutcome(err))
	}
	defer resp.Body.Close()
	sb.c.Status(KindStatus, resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return true, nil // the service says: do not reconnect
	case resp.StatusCode != http.StatusOK:
		o := metrics.Other
		switch {
		case resp.StatusCode >= 500:
			o = metrics.HTTP5xx
		case resp.StatusCode >= 400:
			o = metrics.HTTP4xx
		}
		return false, metrics.WithOutcome(fmt.Errorf("the stream answered %s", resp.Status), o)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, metrics.WithOutcome(fmt.Errorf("the stream's Content-Type is %q, not text/event-stream", resp.Header.Get("Content-Type")), metrics.Other)
	}
	p := newParser(resp.Body, sb.lastID)
	for {
		ev, err := p.next()
		at := time.Now()
		sb.lastID = p.eventID
		if p.retry >= 0 {
			sb.retry = time.Duration(p.retry) * time.Millisecond
		}
		if err != nil {
			if ctx.Err() != nil {
				return true, nil
			}
			if err == io.EOF {
				return false, nil
			}
			if errors.Is(err, errLongLine) {
				return false, metrics.WithOutcome(err, metrics.Other)
			}
			return false, nil // the connection lost: reconnect, as EventSource does
		}
		if watchdog != nil {
			watchdog.Reset(sb.s.o.timeout)
		}
		sb.record(ev, at)
		if sb.s.o.until != nil && sb.s.o.until(ev) {
			return true, nil
		}
	}
}

// record records an event that arrived at at.
func (sb *sub) record(ev Event, at time.Time) {
	c := sb.c
	if sb.last.IsZero() {
		c.Phase(KindFirstEvent, at.Sub(c.Start()))
		c.Count(KindEvent, at, metrics.OK, 1)
	} else {
		c.Record(KindEvent, at, at.Sub(sb.last), metrics.OK)
	}
	sb.last = at
	c.AddBytes(0, int64(len(ev.Data)))
	if ts := sb.s.o.timestamp; ts != nil {
		if t, ok := ts(ev); ok {
			c.Record(KindDelay, at, max(at.Sub(t), 0), metrics.OK)
		}
	}
}
