package stampedegrpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/stats"

	"github.com/stampede-go/stampede/scenario"
)

// Client says how a journey's gRPC steps reach a service. Steps given the
// same *Client share its connections within a run; its fields must not
// change once a step has it. The zero value of every field but Target is
// a default: one connection per VU, TLS checked against the system's
// roots.
type Client struct {
	// Target is the service's address as gRPC reads it: "host:port", or a
	// name with a resolver's scheme ("dns:///api.internal:443").
	Target string

	// Conns is how many connections the VUs of a scenario share. 0 gives
	// each VU a connection of its own (dialled at its first call), so that
	// a balancer in front of the service spreads the load as it would
	// across that many clients. n > 0 is a pool of n connections that VU i
	// calls through the (i mod n)th of (ghz's --connections); 1 is one
	// connection for all, as one gRPC client in a program would use,
	// multiplexing every VU's calls as HTTP/2 streams.
	Conns int

	// Plaintext calls without TLS (h2c), as to a service inside a cluster.
	// The TLS fields below must then be unset.
	Plaintext bool
	// RootCAs, if set, is the pool of certificate authorities that the
	// server's certificate is checked against, instead of the system's.
	RootCAs *x509.CertPool
	// Certificates are the client certificates offered to a server that
	// asks for one (mutual TLS).
	Certificates []tls.Certificate
	// ServerName, if set, is the name sent in TLS's server name indication
	// and checked against the certificate, instead of the target's host.
	ServerName string
	// InsecureSkipVerify does not check the server's certificate: a
	// staging service with a self-signed one. The connection is still
	// encrypted, but anyone on the path could pose as the service.
	InsecureSkipVerify bool

	// Dial, if set, opens the connections instead of a net.Dialer: an
	// in-memory listener in tests (grpc's test/bufconn), a custom resolver.
	// addr is the target's address as gRPC resolved it.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// ConnectTimeout bounds the wait for a connection to be ready at a
	// call, which then fails as UNAVAILABLE, a timeout. 0 leaves only the
	// step's timeout.
	ConnectTimeout time.Duration
	// DialOptions are added to those the fields make, for what they do not
	// cover: keepalive, compression, interceptors, a service config.
	DialOptions []grpc.DialOption

	// Headers times each call's response headers (KindHeaders, from the
	// call's start on its connection), through a gRPC stats handler. That
	// costs some 4 µs of CPU per call on a 2-core machine (a sixth of a
	// small unary call's), so it is off unless set.
	Headers bool
}

// check returns what is wrong with c.
func (c *Client) check() error {
	if c == nil {
		return errors.New("client: nil; give the steps a *Client with a Target")
	}
	var errs []error
	if strings.TrimSpace(c.Target) == "" {
		errs = append(errs, errors.New(`client: Target is empty; give the service's address, such as "localhost:50051"`))
	}
	if c.Conns < 0 {
		errs = append(errs, fmt.Errorf("client: Conns is %d; 0 gives each VU its own connection, n > 0 a pool of n", c.Conns))
	}
	if c.ConnectTimeout < 0 {
		errs = append(errs, fmt.Errorf("client: ConnectTimeout is %v; it must be 0 (none) or more", c.ConnectTimeout))
	}
	if c.Plaintext {
		var set []string
		if c.RootCAs != nil {
			set = append(set, "RootCAs")
		}
		if len(c.Certificates) > 0 {
			set = append(set, "Certificates")
		}
		if c.ServerName != "" {
			set = append(set, "ServerName")
		}
		if c.InsecureSkipVerify {
			set = append(set, "InsecureSkipVerify")
		}
		if len(set) > 0 {
			errs = append(errs, fmt.Errorf("client: Plaintext is set, so %s would be ignored; unset them or Plaintext", strings.Join(set, ", ")))
		}
	}
	for i, cert := range c.Certificates {
		if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
			errs = append(errs, fmt.Errorf("client: Certificates[%d] needs a certificate and its private key (tls.LoadX509KeyPair loads both)", i))
		}
	}
	return errors.Join(errs...)
}

// dialOptions returns the options every connection of c is made with.
func (c *Client) dialOptions() []grpc.DialOption {
	var opts []grpc.DialOption
	if c.Headers {
		opts = append(opts, grpc.WithStatsHandler(statsHandler{}))
	}
	if c.Plaintext {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
			RootCAs:            c.RootCAs,
			Certificates:       c.Certificates,
			ServerName:         c.ServerName,
			InsecureSkipVerify: c.InsecureSkipVerify,
			MinVersion:         tls.VersionTLS12,
		})))
	}
	if c.Dial != nil {
		opts = append(opts, grpc.WithContextDialer(c.Dial))
	}
	return append(opts, c.DialOptions...)
}

