package stampedews

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stampede-go/stampede/scenario"
)

// An Option changes what a WebSocket step does.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type extractor struct {
	key string
	f   func(msg []byte) (string, error)
}

type options struct {
	timeout time.Duration
	binary  bool
	extract []extractor
	every   time.Duration
	message func(vu *scenario.VU, seq int) []byte // Every's
	errs    []error
}

// Timeout bounds what the step waits for: the handshake of Connect, the
// message of Receive, the reply of RoundTrip, and, in a Hold, the reply of
// each message it sends. Past it the step (or the message) fails as a
// timeout, and the connection stays open. The default is
// scenario.DefaultTimeout.
func Timeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.errs = append(o.errs, fmt.Errorf("Timeout is %v; it must be more than 0", d))
		}
		o.timeout = d
	})
}

// Binary sends the step's messages as binary messages instead of text:
// Send's, RoundTrip's and a Hold's with Every; other steps refuse it.
func Binary() Option { return optionFunc(func(o *options) { o.binary = true }) }

// Extract stores under key the value f returns from the message the step
// waited for (Receive's, RoundTrip's reply), for the steps after it
// ({{key}}); an error from f fails the step as a failed check. Other
// steps, which wait for no message, refuse it.
func Extract(key string, f func(msg []byte) (string, error)) Option {
	return optionFunc(func(o *options) {
		switch {
		case key == "" || strings.ContainsAny(key, "{} \t\r\n"):
			o.errs = append(o.errs, fmt.Errorf("Extract: the key %q must be non-empty, without spaces or braces", key))
		case f == nil:
			o.errs = append(o.errs, fmt.Errorf("Extract %q: the function is nil", key))
		default:
			o.extract = append(o.extract, extractor{key, f})
		}
	})
}

// Every has a Hold (and only a Hold) send a message every interval, an open model of
// messages on each connection: the one numbered seq (0, 1, 2 …) is due at
// the hold's start plus seq intervals, and its round trip (KindRoundTrip)
// is timed from then, however late the generator sends it. message makes
// each message's bytes, with an id of its own for Client.ID to find:
//
//	stampedews.Every(time.Second, func(vu *scenario.VU, seq int) []byte {
//		return fmt.Appendf(nil, `{"id":"%d-%d","text":"ping"}`, vu.ID, seq)
//	})
func Every(interval time.Duration, message func(vu *scenario.VU, seq int) []byte) Option {
	return optionFunc(func(o *options) {
		if interval <= 0 {
			o.errs = append(o.errs, fmt.Errorf("Every: the interval is %v; it must be more than 0", interval))
		}
		if message == nil {
			o.errs = append(o.errs, errors.New("Every: the message function is nil"))
		}
		o.every, o.message = interval, message
	})
}

// newOptions applies opts.
func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		if opt == nil {
			o.errs = append(o.errs, errors.New("an option is nil"))
			continue
		}
		opt.apply(&o)
	}
	if o.timeout == 0 {
		o.timeout = scenario.DefaultTimeout
	}
	return o
}

// parseMessage parses a message to send: a JSON template when it starts
// with { or [ (a placeholder inside a string is escaped as JSON), text
// otherwise.
func parseMessage(what, s string) (*scenario.Template, error) {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return scenario.ParseJSON(what, s)
	}
	return scenario.ParseText(what, s)
}
