package stampedegrpc_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	stampedegrpc "github.com/stampede-go/stampede/grpc"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// selfSigned returns a certificate for localhost and 127.0.0.1 that is its
// own authority, and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "stampede test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func emptyCall(name string, c *stampedegrpc.Client) scenario.Part {
	return stampedegrpc.Unary(name, c, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.EmptyCall,
		func(*scenario.VU) (*testgrpc.Empty, error) { return &testgrpc.Empty{}, nil })
}

// The TLS fields apply as an HTTP client's do: a server checked against
// RootCAs passes, one the roots do not vouch for fails as refused
// (UNAVAILABLE) unless InsecureSkipVerify is set.
func TestTLS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cert, pool := selfSigned(t)
		trusted := serve(t, &testServer{}, 0, grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
		trusted.Plaintext = false
		trusted.RootCAs = pool
		trusted.ServerName = "localhost"
		untrusted := *trusted
		untrusted.RootCAs = x509.NewCertPool()
		skip := untrusted
		skip.InsecureSkipVerify = true

		var scs []loadgen.Scenario
		for name, c := range map[string]*stampedegrpc.Client{"trusted": trusted, "untrusted": &untrusted, "skip": &skip} {
			j, err := scenario.New(name, scenario.Parts{emptyCall("call", c)})
			require.NoError(t, err)
			scs = append(scs, j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 2}))
		}
		res := run(t, scs...)
		assert.Equal(t, int64(2), stats(t, res, "trusted", "call", metrics.KindStep).Outcomes[metrics.OK])
		assert.Equal(t, int64(2), stats(t, res, "skip", "call", metrics.KindStep).Outcomes[metrics.OK])
		assert.Equal(t, int64(2), stats(t, res, "untrusted", "call", metrics.KindStep).Outcomes[metrics.Refused])
		var why string
		for _, e := range res.Errors {
			if e.Scenario == "untrusted" {
				why = e.Message
			}
		}
		assert.Contains(t, why, "certificate")
	})
}

// One end-to-end run on a real TCP connection over loopback with TLS, in
// real time: every call passes and is counted once; the latencies are
// positive and below the step's timeout (the margin: a call on loopback
// takes well under a second even on a loaded machine).
func TestLoopback(t *testing.T) {
	cert, pool := selfSigned(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	ts := &testServer{}
	testgrpc.RegisterTestServiceServer(srv, ts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(countingListener{l, ts})
	}()
	defer func() {
		srv.Stop()
		<-done
	}()
	c := &stampedegrpc.Client{Target: l.Addr().String(), RootCAs: pool, Conns: 2}
	j, err := scenario.New("loop", scenario.Parts{
		stampedegrpc.Unary("call", c, testgrpc.NewTestServiceClient, testgrpc.TestServiceClient.EmptyCall,
			func(*scenario.VU) (*testgrpc.Empty, error) { return &testgrpc.Empty{}, nil },
			stampedegrpc.Timeout(10*time.Second)),
	})
	require.NoError(t, err)
	res := run(t, j.Scenario(loadgen.PerVUIterations{VUs: 3, Iterations: 20}))
	st := stats(t, res, "loop", "call", metrics.KindStep)
	assert.Equal(t, int64(60), st.Outcomes[metrics.OK], res.Errors)
	assert.Equal(t, int64(60), st.Count())
	assert.Greater(t, st.Latency.Min, time.Duration(0))
	assert.Less(t, st.Latency.Max, 10*time.Second)
	assert.Equal(t, 2, ts.conns, "a pool of two")
	assert.Equal(t, metrics.StatusCounts{{Code: 0, Count: 60}}, stats(t, res, "loop", "call", stampedegrpc.KindStatus).Status)
}
