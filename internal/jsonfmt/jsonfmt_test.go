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
	v, err := Version([]byte(`{"version":2}`), errV, 1, 2)
	assert.NoError(t, err)
	assert.Equal(t, 2, v)
	_, err = Version([]byte(`{"version":3}`), errV, 2)
	assert.ErrorIs(t, err, errV)
	assert.EqualError(t, err, "bad version: got 3, want 2")
	_, err = Version([]byte(`{}`), errV, 1, 2)
	assert.EqualError(t, err, "bad version: got none, want 1 or 2")
	_, err = Version([]byte(`[`), errV, 2)
	assert.Error(t, err)
}

func TestStrict(t *testing.T) {
	var v struct{ A int }
	assert.NoError(t, StrictBytes([]byte(`{"A":1}`), &v))
	assert.Equal(t, 1, v.A)
	assert.ErrorContains(t, StrictBytes([]byte(`{"B":1}`), &v), "unknown field")
	assert.EqualError(t, StrictBytes([]byte(`{"A":1} {}`), &v), "trailing data after the value")
}
