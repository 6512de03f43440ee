package stampedesse

import (
	"time"

	"github.com/stampede-go/stampede/ws/internal/jsonfield"
)

// JSONTime returns a function for [Timestamp] that reads the top-level
// field name of an event's JSON data: a number of milliseconds since the
// Unix epoch (JavaScript's Date.now(), which may have a fraction), or a
// string in RFC 3339 format.
func JSONTime(name string) func(Event) (time.Time, bool) {
	return func(ev Event) (time.Time, bool) { return jsonfield.Time([]byte(ev.Data), name) }
}
