// Package demo is a small in-process service that behaves like the ones in
// stampede's stories, for the examples and tests: a meetings list, a
// meeting page and a sign-up endpoint over an in-memory table, an index
// that can be dropped, a cache whose primary can fail over, a stall switch,
// and an old and a refactored report endpoint. It listens on loopback only,
// or in memory ([Options.InMemory]) for tests.
// Its costs are simulated with short sleeps, so its latencies do not depend
// on the speed of the machine running it; it is not a benchmark target.
// Served in memory inside a testing/synctest bubble, its latencies are
// exactly those sleeps, and a test can assert them to the nanosecond.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stampede-go/stampede/internal/memnet"
)

// Options configures a Service. The zero value is a small, indexed table.
type Options struct {
	// Rows is the number of meetings in the table; 0 means 2000.
	Rows int
	// NoIndex makes every query scan the table: its cost grows with Rows
	// and, because scans hold one of the few database connections, with
	// concurrency.
	NoIndex bool
	// DBConns is the number of concurrent queries the "database" serves;
	// 0 means 8.
	DBConns int
	// InMemory serves the service on an in-memory network instead of a
	// loopback port: clients reach it only through [Service.Dial].
	InMemory bool
	// Workers and WorkTime make the endpoint of known capacity, GET /work:
	// a pool of Workers (0 means 10), each serving one request for
	// WorkTime (0 means 10 ms), so it holds Workers/WorkTime requests per
	// second (1000/s by default). Past that, requests queue for a worker;
	// with ?shed=1 a request that finds every worker busy fails with 503.
	Workers  int
	WorkTime time.Duration
}

// Service is a running demo service.
type Service struct {
	// URL is the base URL: http://127.0.0.1:port, or http://demo.internal
	// in memory.
	URL string
	// Dial connects to the service in memory (use it as an HTTP
	// transport's DialContext); nil for a service on a loopback port.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	rows    atomic.Int64
	noIndex atomic.Bool
	db      chan struct{}
	srv     *http.Server
	ln      net.Listener
	done    chan struct{}

	mu        sync.Mutex
	stallTill time.Time
	cacheTill time.Time // failover spike until then
	botched   bool
	signups   atomic.Int64
	inflight  atomic.Int64
	missed    atomic.Int64  // requests that missed the cache
	v1Buffers sync.Map      // the old report endpoint keeps a buffer per request in flight
	v1Lock    chan struct{} // the old report endpoint's global lock (a channel: waiting on it is durable in a synctest bubble)
	workers   chan struct{} // the pool of GET /work
	workTime  time.Duration
}

// Start starts a service on an ephemeral loopback port.
func Start(o Options) (*Service, error) {
	if o.Rows < 0 || o.DBConns < 0 || o.Workers < 0 || o.WorkTime < 0 {
		return nil, fmt.Errorf("demo: Rows, DBConns, Workers and WorkTime must be >= 0, got %d, %d, %d and %v", o.Rows, o.DBConns, o.Workers, o.WorkTime)
	}
	if o.Workers == 0 {
		o.Workers = 10
	}
	if o.WorkTime == 0 {
		o.WorkTime = 10 * time.Millisecond
	}
	if o.Rows == 0 {
		o.Rows = 2000
	}
	if o.DBConns == 0 {
		o.DBConns = 8
	}
	s := &Service{db: make(chan struct{}, o.DBConns), v1Lock: make(chan struct{}, 1), done: make(chan struct{}),
		workers: make(chan struct{}, o.Workers), workTime: o.WorkTime}
	if o.InMemory {
		ml := memnet.Listen()
		s.ln, s.URL, s.Dial = ml, "http://demo.internal", ml.Dial
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		s.ln, s.URL = ln, "http://"+ln.Addr().String()
	}
	s.rows.Store(int64(o.Rows))
	s.noIndex.Store(o.NoIndex)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /meetings", s.list)
	mux.HandleFunc("GET /meetings/{id}", s.detail)
	mux.HandleFunc("POST /meetings/{id}/apply", s.apply)
	mux.HandleFunc("GET /v1/report", s.reportV1)
	mux.HandleFunc("GET /v2/report", s.reportV2)
	mux.HandleFunc("GET /work", s.work)
	s.srv = &http.Server{Handler: s.middleware(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(s.ln) // returns on Close
	}()
	return s, nil
}

// Close stops the service and waits for it.
func (s *Service) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	<-s.done
}

