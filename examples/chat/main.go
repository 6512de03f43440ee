// Command chat load-tests a chat service started in the same process:
// users join rooms over WebSocket and stay; in each room one user posts a
// message every 100 ms and every member, the poster too, receives it. The
// service stamps each message with the time it took it in, so the report
// shows how late each message reaches its readers (listen[ws_delay]),
// beside the poster's round trip to its own message (post[ws_rtt]) and
// the connections held over time. It checks the p99 delivery delay as a
// threshold. Its flags are those of the command-line kit (package
// report/cli): -h lists them; -vus is the number of users, twenty to a
// room.
//
//	go run ./examples/chat [-duration 10s] [-vus 200]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/stampede-go/stampede/internal/memnet"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/cli"
	"github.com/stampede-go/stampede/scenario"
	stampedews "github.com/stampede-go/stampede/ws"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false)
	stop()
	os.Exit(code)
}

// perRoom is how many users share a room.
const perRoom = 20

// run runs the command and returns its exit code. inMemory serves the
// chat in memory instead of on a loopback port: the test does, on a fake
// clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) int {
	svc, err := start(inMemory)
	if err != nil {
		fmt.Fprintln(stderr, "chat:", err)
		return cli.ExitFail
	}
	defer svc.stop()
	tool := &cli.Tool{
		Name:        "chat",
		Description: "chat has users join rooms of a WebSocket chat service in this process; one in each room posts, all receive.",
		Defaults: cli.Flags{VUs: 200, Duration: 10 * time.Second,
			Thresholds: report.MustParseThresholds("listen[ws_delay]: p99<50ms", "post[ws_rtt]: p99<50ms", "listen: error_rate<=0%")},
		Plan: func(f *cli.Flags, _ int) (*loadgen.Plan, error) { return plan(f, svc) },
	}
	return tool.Run(ctx, args, stdout, stderr)
}

// plan has -vus users join rooms of twenty and stay for -duration: the
// first of each room posts, from 100 ms after the others joined until
// 100 ms before they leave, and the others listen. Each user's one
// iteration outlasts the scenario's duration, and ends in its graceful
// stop.
func plan(f *cli.Flags, svc *service) (*loadgen.Plan, error) {
	rooms := max(f.VUs/perRoom, 1)
	if f.VUs <= rooms {
		return nil, fmt.Errorf("-vus is %d; the chat needs more than one user per room, at least %d", f.VUs, rooms+1)
	}
	posting := max(f.Duration-200*time.Millisecond, 100*time.Millisecond)
	chat := &stampedews.Client{
		URL:       svc.url + "/rooms/{{room}}",
		ID:        stampedews.JSONField("id"),
		Timestamp: stampedews.JSONTime("ts"),
	}
	seat := scenario.Parts{
		scenario.Step("seat", func(_ context.Context, vu *scenario.VU) error {
			vu.Set("room", fmt.Sprint(vu.ID%rooms))
			return nil
		}),
		scenario.Provides("room"),
	}
	posters, err := scenario.New("posters", scenario.Parts{
		seat,
		stampedews.Connect("join", chat),
		stampedews.Hold("post", chat, posting, stampedews.Timeout(time.Second),
			stampedews.Every(100*time.Millisecond, func(vu *scenario.VU, seq int) []byte {
				return fmt.Appendf(nil, `{"id":"%d-%d","text":"message %d"}`, vu.ID, seq, seq)
			})),
		stampedews.Close("leave", chat),
	}, svc.opts...)
	if err != nil {
		return nil, err
	}
	readers, err := scenario.New("readers", scenario.Parts{
		seat,
		stampedews.Connect("join", chat),
		stampedews.Hold("listen", chat, f.Duration),
		stampedews.Close("leave", chat),
	}, svc.opts...)
	if err != nil {
		return nil, err
	}
	return &loadgen.Plan{Name: "chat: rooms of twenty, one poster each", Warmup: f.Warmup, Scenarios: []loadgen.Scenario{
		// The users join at once, the readers first, so that every
		// message has all its readers.
		readers.Scenario(loadgen.ConstantVUs{VUs: f.VUs - rooms, Duration: f.Duration, Stagger: -1}),
		withStart(posters.Scenario(loadgen.ConstantVUs{VUs: rooms, Duration: posting, Stagger: -1}), 100*time.Millisecond),
	}}, nil
}

func withStart(sc loadgen.Scenario, after time.Duration) loadgen.Scenario {
	sc.StartAfter = after
	return sc
}

// service is the chat, on a loopback port or in memory.
type service struct {
	url  string
	opts []scenario.Option // the journeys' options that reach it
	stop func()
}

func start(inMemory bool) (*service, error) {
	svc := &service{}
	var l net.Listener
	if inMemory {
		ml := memnet.Listen()
		l = ml
		svc.url = "ws://chat.test"
		svc.opts = []scenario.Option{scenario.WithClient(scenario.Client{Dial: ml.Dial})}
	} else {
		var err error
		if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		svc.url = "ws://" + l.Addr().String()
	}
	c := &chat{rooms: map[string]map[*member]bool{}}
	srv := &http.Server{Handler: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	svc.stop = func() {
		srv.Close()
		<-done
		c.members.Wait()
	}
	return svc, nil
}

// chat is the service: rooms of members, each message posted in a room
// stamped with the time the service took it in ("ts", in milliseconds
// since the Unix epoch) and sent to every member.
type chat struct {
	mu      sync.Mutex
	rooms   map[string]map[*member]bool
	members sync.WaitGroup // the goroutines of its members' connections
}

// member is one connection in a room, with its queue of messages to send.
type member struct {
	c     *websocket.Conn
	queue chan []byte
}

// queueLen is how many messages a member may have waiting; a member that
// falls further behind is closed with TRY_AGAIN_LATER, as a slow consumer.
const queueLen = 256

func (ch *chat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	room, ok := strings.CutPrefix(r.URL.Path, "/rooms/")
	if !ok || room == "" {
		http.NotFound(w, r)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ch.members.Add(1)
	defer ch.members.Done()
	m := &member{c: c, queue: make(chan []byte, queueLen)}
	ch.join(room, m)
	defer func() {
		ch.leave(room, m)
		close(m.queue) // no broadcast sends to it once it has left
	}()
	ctx := context.Background()
	ch.members.Go(func() {
		for msg := range m.queue {
			if c.Write(ctx, websocket.MessageText, msg) != nil {
				c.CloseNow()
				for range m.queue {
				}
				return
			}
		}
	})
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		var post map[string]any
		if json.Unmarshal(msg, &post) != nil {
			c.Close(websocket.StatusUnsupportedData, "messages are JSON objects")
			return
		}
		post["ts"] = float64(time.Now().UnixMicro()) / 1000
		out, _ := json.Marshal(post)
		ch.broadcast(room, out)
	}
}

func (ch *chat) join(room string, m *member) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.rooms[room] == nil {
		ch.rooms[room] = map[*member]bool{}
	}
	ch.rooms[room][m] = true
}

func (ch *chat) leave(room string, m *member) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	delete(ch.rooms[room], m)
}

func (ch *chat) broadcast(room string, msg []byte) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	for m := range ch.rooms[room] {
		select {
		case m.queue <- msg:
		default: // too far behind: out of the room once, and closed
			delete(ch.rooms[room], m)
			ch.members.Go(func() { m.c.Close(websocket.StatusTryAgainLater, "too far behind") })
		}
	}
}
