package loadgen

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"sync"

	"github.com/stampede-go/stampede/metrics"
)

// collector keeps a few examples of errors and panics for the Result.
type collector struct {
	mu     sync.Mutex
	errors []ErrorSample
	panics []PanicSample
	seen   map[errKey]int
	looks  map[errKey]int // errors looked at since the last new example
	// morePanics counts panics beyond the kept samples.
	morePanics int64
}

type errKey struct {
	scenario string
	outcome  metrics.Outcome
}

const (
	maxErrorSamples = 3    // distinct messages per scenario and outcome
	maxErrorLooks   = 1000 // errors of a class looked at for a new example
	maxPanics       = 5    // per run
)

// note keeps err as an example of its scenario and class, unless three
// are kept already or one like it is: messages that differ only in a port
// number (the ephemeral port of a connection) are alike. After
// maxErrorLooks errors of a class without a new example, it stops looking.
func (c *collector) note(scenario string, o metrics.Outcome, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen, c.looks = map[errKey]int{}, map[errKey]int{}
	}
	k := errKey{scenario, o}
	if c.seen[k] >= maxErrorSamples || c.looks[k] >= maxErrorLooks {
		return
	}
	c.looks[k]++
	msg := err.Error()
	like := ports.ReplaceAllString(msg, "$1:port")
	for _, e := range c.errors {
		if e.Scenario == scenario && e.Outcome == o.String() && ports.ReplaceAllString(e.Message, "$1:port") == like {
			return // examples differ from each other
		}
	}
	c.seen[k]++
	c.looks[k] = 0
	c.errors = append(c.errors, ErrorSample{Scenario: scenario, Outcome: o.String(), Message: msg})
}

// ports matches an IP address with its port, as network errors print
// them ("127.0.0.1:41234", "[::1]:41234").
var ports = regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+|\[[0-9A-Fa-f:.]+\]):\d+`)

// panicked keeps a recovered panic of user code (where, in scenario) and
// returns it as an error of class panic. The same panic again only counts.
func (c *collector) panicked(scenario, where string, v any) error {
	return c.keep(scenario, where, v, debug.Stack())
}

// keep keeps a panic with the stack where it was recovered.
func (c *collector) keep(scenario, where string, v any, stack []byte) error {
	val := fmt.Sprint(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.panics {
		if p := &c.panics[i]; p.Scenario == scenario && p.Where == where && p.Value == val {
			p.Count++
			return metrics.WithOutcome(fmt.Errorf("panic: %s", val), metrics.Panic)
		}
	}
	if len(c.panics) < maxPanics {
		c.panics = append(c.panics, PanicSample{Scenario: scenario, Where: where, Value: val, Stack: string(stack), Count: 1})
	} else {
		c.morePanics++
	}
	return metrics.WithOutcome(fmt.Errorf("panic: %s", val), metrics.Panic)
}
