package jsonfield

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFields(t *testing.T) {
	msg := []byte(`{"id":"a-1","n":42,"ms":1700000000123.5,"at":"2026-12-04T12:00:00.5Z","obj":{}}`)
	for name, want := range map[string]string{"id": "a-1", "n": "42"} {
		got, ok := String(msg, name)
		assert.True(t, ok, name)
		assert.Equal(t, want, got)
	}
	_, ok := String(msg, "obj")
	assert.False(t, ok, "an object is no id")
	_, ok = String([]byte("not json"), "id")
	assert.False(t, ok)

	ms, ok := Time(msg, "ms")
	assert.True(t, ok)
	assert.Equal(t, time.UnixMicro(1700000000123500), ms)
	at, ok := Time(msg, "at")
	assert.True(t, ok)
	assert.Equal(t, time.Date(2026, 12, 4, 12, 0, 0, 5e8, time.UTC), at.UTC())
	for _, name := range []string{"id", "obj", "none"} {
		_, ok := Time(msg, name)
		assert.False(t, ok, name)
	}
}
