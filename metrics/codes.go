package metrics

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
)

// Status codes of protocols other than HTTP are counted on a series of the
// protocol's own kind under the step's name (see [StatusCounts]): the kind
// says what the codes mean. A protocol's package names its codes once with
// RegisterCodes, and reports and thresholds then print and parse the names.

var codeNames struct {
	sync.RWMutex
	byKind map[Kind]map[int]string
}

// RegisterCodes names the status codes counted on series of kind k, such as
// gRPC's 14 "UNAVAILABLE" on kind "grpc", for reports ([CodeName]) and
// thresholds ([ParseCode]). A protocol's package calls it from its init
// function; a later call for the same kind replaces the names. Codes
// outside [MinStatus]..[MaxStatus] and empty names are ignored. A program
// that reads a result without importing the protocol's package shows the
// codes as numbers.
func RegisterCodes(k Kind, names map[int]string) {
	m := make(map[int]string, len(names))
	for c, n := range names {
		if c >= MinStatus && c <= MaxStatus && n != "" {
			m[c] = n
		}
	}
	codeNames.Lock()
	defer codeNames.Unlock()
	if codeNames.byKind == nil {
		codeNames.byKind = map[Kind]map[int]string{}
	}
	codeNames.byKind[k] = m
}

// HasCodeNames reports whether names were registered for kind k.
func HasCodeNames(k Kind) bool {
	codeNames.RLock()
	defer codeNames.RUnlock()
	_, ok := codeNames.byKind[k]
	return ok
}

// CodeName returns the name of status code c on series of kind k: the name
// registered for it, or else c in decimal (HTTP's codes are their numbers).
func CodeName(k Kind, c int) string {
	codeNames.RLock()
	n, ok := codeNames.byKind[k][c]
	codeNames.RUnlock()
	if ok {
		return n
	}
	return strconv.Itoa(c)
}

// ParseCode returns the status code of kind k that s names: a name
// registered for k, or a number in [MinStatus]..[MaxStatus].
func ParseCode(k Kind, s string) (int, error) {
	codeNames.RLock()
	defer codeNames.RUnlock()
	names := codeNames.byKind[k]
	for c, n := range names {
		if n == s {
			return c, nil
		}
	}
	c, err := strconv.Atoi(s)
	switch {
	case err == nil && c >= MinStatus && c <= MaxStatus:
		return c, nil
	case len(names) > 0:
		first := slices.Min(slices.Collect(maps.Keys(names)))
		return 0, fmt.Errorf("metrics: %q is not a status code of kind %q: want a number in %d..%d or one of its names, such as %s", s, k, MinStatus, MaxStatus, names[first])
	}
	return 0, fmt.Errorf("metrics: status code %q must be a number in %d..%d", s, MinStatus, MaxStatus)
}
