package jsonfmt

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errV = errors.New("bad version")

func TestCheckVersion(t *testing.T) {
	assert.NoError(t, CheckVersion([]byte(`{"version":2}`), 2, errV))
	err := CheckVersion([]byte(`{"version":3}`), 2, errV)
	assert.ErrorIs(t, err, errV)
	assert.EqualError(t, err, "bad version: got 3, want 2")
	assert.EqualError(t, CheckVersion([]byte(`{}`), 2, errV), "bad version: got none, want 2")
	assert.Error(t, CheckVersion([]byte(`[`), 2, errV))
}

func TestStrict(t *testing.T) {
	var v struct{ A int }
	assert.NoError(t, StrictBytes([]byte(`{"A":1}`), &v))
	assert.Equal(t, 1, v.A)
	assert.ErrorContains(t, StrictBytes([]byte(`{"B":1}`), &v), "unknown field")
	assert.EqualError(t, StrictBytes([]byte(`{"A":1} {}`), &v), "trailing data after the value")
}
