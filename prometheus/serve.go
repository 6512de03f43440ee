package stampedeprom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultAddr is the address [Exporter.Serve] listens on when given "": a
// free port on the loopback interface, reachable from this machine only.
const DefaultAddr = "127.0.0.1:0"

// shutdownGrace bounds how long a server started by Serve waits for
// in-flight scrapes once its ctx is done; then it closes their connections.
const shutdownGrace = 5 * time.Second

// Handler returns an http.Handler that serves the exporter's metrics (and
// nothing else) in any exposition format the scraper asks for, protobuf
// included, so that native histograms reach a Prometheus that reads them.
// To serve them beside other collectors, register the Exporter in your own
// registry instead.
func (e *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{})
}

// Serve serves [Exporter.Handler] at /metrics on addr ("" means
// [DefaultAddr]) until ctx is done, and returns the address it listens on,
// such as "127.0.0.1:41234". Serving goes on in the background: start it
// before the run and keep ctx alive after the run ends until the final
// figures have been scraped. When ctx is done the server stops accepting
// connections and waits up to 5 s for scrapes in progress. Call
// [Exporter.Wait] to wait for every server Serve started.
//
// Any address is allowed; one other than loopback exposes the run's
// metrics to the network.
func (e *Exporter) Serve(ctx context.Context, addr string) (string, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("stampedeprom: listening on %q: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", e.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	e.servers.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			e.serveFailed(fmt.Errorf("stampedeprom: serving on %s: %w", ln.Addr(), err))
		}
	})
	e.servers.Go(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close() // the grace period is over: drop the stragglers
		}
	})
	return ln.Addr().String(), nil
}

func (e *Exporter) serveFailed(err error) {
	e.serveMu.Lock()
	defer e.serveMu.Unlock()
	e.serveErr = errors.Join(e.serveErr, err)
}

// Wait blocks until every server started by [Exporter.Serve] has stopped
// (each stops once its ctx is done) and returns the errors any of them
// failed with, or nil.
func (e *Exporter) Wait() error {
	e.servers.Wait()
	e.serveMu.Lock()
	defer e.serveMu.Unlock()
	return e.serveErr
}
