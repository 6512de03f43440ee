package stampedegrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// The kinds each type of step records.
var (
	unaryKinds  = []metrics.Kind{KindStatus, KindConnect, KindHeaders}
	serverKinds = []metrics.Kind{KindStatus, KindConnect, KindHeaders, KindFirstMessage, KindLastMessage, KindMessage}
	clientKinds = []metrics.Kind{KindStatus, KindConnect, KindHeaders, KindSent}
	bidiKinds   = []metrics.Kind{KindStatus, KindConnect, KindHeaders, KindFirstMessage, KindLastMessage, KindMessage, KindSent}
)

// step is what every gRPC step has: its client, options, and the checks
// and extractors of its messages M.
type step[M any] struct {
	client *Client
	kinds  []metrics.Kind
	o      options
	fs     msgFuncs[M]
	errs   []error
}

func newStep[M any](c *Client, kinds []metrics.Kind, opts []Option, fns ...any) *step[M] {
	s := &step[M]{client: c, kinds: kinds}
	for _, opt := range opts {
		if opt == nil {
			s.o.errs = append(s.o.errs, errors.New("an option is nil"))
			continue
		}
		opt.apply(&s.o)
	}
	if s.o.timeout == 0 {
		s.o.timeout = scenario.DefaultTimeout
	}
	s.fs = typed[M](&s.o)
	if err := c.check(); err != nil {
		s.errs = append(s.errs, err)
	}
	for _, f := range fns {
		if v := reflect.ValueOf(f); v.Kind() == reflect.Func && v.IsNil() {
			s.errs = append(s.errs, errors.New("the stub, method and request functions must not be nil"))
			break
		}
	}
	s.errs = append(s.errs, s.o.errs...)
	return s
}

// Describe tells scenario.New what the step records, uses and stores.
func (s *step[M]) Describe() scenario.StepInfo {
	return scenario.StepInfo{
		Kinds:  s.kinds,
		Uses:   s.o.uses,
		Stores: s.fs.keys,
		Err:    errors.Join(s.errs...),
	}
}

// call is one call of a step in progress.
type call struct {
	cn         *conn
	ctx        context.Context
	w          *watchdog
	st         *callState // nil unless the client times headers
	sent, recv int64      // message bytes
}

// begin readies a call of vu: its deadline, its connection (a wait for
// one to be ready recorded as the connect phase), metadata, and the state
// its headers are timed in.
func (s *step[M]) begin(ctx context.Context, r *opened, vu *scenario.VU, c *scenario.Call) (*call, error) {
	cl := &call{w: r.watchdogs.forVU(vu, ctx)}
	cl.ctx = cl.w.arm(s.o.timeout) // the deadline bounds the wait for a connection too
	cn, wait, err := r.conns.get(cl.ctx, vu)
	if err != nil {
		cl.w.disarm()
		return nil, err
	}
	cl.cn = cn
	if wait >= 0 {
		c.Phase(KindConnect, wait)
	}
	if len(s.o.metadata) > 0 {
		kv := make([]string, 0, 2*len(s.o.metadata))
		for _, m := range s.o.metadata {
			v, err := m.t.Fill(vu)
			if err != nil {
				cl.w.disarm()
				return nil, metrics.WithOutcome(err, metrics.Other)
			}
			kv = append(kv, m.key, v)
		}
		cl.ctx = metadata.AppendToOutgoingContext(cl.ctx, kv...)
	}
	if s.client.Headers {
		cl.ctx, cl.st = withState(cl.ctx)
	}
	return cl, nil
}