// SetIndex adds (true) or drops (false) the index.
func (s *Service) SetIndex(on bool) { s.noIndex.Store(!on) }

// SetRows sets the table size.
func (s *Service) SetRows(n int) { s.rows.Store(int64(max(n, 1))) }

// Stall makes every request wait until d from now has passed.
func (s *Service) Stall(d time.Duration) {
	s.mu.Lock()
	s.stallTill = time.Now().Add(d)
	s.mu.Unlock()
}

// FailOver fails the cache's primary over to its replica: for spike,
// requests miss the cache and take about 150 ms longer; if botched, every
// fourth of them fails with 503 instead.
func (s *Service) FailOver(spike time.Duration, botched bool) {
	s.mu.Lock()
	s.cacheTill = time.Now().Add(spike)
	s.botched = botched
	s.mu.Unlock()
}

// Signups returns the number of successful sign-ups.
func (s *Service) Signups() int64 { return s.signups.Load() }

// InFlight returns the number of requests being served.
func (s *Service) InFlight() int64 { return s.inflight.Load() }

func (s *Service) middleware(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		s.mu.Lock()
		stall, cache, botched := s.stallTill, s.cacheTill, s.botched
		s.mu.Unlock()
		if wait := time.Until(stall); wait > 0 {
			if !sleep(r.Context(), wait) {
				return
			}
		}
		if time.Now().Before(cache) {
			if botched && s.missed.Add(1)%4 == 0 {
				http.Error(w, "cache unavailable", http.StatusServiceUnavailable)
				return
			}
			if !sleep(r.Context(), 150*time.Millisecond) {
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// query runs a simulated query: with the index it takes 1 ms; without, it
// scans the table at 1 µs a row. Either way it holds a database connection.
func (s *Service) query(ctx context.Context) error {
	select {
	case s.db <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.db }()
	cost := time.Millisecond
	if s.noIndex.Load() {
		cost = time.Duration(s.rows.Load()) * time.Microsecond
	}
	if !sleep(ctx, cost) {
		return ctx.Err()
	}
	return nil
}

type meeting struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	if err := s.query(r.Context()); err != nil {
		return
	}
	n := min(int(s.rows.Load()), 20)
	items := make([]meeting, n)
	for i := range items {
		items[i] = meeting{ID: strconv.Itoa(i + 1), Title: fmt.Sprintf("Meetup #%d", i+1)}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"items": items, "total": s.rows.Load()})
}

func (s *Service) detail(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 1 || int64(id) > s.rows.Load() {
		http.NotFound(w, r)
		return
	}
	if err := s.query(r.Context()); err != nil {
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<html><body><h1>Meetup #%d</h1><p>%d members applied</p></body></html>", id, s.signups.Load())
}

func (s *Service) apply(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Name == "" {
		http.Error(w, `want {"name": "..."}`, http.StatusBadRequest)
		return
	}
	if err := s.query(r.Context()); err != nil {
		return
	}
	s.signups.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"status":"applied","meeting":%q}`, r.PathValue("id"))
}

// reportV1 is the old endpoint: one global lock around 3 ms of work, so
// its latency grows with concurrency, and a 256 KiB buffer per request in
// flight, so the heap grows with it too.
func (s *Service) reportV1(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 256<<10)
	buf[0] = 1
	s.v1Buffers.Store(r, buf)
	defer s.v1Buffers.Delete(r)
	select {
	case s.v1Lock <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	ok := sleep(r.Context(), 3*time.Millisecond)
	<-s.v1Lock
	if !ok {
		return
	}
	fmt.Fprint(w, `{"report":"v1"}`)
}

// reportV2 is the refactored endpoint: 2 ms of work, no global lock.
func (s *Service) reportV2(w http.ResponseWriter, r *http.Request) {
	if !sleep(r.Context(), 2*time.Millisecond) {
		return
	}
	fmt.Fprint(w, `{"report":"v2"}`)
}

// work serves GET /work: a worker of the pool for WorkTime (see Options).
func (s *Service) work(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("shed") == "1" {
		select {
		case s.workers <- struct{}{}:
		default:
			http.Error(w, "all workers busy", http.StatusServiceUnavailable)
			return
		}
	} else {
		select {
		case s.workers <- struct{}{}:
		case <-r.Context().Done():
			return
		}
	}
	defer func() { <-s.workers }()
	if !sleep(r.Context(), s.workTime) {
		return
	}
	_, _ = io.WriteString(w, "done\n")
}
