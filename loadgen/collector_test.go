package loadgen

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stampede-go/stampede/metrics"
)

// TestErrorSamplesDifferBeyondPorts: messages that differ only in the
// ephemeral port of their connection are one example, not three.
func TestErrorSamplesDifferBeyondPorts(t *testing.T) {
	var c collector
	for _, m := range []string{
		"dial tcp 127.0.0.1:41234->127.0.0.1:8080: connection refused",
		"dial tcp 127.0.0.1:41235->127.0.0.1:8080: connection refused",
		"read tcp [::1]:50001->[::1]:8080: connection reset by peer",
		"read tcp [::1]:50002->[::1]:8080: connection reset by peer",
		"status 503",
	} {
		c.note("s", metrics.Other, errors.New(m))
	}
	var got []string
	for _, e := range c.errors {
		got = append(got, e.Message)
	}
	assert.Equal(t, []string{
		"dial tcp 127.0.0.1:41234->127.0.0.1:8080: connection refused",
		"read tcp [::1]:50001->[::1]:8080: connection reset by peer",
		"status 503",
	}, got)
}