// end records what the call's state saw and returns the step's error:
// err, the call's own error, is a status (or nil, OK) unless a check or
// the request failed first.
func (s *step[M]) end(ctx context.Context, cl *call, c *scenario.Call, err error) error {
	if cl.w.disarm() && ctx.Err() == nil && status.Code(err) == codes.Canceled {
		// The watchdog cut the call off at its deadline.
		err = status.Errorf(codes.DeadlineExceeded, "no answer within the step's timeout of %v", s.o.timeout)
	}
	if cl.st != nil {
		if h := cl.st.headers.Load(); h > 0 {
			c.Phase(KindHeaders, time.Duration(h-1))
		}
	}
	c.AddBytes(cl.sent, cl.recv)
	var stepErr *stepError
	if errors.As(err, &stepErr) {
		if stepErr.afterOK && ctx.Err() == nil {
			c.Status(KindStatus, int(codes.OK))
		}
		return stepErr.err
	}
	if ctx.Err() != nil {
		return err // the run's stop: the journey counts the call interrupted
	}
	st, _ := status.FromError(err)
	code := st.Code()
	c.Status(KindStatus, int(code))
	if s.o.expects(code) {
		return nil
	}
	return metrics.WithOutcome(fmt.Errorf("status %s: %s", codeName(code), st.Message()), OutcomeOf(code))
}

// stepError is an error of the step's own (a check, the request), not of
// the call's status; afterOK says the call ended OK before it.
type stepError struct {
	err     error
	afterOK bool
}

// afterOK marks a step's own error as found after the call ended OK.
func afterOK(err error) error {
	if se, ok := err.(*stepError); ok {
		se.afterOK = true
	}
	return err
}

func (e *stepError) Error() string { return e.err.Error() }

func checkFailed(err error) error {
	return &stepError{err: metrics.WithOutcome(err, metrics.CheckFailed)}
}

// requestFailed is the error of a step whose request could not be built.
func requestFailed(err error) error {
	return metrics.WithOutcome(fmt.Errorf("request: %w", err), metrics.Other)
}

// protocol makes a step's Protocol from its description and its caller.
type protocol[M any] struct {
	*step[M]
	open func(r *opened) scenario.CallerFunc
}

// opened is what a step's calls in one run use: the connections of its
// client and the VUs' watchdogs.
type opened struct {
	conns     *conns
	watchdogs *watchdogs
}

func (p protocol[M]) Open(_ context.Context, r *scenario.Run) (scenario.Caller, error) {
	cs, err := openConns(r, p.client)
	if err != nil {
		return nil, err
	}
	ws, err := openWatchdogs(r)
	if err != nil {
		return nil, err
	}
	return p.open(&opened{cs, ws}), nil
}

// msgSize is the encoded size of a protocol buffers message, 0 for
// another.
func msgSize(m any) int64 {
	if pm, ok := m.(proto.Message); ok {
		return int64(proto.Size(pm))
	}
	return 0
}

// Unary returns a step that makes a unary call on a generated stub:
// stub is the generated constructor (pb.NewOrdersClient), method the
// method as an expression of the client's interface
// (pb.OrdersClient.Create), and request builds each call's request for a
// VU, from its data row and stored values (declare those with [Uses]):
//
//	stampedegrpc.Unary("create", svc, pb.NewOrdersClient, pb.OrdersClient.Create,
//		func(vu *scenario.VU) (*pb.CreateRequest, error) {
//			sku, _ := vu.Record.Get("sku")
//			return &pb.CreateRequest{Sku: sku}, nil
//		},
//		stampedegrpc.Extract("order", func(o *pb.Order) (string, error) { return o.Id, nil }))
//
// The step's latency is the call's, from the wait for its connection to
// the response; it records the status code (KindStatus), the connect
// phase (and the headers', when the client times them), and the bytes of
// the messages.
func Unary[C, Req, Resp any](name string, c *Client, stub func(grpc.ClientConnInterface) C,
	method func(C, context.Context, Req, ...grpc.CallOption) (Resp, error),
	request func(*scenario.VU) (Req, error), opts ...Option) scenario.Part {
	s := newStep[Resp](c, unaryKinds, opts, stub, method, request)
	return scenario.ProtocolStep(name, protocol[Resp]{s, func(r *opened) scenario.CallerFunc {
		return unaryCaller(s, r, request, func(cc *grpc.ClientConn, ctx context.Context, req Req) (Resp, error) {
			return method(stub(cc), ctx, req)
		})
	}})
}

