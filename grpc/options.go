package stampedegrpc

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/stampede-go/stampede/scenario"
)

// An Option sets how a gRPC step calls and what it checks.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// options are a step's options as given, before they are checked against
// its message types.
type options struct {
	timeout  time.Duration
	expect   []codes.Code
	metadata []metadataValue
	checks   []any // func(*scenario.VU, M) error
	extracts []extractor
	uses     []string
	errs     []error
}

type metadataValue struct {
	key string
	t   *scenario.Template
}

type extractor struct {
	key string
	f   any // func(M) (string, error)
}

// Timeout bounds each call of the step (the deadline the service sees);
// past it the call ends with DEADLINE_EXCEEDED, counted as a timeout. The
// default is scenario.DefaultTimeout.
func Timeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d <= 0 {
			o.errs = append(o.errs, fmt.Errorf("Timeout is %v; it must be more than 0", d))
		}
		o.timeout = d
	})
}

// Expect lists the status codes that pass (by default OK alone): a call
// that ends with another fails, in the class OutcomeOf gives its code.
// Expect(codes.OK, codes.NotFound) lets a lookup of a missing key pass;
// its checks and extractors run only on messages received.
func Expect(cs ...codes.Code) Option {
	return optionFunc(func(o *options) {
		if len(cs) == 0 {
			o.errs = append(o.errs, errors.New("Expect needs at least one status code"))
		}
		for _, c := range cs {
			if c > codes.Unauthenticated {
				o.errs = append(o.errs, fmt.Errorf("Expect: status code %d is not one of gRPC's (0 OK to 16 UNAUTHENTICATED)", c))
			}
		}
		o.expect = append(o.expect, cs...)
	})
}

// Metadata sends the header key with every call of the step, its value a
// template filled for each VU ({{name}} is a value stored by an earlier
// step or a column of the current row; see scenario.ParseText). Keys are
// lowercase letters, digits and - _ . (as gRPC requires), not starting
// with "grpc-"; a key ending in "-bin" carries bytes.
func Metadata(key, value string) Option {
	return optionFunc(func(o *options) {
		if err := checkMetadataKey(key); err != nil {
			o.errs = append(o.errs, err)
			return
		}
		t, err := scenario.ParseText("metadata "+key, value)
		if err != nil {
			o.errs = append(o.errs, err)
			return
		}
		o.metadata = append(o.metadata, metadataValue{key: key, t: t})
		o.uses = append(o.uses, t.Uses()...)
	})
}

func checkMetadataKey(key string) error {
	if key == "" {
		return errors.New("Metadata: the key is empty")
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("Metadata: key %q holds %q; keys are lowercase letters, digits and - _ .", key, r)
		}
	}
	if strings.HasPrefix(key, "grpc-") {
		return fmt.Errorf("Metadata: key %q starts with grpc-, which gRPC reserves for itself", key)
	}
	return nil
}

// Check runs f on each message the step receives: the response of a unary
// call or a client stream, every message of a server or bidirectional
// stream. An error from f fails the step as a failed check, and a stream
// is then cancelled. M is the step's response message type, such as
// *pb.GetReply; a check of another type fails New and names both.
func Check[M any](f func(vu *scenario.VU, msg M) error) Option {
	return optionFunc(func(o *options) {
		if f == nil {
			o.errs = append(o.errs, errors.New("Check: the function is nil"))
			return
		}
		o.checks = append(o.checks, f)
	})
}

// Extract stores what f returns from the last message received under key,
// for the placeholders and requests of later steps (scenario.VU.Get): an
// order's id from its creation, say. An error from f fails the step as a
// failed check.
func Extract[M any](key string, f func(msg M) (string, error)) Option {
	return optionFunc(func(o *options) {
		switch {
		case f == nil:
			o.errs = append(o.errs, fmt.Errorf("Extract %q: the function is nil", key))
		case key == "" || strings.ContainsAny(key, "{} \t\r\n"):
			o.errs = append(o.errs, fmt.Errorf("Extract: key %q must be non-empty, without spaces or braces", key))
		default:
			o.extracts = append(o.extracts, extractor{key: key, f: f})
		}
	})
}

// Uses declares the values the step's request function reads with
// scenario.VU.Get, so that New checks that an earlier step or the data
// row provides each, as it does for placeholders.
func Uses(names ...string) Option {
	return optionFunc(func(o *options) { o.uses = append(o.uses, names...) })
}

// msgFuncs are a step's checks and extractors, typed for its messages.
type msgFuncs[M any] struct {
	checks   []func(*scenario.VU, M) error
	extracts []func(M) (string, error)
	keys     []string
}

// typed returns o's checks and extractors for messages of type M, and an
// error naming any of another type.
func typed[M any](o *options) msgFuncs[M] {
	var fs msgFuncs[M]
	want := reflect.TypeFor[M]()
	for i, c := range o.checks {
		f, ok := c.(func(*scenario.VU, M) error)
		if !ok {
			o.errs = append(o.errs, fmt.Errorf("Check %d takes %s; the step's messages are %s", i, reflect.TypeOf(c).In(1), want))
			continue
		}
		fs.checks = append(fs.checks, f)
	}
	for _, e := range o.extracts {
		f, ok := e.f.(func(M) (string, error))
		if !ok {
			o.errs = append(o.errs, fmt.Errorf("Extract %q takes %s; the step's messages are %s", e.key, reflect.TypeOf(e.f).In(0), want))
			continue
		}
		fs.extracts = append(fs.extracts, f)
		fs.keys = append(fs.keys, e.key)
	}
	return fs
}

// check runs the checks on m.
func (fs *msgFuncs[M]) check(vu *scenario.VU, m M) error {
	for _, c := range fs.checks {
		if err := c(vu, m); err != nil {
			return err
		}
	}
	return nil
}

// extract stores what the extractors take from m.
func (fs *msgFuncs[M]) extract(vu *scenario.VU, m M) error {
	for i, f := range fs.extracts {
		v, err := f(m)
		if err != nil {
			return fmt.Errorf("extract %s: %w", fs.keys[i], err)
		}
		vu.Set(fs.keys[i], v)
	}
	return nil
}

func (o *options) expects(c codes.Code) bool {
	if o.expect == nil {
		return c == codes.OK
	}
	return slices.Contains(o.expect, c)
}
