package stampedegrpc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/grpc"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/stampede-go/stampede/scenario"
)

// Dynamic returns a step that calls a method by its name,
// "package.Service/Method", with no generated code: when the run starts,
// the step asks the service's reflection (grpc's reflection service, v1,
// which a Go server offers after reflection.Register) for the method's
// messages; each call then sends request, the JSON form of the request
// message (as protojson reads it), a template filled for the VU:
//
//	stampedegrpc.Dynamic("create", svc, "orders.v1.Orders/Create", `{"user": "{{user}}", "items": [{"sku": "{{sku}}"}]}`)
//
// A unary method is called as [Unary] calls one, a server-streaming one as
// [ServerStream] does; methods that stream requests need stubs. Checks and
// extractors take the messages as proto.Message (Check(func(vu
// *scenario.VU, m proto.Message) error {...}); protojson.Marshal gives
// their JSON). A method the service does not have, or no reflection, stops
// the run before any load, with the reason.
func Dynamic(name string, c *Client, method, request string, opts ...Option) scenario.Part {
	s := newStep[proto.Message](c, serverKinds, opts)
	svc, m, ok := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	if !ok || svc == "" || m == "" || strings.Contains(m, "/") {
		s.errs = append(s.errs, fmt.Errorf("method %q: want package.Service/Method, such as grpc.health.v1.Health/Check", method))
	}
	t, err := scenario.ParseJSON("request", request)
	if err != nil {
		s.errs = append(s.errs, err)
	} else {
		s.o.uses = append(s.o.uses, t.Uses()...)
	}
	return scenario.ProtocolStep(name, &dynamic{s: s, svc: svc, method: m, t: t})
}

// dynamic is a step that calls a method by name.
type dynamic struct {
	s           *step[proto.Message]
	svc, method string
	t           *scenario.Template
}

func (d *dynamic) Describe() scenario.StepInfo { return d.s.Describe() }

// resolved is a service's description as its reflection gave it, once a
// run for every step of the service.
type resolvedKey struct {
	c   *Client
	svc string
}

func (d *dynamic) Open(ctx context.Context, r *scenario.Run) (scenario.Caller, error) {
	cs, err := openConns(r, d.s.client)
	if err != nil {
		return nil, err
	}
	ws, err := openWatchdogs(r)
	if err != nil {
		return nil, err
	}
	v, err := r.Shared(resolvedKey{d.s.client, d.svc}, func() (any, error) {
		return resolveService(ctx, d.s.client, d.svc)
	})
	if err != nil {
		return nil, err
	}
	sd := v.(protoreflect.ServiceDescriptor)
	md := sd.Methods().ByName(protoreflect.Name(d.method))
	if md == nil {
		var have []string
		for i := range sd.Methods().Len() {
			have = append(have, string(sd.Methods().Get(i).Name()))
		}
		return nil, fmt.Errorf("service %s has no method %s (it has %s)", d.svc, d.method, strings.Join(have, ", "))
	}
	if md.IsStreamingClient() {
		return nil, fmt.Errorf("method %s/%s streams requests: call it on the service's generated stubs with ClientStream, Bidi or BidiFunc", d.svc, d.method)
	}
	in, out := md.Input(), md.Output()
	full := "/" + d.svc + "/" + d.method
	request := func(vu *scenario.VU) (proto.Message, error) {
		b, err := d.t.AppendFill(nil, vu)
		if err != nil {
			return nil, err
		}
		m := dynamicpb.NewMessage(in)
		if err := protojson.Unmarshal(b, m); err != nil {
			return nil, fmt.Errorf("%s: %w", in.FullName(), err)
		}
		return m, nil
	}
	op := &opened{cs, ws}
	if !md.IsStreamingServer() {
		return unaryCaller(d.s, op, request, func(cc *grpc.ClientConn, ctx context.Context, req proto.Message) (proto.Message, error) {
			resp := dynamicpb.NewMessage(out)
			if err := cc.Invoke(ctx, full, req, resp); err != nil {
				return nil, err
			}
			return resp, nil
		}), nil
	}
	desc := &grpc.StreamDesc{StreamName: d.method, ServerStreams: true}
	return serverStreamCaller(d.s, op, request, func(cc *grpc.ClientConn, ctx context.Context, req proto.Message) (func() (proto.Message, error), error) {
		stream, err := cc.NewStream(ctx, desc, full)
		if err != nil {
			return nil, err
		}
		if err := stream.SendMsg(req); err != nil {
			return nil, err
		}
		if err := stream.CloseSend(); err != nil {
			return nil, err
		}
		return func() (proto.Message, error) {
			m := dynamicpb.NewMessage(out)
			if err := stream.RecvMsg(m); err != nil {
				return nil, err
			}
			return m, nil
		}, nil
	}), nil
}

// resolveService asks the service's reflection for the description of
// service svc, on a connection of its own.
func resolveService(ctx context.Context, c *Client, svc string) (protoreflect.ServiceDescriptor, error) {
	cc, err := grpc.NewClient(c.Target, c.dialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, scenario.DefaultTimeout)
	defer cancel()
	stream, err := rpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("service %s: asking its reflection: %w", svc, err)
	}
	defer stream.CloseSend()
	files := map[string]*descriptorpb.FileDescriptorProto{}
	ask := func(req *rpb.ServerReflectionRequest) error {
		if err := stream.Send(req); err != nil {
			return err
		}
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		if e := resp.GetErrorResponse(); e != nil {
			return unknownToReflection(e.GetErrorMessage())
		}
		for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fd := new(descriptorpb.FileDescriptorProto)
			if err := proto.Unmarshal(b, fd); err != nil {
				return err
			}
			files[fd.GetName()] = fd
		}
		return nil
	}
	if err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: svc}}); err != nil {
		var unknown unknownToReflection
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("service %s: its reflection does not know it: %w", svc, err)
		}
		return nil, fmt.Errorf("service %s: asking its reflection (is grpc's reflection service registered, reflection.Register in Go?): %w", svc, err)
	}
	// The files it depends on, that the server did not send with it.
	for {
		var missing []string
		for _, fd := range files {
			for _, dep := range fd.GetDependency() {
				if _, ok := files[dep]; !ok && !slices.Contains(missing, dep) {
					missing = append(missing, dep)
				}
			}
		}
		if len(missing) == 0 {
			break
		}
		for _, dep := range missing {
			if err := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: dep}}); err != nil {
				// A well-known file the service does not serve: this
				// program's copy.
				fd, gerr := protoregistry.GlobalFiles.FindFileByPath(dep)
				if gerr != nil {
					return nil, fmt.Errorf("service %s: file %s: %w", svc, dep, err)
				}
				files[dep] = protodesc.ToFileDescriptorProto(fd)
			}
		}
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, fd := range files {
		set.File = append(set.File, fd)
	}
	reg, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("service %s: its description: %w", svc, err)
	}
	d, err := reg.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil, fmt.Errorf("service %s: not in its reflection's files: %w", svc, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is a %T, not a service", svc, d)
	}
	return sd, nil
}

// unknownToReflection is what a service's reflection answers when it does
// not know what it was asked.
type unknownToReflection string

func (u unknownToReflection) Error() string { return string(u) }