// prepare builds vu's request and readies the call that sends it.
func prepare[Req, M any](ctx context.Context, s *step[M], r *opened, vu *scenario.VU, c *scenario.Call,
	request func(*scenario.VU) (Req, error)) (Req, *call, error) {
	req, err := request(vu)
	if err != nil {
		return req, nil, requestFailed(err)
	}
	cl, err := s.begin(ctx, r, vu, c)
	if err != nil {
		return req, nil, err
	}
	cl.sent = msgSize(req)
	return req, cl, nil
}

// unaryCaller makes the calls of a unary step; invoke makes one.
func unaryCaller[Req, Resp any](s *step[Resp], r *opened, request func(*scenario.VU) (Req, error),
	invoke func(cc *grpc.ClientConn, ctx context.Context, req Req) (Resp, error)) scenario.CallerFunc {
	return func(ctx context.Context, vu *scenario.VU, c *scenario.Call) error {
		req, cl, err := prepare(ctx, s, r, vu, c, request)
		if err != nil {
			return err
		}
		resp, err := invoke(cl.cn.cc, cl.ctx, req)
		if err == nil {
			cl.recv = msgSize(resp)
			err = afterOK(s.received(vu, resp, true))
		}
		return s.end(ctx, cl, c, err)
	}
}

// received checks a message and, if it is the last, extracts from it.
func (s *step[M]) received(vu *scenario.VU, m M, last bool) error {
	if err := s.fs.check(vu, m); err != nil {
		return checkFailed(err)
	}
	if last {
		if err := s.fs.extract(vu, m); err != nil {
			return checkFailed(err)
		}
	}
	return nil
}

// ServerStream returns a step that calls a server-streaming method and
// receives its messages to the end: each message's wait is recorded the
// moment it arrives (KindMessage, from the request for the first, from the
// message before for the others), and the time to the first and the last
// message as phases. Checks run on every message, extractors on the last.
// method is the stub's method as an expression
// (pb.FeedClient.Subscribe); see [Unary] for the rest.
func ServerStream[C, Req, Resp any](name string, c *Client, stub func(grpc.ClientConnInterface) C,
	method func(C, context.Context, Req, ...grpc.CallOption) (grpc.ServerStreamingClient[Resp], error),
	request func(*scenario.VU) (Req, error), opts ...Option) scenario.Part {
	s := newStep[*Resp](c, serverKinds, opts, stub, method, request)
	return scenario.ProtocolStep(name, protocol[*Resp]{s, func(r *opened) scenario.CallerFunc {
		return serverStreamCaller(s, r, request, func(cc *grpc.ClientConn, ctx context.Context, req Req) (func() (*Resp, error), error) {
			stream, err := method(stub(cc), ctx, req)
			if err != nil {
				return nil, err
			}
			return stream.Recv, nil
		})
	}})
}

// serverStreamCaller makes the calls of a server-streaming step; open
// makes one and returns what receives its next message.
func serverStreamCaller[Req, M any](s *step[M], r *opened, request func(*scenario.VU) (Req, error),
	open func(cc *grpc.ClientConn, ctx context.Context, req Req) (func() (M, error), error)) scenario.CallerFunc {
	return func(ctx context.Context, vu *scenario.VU, c *scenario.Call) error {
		req, cl, err := prepare(ctx, s, r, vu, c, request)
		if err != nil {
			return err
		}
		recv, err := open(cl.cn.cc, cl.ctx, req)
		if err != nil {
			return s.end(ctx, cl, c, err)
		}
		rc := receiver[M]{s: s, vu: vu, c: c, cl: cl, prev: time.Now()}
		for err == nil {
			var m M
			if m, err = recv(); err == nil {
				err = rc.got(m, time.Now(), rc.prev)
			}
		}
		return s.end(ctx, cl, c, rc.finish(err))
	}
}

// receiver keeps what a stream has received.
type receiver[M any] struct {
	s                   *step[M]
	vu                  *scenario.VU
	c                   *scenario.Call
	cl                  *call
	prev, first, lastAt time.Time
	last                M
	n                   int
}

