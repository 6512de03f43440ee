package stampedews

import (
	"encoding/json"
	"strconv"
	"time"
)

// JSONField returns a function for Client.ID that reads the top-level
// field name of a JSON object message, a string or a number:
// JSONField("id") finds "42-7" in {"id":"42-7","text":"hi"}.
func JSONField(name string) func(msg []byte) (string, bool) {
	return func(msg []byte) (string, bool) {
		raw, ok := field(msg, name)
		if !ok {
			return "", false
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String(), true
		}
		return "", false
	}
}

// JSONTime returns a function for Client.Timestamp that reads the
// top-level field name of a JSON object message: a number of milliseconds
// since the Unix epoch (JavaScript's Date.now(), which may have a
// fraction), or a string in RFC 3339 format.
func JSONTime(name string) func(msg []byte) (time.Time, bool) {
	return func(msg []byte) (time.Time, bool) {
		raw, ok := field(msg, name)
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

// field returns the raw value of the top-level field name of a JSON
// object.
func field(msg []byte, name string) (json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(msg, &obj) != nil {
		return nil, false
	}
	raw, ok := obj[name]
	return raw, ok
}
