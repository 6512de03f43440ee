module github.com/stampede-go/stampede/examples/chat

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	github.com/stampede-go/stampede v0.0.0-20261204121737-10c4ba62ed6f
	github.com/stampede-go/stampede/ws v0.0.0-20261204123904-55b0b8ec3559
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0 // indirect
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	github.com/montanaflynn/stats v0.14.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da // indirect
)
