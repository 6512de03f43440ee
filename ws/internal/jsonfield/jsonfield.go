// Package jsonfield reads a top-level field of a JSON object message: an
// id or a timestamp, for the WebSocket and Server-Sent Events steps.
package jsonfield

import (
	"encoding/json"
	"strconv"
	"time"
)

// Raw returns the raw value of the top-level field name of the JSON
// object msg.
func Raw(msg []byte, name string) (json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(msg, &obj) != nil {
		return nil, false
	}
	raw, ok := obj[name]
	return raw, ok
}

// String returns the field name of msg as a string: a JSON string's
// value, or a number as written.
func String(msg []byte, name string) (string, bool) {
	raw, ok := Raw(msg, name)
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

// Time returns the field name of msg as a time: a number of milliseconds
// since the Unix epoch (which may have a fraction), or a string in RFC 3339
// format.
func Time(msg []byte, name string) (time.Time, bool) {
	raw, ok := Raw(msg, name)
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
