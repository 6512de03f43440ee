// Command target serves grpc-go's interop test service on a loopback port
// for bench/unary.sh: EmptyCall answers at once, and server reflection lets
// ghz call it without the proto files.
//
//	go run ./bench/target -port 50051 [-max-run 10m]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/reflection"
)

type service struct {
	testgrpc.UnimplementedTestServiceServer
}

func (service) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return &testgrpc.Empty{}, nil
}

func main() {
	port := flag.Int("port", 50051, "the loopback port to listen on")
	maxRun := flag.Duration("max-run", 10*time.Minute, "exit after this long, in case the script that started it does not stop it")
	flag.Parse()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(srv, service{})
	reflection.Register(srv)
	time.AfterFunc(*maxRun, func() { os.Exit(0) })
	log.Fatal(srv.Serve(l))
}
