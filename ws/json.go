package stampedews

import (
	"time"

	"github.com/stampede-go/stampede/ws/internal/jsonfield"
)

// JSONField returns a function for Client.ID that reads the top-level
// field name of a JSON object message, a string or a number:
// JSONField("id") finds "42-7" in {"id":"42-7","text":"hi"}.
func JSONField(name string) func(msg []byte) (string, bool) {
	return func(msg []byte) (string, bool) { return jsonfield.String(msg, name) }
}

// JSONTime returns a function for Client.Timestamp that reads the
// top-level field name of a JSON object message: a number of milliseconds
// since the Unix epoch (JavaScript's Date.now(), which may have a
// fraction), or a string in RFC 3339 format.
func JSONTime(name string) func(msg []byte) (time.Time, bool) {
	return func(msg []byte) (time.Time, bool) { return jsonfield.Time(msg, name) }
}
