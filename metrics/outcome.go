package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Outcome is what became of one recorded operation: [OK], one of the error
// classes, or one of the two bookkeeping outcomes [Interrupted] and [Dropped].
type Outcome uint8

// The outcomes. [Outcome.IsError] is true for Timeout through Other and for
// Rejected and ServerError, the classes of protocols other than HTTP, which
// came later and follow Dropped so that the values stored before them keep
// their meaning.
const (
	OK          Outcome = iota // succeeded
	Timeout                    // a deadline passed (context deadline, client timeout, gRPC DEADLINE_EXCEEDED)
	Refused                    // connection refused, or the service unavailable (gRPC UNAVAILABLE)
	Reset                      // connection reset or closed by the peer
	HTTP4xx                    // the server answered 4xx
	HTTP5xx                    // the server answered 5xx
	CheckFailed                // the response arrived but a check on it failed
	Panic                      // user code panicked; the panic was recovered
	Other                      // any other error
	Interrupted                // the run stopped it before it finished (not an error)
	Dropped                    // an open-model arrival found no free VU (not an error)
	Rejected                   // a service of another protocol refused the request as the client's fault (gRPC INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED …): its 4xx
	ServerError                // a service of another protocol failed to serve it (gRPC INTERNAL, UNKNOWN …): its 5xx

	// NumOutcomes is the number of outcomes; valid outcomes are < NumOutcomes.
	NumOutcomes
)

var outcomeNames = [NumOutcomes]string{
	OK:          "ok",
	Timeout:     "timeout",
	Refused:     "refused",
	Reset:       "reset",
	HTTP4xx:     "http_4xx",
	HTTP5xx:     "http_5xx",
	CheckFailed: "check",
	Panic:       "panic",
	Other:       "other",
	Interrupted: "interrupted",
	Dropped:     "dropped",
	Rejected:    "rejected",
	ServerError: "server_error",
}

// String returns the outcome's stable name, as used in JSON and reports:
// "ok", "timeout", "refused", "reset", "http_4xx", "http_5xx", "check",
// "panic", "other", "interrupted", "dropped", "rejected" or "server_error".
func (o Outcome) String() string {
	if o < NumOutcomes {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// IsError reports whether o is an error class: Timeout through Other,
// Rejected or ServerError.
func (o Outcome) IsError() bool {
	return o >= Timeout && o <= Other || o == Rejected || o == ServerError
}

var errorClasses = [...]Outcome{Timeout, Refused, Reset, HTTP4xx, HTTP5xx, Rejected, ServerError, CheckFailed, Panic, Other}

// ErrorClasses returns the error outcomes in their fixed order, the order
// reports list them in: the service's answers (HTTP's and other
// protocols') after the connection's failures and before the client's
// own.
func ErrorClasses() [len(errorClasses)]Outcome { return errorClasses }

// ParseOutcome returns the outcome whose [Outcome.String] is s.
func ParseOutcome(s string) (Outcome, error) {
	if i := slices.Index(outcomeNames[:], s); i >= 0 {
		return Outcome(i), nil
	}
	return 0, fmt.Errorf("metrics: unknown outcome %q (allowed: %s)", s, strings.Join(outcomeNames[:], ", "))
}

// Counts holds one counter per outcome, indexed by [Outcome].
// Its JSON form is an object from outcome name to count, zeros left out.
type Counts [NumOutcomes]int64

// Total returns the number of operations that started: every outcome but
// [Dropped], which never started.
func (c Counts) Total() int64 {
	var n int64
	for o, v := range c {
		if Outcome(o) != Dropped {
			n = satAdd(n, v)
		}
	}
	return n
}

// Errors returns the number of operations whose outcome is an error class.
func (c Counts) Errors() int64 {
	var n int64
	for _, o := range errorClasses {
		n = satAdd(n, c[o])
	}
	return n
}

// Add adds o's counts to c, saturating at the largest int64 rather than
// wrapping round to a negative count.
func (c *Counts) Add(o *Counts) {
	for i := range c {
		c[i] = satAdd(c[i], o[i])
	}
}

// MarshalJSON encodes the non-zero counts as {"ok": 10, "timeout": 2}.
func (c Counts) MarshalJSON() ([]byte, error) {
	m := make(map[string]int64, 2)
	for o, v := range c {
		if v != 0 {
			m[outcomeNames[o]] = v
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON decodes the form MarshalJSON writes; unknown outcome names and
// negative counts are errors.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = Counts{}
	for k, v := range m {
		o, err := ParseOutcome(k)
		if err != nil {
			return err
		}
		if v < 0 {
			return fmt.Errorf("metrics: count of %q must be >= 0, got %d", k, v)
		}
		c[o] = v
	}
	return nil
}

// Error is an error that carries its outcome class. Steps return one to say
// how a failure should be counted; [OutcomeOf] finds it in a wrapped chain.
type Error struct {
	Outcome Outcome
	Err     error
}

// Error returns the wrapped error's message.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Outcome.String()
	}
	return e.Err.Error()
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// WithOutcome returns err marked with outcome o (nil stays nil).
func WithOutcome(err error, o Outcome) error {
	if err == nil {
		return nil
	}
	return &Error{Outcome: o, Err: err}
}

// OutcomeOf classifies err: nil is [OK]; an [*Error] in the chain gives its
// outcome; context.DeadlineExceeded or an error with a true Timeout() method
// is [Timeout]; anything else is [Other].
func OutcomeOf(err error) Outcome {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Outcome
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout
	}
	var t interface{ Timeout() bool }
	if errors.As(err, &t) && t.Timeout() {
		return Timeout
	}
	return Other
}