// got records message m, received at now, whose wait began at from, and
// checks it.
func (r *receiver[M]) got(m M, now, from time.Time) error {
	r.c.Record(KindMessage, now, now.Sub(from), metrics.OK)
	r.cl.recv += msgSize(m)
	if r.n == 0 {
		r.first = now
	}
	r.n++
	r.prev, r.lastAt, r.last = now, now, m
	return r.s.received(r.vu, m, false)
}

// finish records the stream's first and last message and extracts from
// the last, once the stream ended with err (nil or io.EOF: OK).
func (r *receiver[M]) finish(err error) error {
	if r.n > 0 {
		start := r.c.Start()
		r.c.Phase(KindFirstMessage, r.first.Sub(start))
		r.c.Phase(KindLastMessage, r.lastAt.Sub(start))
	}
	if err == io.EOF {
		err = nil
	}
	if err == nil && r.n > 0 {
		if e := r.s.fs.extract(r.vu, r.last); e != nil {
			return checkFailed(e)
		}
	}
	return err
}

// ClientStream returns a step that calls a client-streaming method: it
// sends the messages requests builds for the VU, counting them
// (KindSent), then receives the response, which checks and extractors
// read. method is the stub's method as an expression
// (pb.UploadClient.Put); see [Unary] for the rest.
func ClientStream[C, Req, Resp any](name string, c *Client, stub func(grpc.ClientConnInterface) C,
	method func(C, context.Context, ...grpc.CallOption) (grpc.ClientStreamingClient[Req, Resp], error),
	requests func(*scenario.VU) ([]*Req, error), opts ...Option) scenario.Part {
	s := newStep[*Resp](c, clientKinds, opts, stub, method, requests)
	return scenario.ProtocolStep(name, protocol[*Resp]{s, func(r *opened) scenario.CallerFunc {
		return func(ctx context.Context, vu *scenario.VU, c *scenario.Call) error {
			reqs, err := requests(vu)
			if err != nil {
				return requestFailed(err)
			}
			cl, err := s.begin(ctx, r, vu, c)
			if err != nil {
				return err
			}
			stream, err := method(stub(cl.cn.cc), cl.ctx)
			for i := 0; err == nil && i < len(reqs); i++ {
				if err = stream.Send(reqs[i]); err == nil {
					c.Count(KindSent, time.Now(), metrics.OK, 1)
					cl.sent += msgSize(reqs[i])
				} else if err == io.EOF {
					err = nil // the server ended the call: its status comes with the response
					break
				}
			}
			if err == nil {
				var resp *Resp
				if resp, err = stream.CloseAndRecv(); err == nil {
					cl.recv = msgSize(resp)
					err = afterOK(s.received(vu, resp, true))
				}
			}
			return s.end(ctx, cl, c, err)
		}
	}})
}

// Bidi returns a step that calls a bidirectional-streaming method as a
// conversation of request and reply: for each message requests builds it
// sends the message and waits for the reply, whose round trip it records
// (KindMessage); it then closes its side and receives what else the
// server sends until the end. For other patterns (a burst of requests
// before the replies, replies that are not one per request) use
// [BidiFunc]. method is the stub's method as an expression
// (pb.ChatClient.Converse); see [Unary] for the rest.
func Bidi[C, Req, Resp any](name string, c *Client, stub func(grpc.ClientConnInterface) C,
	method func(C, context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[Req, Resp], error),
	requests func(*scenario.VU) ([]*Req, error), opts ...Option) scenario.Part {
	if requests == nil {
		return BidiFunc(name, c, stub, method, nil, opts...)
	}
	return BidiFunc(name, c, stub, method, func(ctx context.Context, vu *scenario.VU, s *Stream[Req, Resp]) error {
		reqs, err := requests(vu)
		if err != nil {
			return err
		}
		for _, m := range reqs {
			if err := s.Send(m); err != nil {
				return err
			}
			if _, err := s.Recv(); err != nil {
				return err
			}
		}
		return nil
	}, opts...)
}

