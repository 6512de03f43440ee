package stampedesse

import (
	"encoding/json"
	"strconv"
	"time"
)

// JSONTime returns a function for [Timestamp] that reads the top-level
// field name of an event's JSON data: a number of milliseconds since the
// Unix epoch (JavaScript's Date.now(), which may have a fraction), or a
// string in RFC 3339 format.
func JSONTime(name string) func(Event) (time.Time, bool) {
	return func(ev Event) (time.Time, bool) {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(ev.Data), &obj) != nil {
			return time.Time{}, false
		}
		raw, ok := obj[name]
		if !ok {
			return time.Time{}, false
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			t, err := time.Parse(time.RFC3339Nano, s)
			return t, err == nil
		}
		ms, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.UnixMicro(int64(ms * 1000)), true
	}
}