// conn is one connection of a run.
type conn struct {
	cc    *grpc.ClientConn
	ready atomic.Bool // it has been ready once
}

// conns are the connections a run of a scenario opened to one Client.
type conns struct {
	c    *Client
	opts []grpc.DialOption

	mu   sync.Mutex
	all  []*conn // every connection opened, closed when the run ends
	pool []*conn // with Conns > 0, made at the first call of each
}

// localKey keys a VU's own connection to a Client.
type localKey struct{ c *Client }

// openConns returns the connections of c for run r: one set for every
// step of r given c.
func openConns(r *scenario.Run, c *Client) (*conns, error) {
	v, err := r.Shared(localKey{c}, func() (any, error) {
		cs := &conns{c: c, opts: c.dialOptions()}
		if c.Conns > 0 {
			cs.pool = make([]*conn, c.Conns)
		}
		r.OnClose(cs.close)
		return cs, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*conns), nil
}

func (cs *conns) close() {
	cs.mu.Lock()
	all := cs.all
	cs.all = nil
	cs.mu.Unlock()
	for _, cn := range all {
		cn.cc.Close()
	}
}

// get returns vu's connection, ready unless connecting failed (the call
// then fails with the reason), and how long the VU waited for it to be
// ready: -1 when it was ready. The VU keeps it (its own, or its slot of
// the pool) for its later calls.
func (cs *conns) get(ctx context.Context, vu *scenario.VU) (*conn, time.Duration, error) {
	key := localKey{cs.c}
	cn, _ := vu.Local(key).(*conn)
	if cn == nil {
		var err error
		if cn, err = cs.take(vu.ID); err != nil {
			return nil, 0, err
		}
		vu.SetLocal(key, cn)
	}
	if cn.ready.Load() {
		return cn, -1, nil
	}
	return cn, cs.await(ctx, cn), nil
}

// take returns the connection of VU id: a new one of its own, or its slot
// of the pool, made by the first VU of the slot. Making one does no I/O:
// it connects at its first call.
func (cs *conns) take(id int) (*conn, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	slot := -1
	if cs.pool != nil {
		slot = id % len(cs.pool)
		if cn := cs.pool[slot]; cn != nil {
			return cn, nil
		}
	}
	cc, err := grpc.NewClient(cs.c.Target, cs.opts...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	cn := &conn{cc: cc}
	cs.all = append(cs.all, cn)
	if slot >= 0 {
		cs.pool[slot] = cn
	}
	return cn, nil
}

// await waits until cn is ready, has failed to connect, or ctx or the
// connect timeout ends, and returns how long it waited. The call then
// made says why it could not go out, if it cannot.
func (cs *conns) await(ctx context.Context, cn *conn) time.Duration {
	start := time.Now()
	if cs.c.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cs.c.ConnectTimeout)
		defer cancel()
	}
	cn.cc.Connect()
	for {
		s := cn.cc.GetState()
		if s == connectivity.Ready {
			cn.ready.Store(true)
			break
		}
		if s == connectivity.TransientFailure || s == connectivity.Shutdown {
			break
		}
		if !cn.cc.WaitForStateChange(ctx, s) {
			break
		}
	}
	return time.Since(start)
}

// callState is what the stats handler sees of one call.
type callState struct {
	begin   time.Time
	headers atomic.Int64 // nanoseconds from begin to the response headers, +1
}

type stateKey struct{}

// withState returns ctx carrying a new callState for the call made with it.
func withState(ctx context.Context) (context.Context, *callState) {
	st := &callState{begin: time.Now()}
	return context.WithValue(ctx, stateKey{}, st), st
}

// statsHandler times the response headers of the calls whose context
// carries a callState. The event comes from the connection's reader
// goroutine, hence the atomic.
type statsHandler struct{}

func (statsHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (statsHandler) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.InHeader); !ok {
		return
	}
	if st, _ := ctx.Value(stateKey{}).(*callState); st != nil {
		st.headers.CompareAndSwap(0, int64(time.Since(st.begin))+1)
	}
}

func (statsHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (statsHandler) HandleConn(context.Context, stats.ConnStats) {}