// BidiFunc returns a step that calls a bidirectional-streaming method and
// has f converse on the stream. Send and Recv record each message as
// [Stream] says; when f returns nil, the step closes its side and receives
// what the server still sends until the end of the call, whose status is
// the step's. An error from f (other than a status of the call) fails the
// step in its class (metrics.OutcomeOf) and cancels the call.
func BidiFunc[C, Req, Resp any](name string, c *Client, stub func(grpc.ClientConnInterface) C,
	method func(C, context.Context, ...grpc.CallOption) (grpc.BidiStreamingClient[Req, Resp], error),
	f func(ctx context.Context, vu *scenario.VU, s *Stream[Req, Resp]) error, opts ...Option) scenario.Part {
	s := newStep[*Resp](c, bidiKinds, opts, stub, method, f)
	return scenario.ProtocolStep(name, protocol[*Resp]{s, func(r *opened) scenario.CallerFunc {
		return func(ctx context.Context, vu *scenario.VU, c *scenario.Call) error {
			cl, err := s.begin(ctx, r, vu, c)
			if err != nil {
				return err
			}
			bs, err := method(stub(cl.cn.cc), cl.ctx)
			if err != nil {
				return s.end(ctx, cl, c, err)
			}
			st := &Stream[Req, Resp]{s: bs, c: c, r: receiver[*Resp]{s: s, vu: vu, c: c, cl: cl, prev: time.Now()}}
			err = f(cl.ctx, vu, st)
			if err == nil || errors.Is(err, io.EOF) {
				// f is done, or the server ended the call: its status
				// comes after what it still sends.
				if err == nil {
					bs.CloseSend()
				}
				err = st.drain()
			}
			switch {
			case st.checkErr != nil:
				err = st.checkErr
			case err == nil:
			default:
				if _, isStatus := status.FromError(err); !isStatus {
					err = &stepError{err: err}
				}
			}
			return s.end(ctx, cl, c, st.r.finish(err))
		}
	}})
}

// Stream is a bidirectional stream as a [BidiFunc] step converses on it.
// Each message received is paired with the oldest request not yet
// answered and recorded (KindMessage) with the round trip from its send;
// one with none waiting is timed from the message before it. Messages
// sent are counted (KindSent); checks run on every message received.
type Stream[Req, Resp any] struct {
	s        grpc.BidiStreamingClient[Req, Resp]
	c        *scenario.Call
	r        receiver[*Resp]
	pending  []time.Time // when each request not yet answered was sent
	endErr   error       // io.EOF or the call's status, once it ended
	checkErr error       // the first check that failed, a *stepError
}

// Send sends m. It returns io.EOF when the server has ended the call;
// Recv then returns the call's status.
func (s *Stream[Req, Resp]) Send(m *Req) error {
	now := time.Now()
	if err := s.s.Send(m); err != nil {
		return err
	}
	s.pending = append(s.pending, now)
	s.c.Count(KindSent, now, metrics.OK, 1)
	s.r.cl.sent += msgSize(m)
	return nil
}

// Recv receives the next message. At the end of the call it returns
// io.EOF (status OK) or the call's status as an error; a message that
// fails a check is returned with the check's error.
func (s *Stream[Req, Resp]) Recv() (*Resp, error) {
	if s.endErr != nil {
		return nil, s.endErr
	}
	m, err := s.s.Recv()
	now := time.Now()
	if err != nil {
		s.endErr = err
		return nil, err
	}
	from := s.r.prev
	if len(s.pending) > 0 {
		from = s.pending[0]
		s.pending = s.pending[1:]
	}
	if err := s.r.got(m, now, from); err != nil {
		var se *stepError
		if errors.As(err, &se) {
			s.checkErr = err
			return m, se.err
		}
		return m, err
	}
	return m, nil
}

// drain receives until the end of the call and returns its status (nil
// for OK) or the error of a check.
func (s *Stream[Req, Resp]) drain() error {
	for {
		if _, err := s.Recv(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// CloseSend closes the sending side: the server sees the end of the
// requests. The step closes it after f returns if f did not.
func (s *Stream[Req, Resp]) CloseSend() error { return s.s.CloseSend() }

// Header returns the response headers, waiting for them.
func (s *Stream[Req, Resp]) Header() (metadata.MD, error) { return s.s.Header() }
