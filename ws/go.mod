module github.com/stampede-go/stampede/ws

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	github.com/stampede-go/stampede v0.0.0-20261204124319-998f2733f51f
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

