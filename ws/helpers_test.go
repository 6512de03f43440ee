package stampedews_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/stampede-go/stampede/scenario"
	"github.com/stampede-go/stampede/ws/internal/steptest"
)

// command is what the test server's clients send it: a message with an
// id that it echoes after its delay, or an order.
type command struct {
	ID   string `json:"id"`
	Cmd  string `json:"cmd,omitempty"`  // "close": close with Code; "ignore": no answer; "stall": read no more
	Code int    `json:"code,omitempty"` // for close
}

// testServer is a WebSocket service for the tests. On /echo it answers
// each message with the same message, delay after reading it, reading the
// next one only then (a service that takes messages one at a time); on
// /push it sends n messages, every interval, each stamped as sent lag
// before it was (a service whose queue holds them that long); /forbidden
// and /busy refuse the handshake with 403 and 503. It keeps the path and
// the X-User header of each handshake.
type testServer struct {
	delay    time.Duration
	interval time.Duration
	n        int
	lag      time.Duration

	mu      sync.Mutex
	paths   []string
	users   []string
	handles sync.WaitGroup
}

func (s *testServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handles.Add(1)
	defer s.handles.Done()
	switch r.URL.Path {
	case "/forbidden":
		http.Error(w, "no", http.StatusForbidden)
		return
	case "/busy":
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	s.users = append(s.users, r.Header.Get("X-User"))
	s.mu.Unlock()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	if r.URL.Path == "/push" {
		go func() {
			for i := range s.n {
				time.Sleep(s.interval)
				msg, _ := json.Marshal(map[string]any{"seq": i, "ts": float64(time.Now().Add(-s.lag).UnixMicro()) / 1000})
				if c.Write(ctx, websocket.MessageText, msg) != nil {
					return
				}
			}
		}()
	}
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		var cmd command
		if json.Unmarshal(msg, &cmd) == nil {
			switch cmd.Cmd {
			case "close":
				c.Close(websocket.StatusCode(cmd.Code), "asked to")
				return
			case "ignore":
				continue
			case "stall": // reads nothing more, a close frame neither
				time.Sleep(time.Hour)
				return
			}
		}
		time.Sleep(s.delay)
		if c.Write(ctx, typ, msg) != nil {
			return
		}
	}
}

// echo is a WebSocket service that answers each message with itself at
// once.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	for {
		typ, msg, err := c.Read(context.Background())
		if err != nil || c.Write(context.Background(), typ, msg) != nil {
			return
		}
	}
})

// serve starts s on an in-memory network and returns the journey option
// that reaches it.
func serve(t *testing.T, s *testServer) scenario.Option {
	return steptest.Serve(t, s, &s.handles)
}

var (
	run   = steptest.Run
	stats = steptest.Stats
)
