// Package gotest shows load tests written as ordinary Go tests: a test that
// fails when thresholds are not met, and a benchmark that reports latency
// percentiles. Run them with:
//
//	go test ./examples/gotest/
//	go test ./examples/gotest/ -run '^$' -bench .
package gotest
