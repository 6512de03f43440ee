package stampedews

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/stampede-go/stampede/scenario"
)

// Client says where a journey's WebSocket steps connect and how to read
// the service's messages. Steps given the same *Client act on one
// connection of each VU: Connect opens it, the steps after it send and
// receive on it, Close closes it, and a VU keeps it across iterations until
// then. Its fields must not change once a step has it.
//
// The handshake goes through the VU's HTTP client (scenario.VU.HTTP), so
// the journey's scenario.Client applies to it as to an HTTP step: its TLS
// fields (RootCAs, Certificates, ServerName, InsecureSkipVerifyHosts), Dial,
// Hosts, Proxy and ConnectTimeout, and the VU's cookies.
type Client struct {
	// URL is the service's address, ws:// or wss://, with placeholders
	// filled from each VU's values at its Connect:
	// "wss://chat.test/rooms/{{room}}".
	URL string
	// Header are the handshake request's headers (Authorization,
	// Origin …), with placeholders in their values.
	Header map[string]string
	// Subprotocols are offered in the handshake, in order of preference.
	Subprotocols []string
	// ReadLimit is the largest message accepted, in bytes: a larger one
	// closes the connection with MESSAGE_TOO_BIG, as a client with that
	// limit would. 0 means 1 MiB.
	ReadLimit int64

	// ID, if set, returns the id a message carries (a field of its JSON,
	// say; see JSONField), or false if it has none. It matches a reply to
	// the message it answers: RoundTrip waits for the message whose id is
	// the one it sent, and Hold times each message it sends to its reply
	// (KindRoundTrip). The id of the messages a step sends is read the
	// same way from the text it sends.
	ID func(msg []byte) (string, bool)
	// Timestamp, if set, returns the time the service put in a message it
	// sent (see JSONTime), or false if it has none: each message received
	// that has one records its delivery delay (KindDelay).
	Timestamp func(msg []byte) (time.Time, bool)
}

// The defaults.
const (
	// DefaultReadLimit is the largest message a Client reads unless its
	// ReadLimit says otherwise.
	DefaultReadLimit = 1 << 20
	// maxQueued is how many messages a connection keeps that arrived
	// while no step was taking them; past that it stops reading, and the
	// service's writes wait, as a slow client's would.
	maxQueued = 1024
)

// parsed is what a Client's fields parse to, once per step.
type parsed struct {
	url    *scenario.Template
	header [][2]any // name, *scenario.Template, in name order
	uses   []string
}

// parse checks c and parses its templates.
func (c *Client) parse() (*parsed, error) {
	if c == nil {
		return nil, errors.New("client: nil; give the steps a *Client with a URL")
	}
	var errs []error
	p := &parsed{}
	switch u, err := url.Parse(strings.ReplaceAll(strings.ReplaceAll(c.URL, "{{", ""), "}}", "")); {
	case strings.TrimSpace(c.URL) == "":
		errs = append(errs, errors.New(`client: URL is empty; give the service's address, such as "ws://localhost:8080/chat"`))
	case err != nil:
		errs = append(errs, fmt.Errorf("client: URL %q: %w", c.URL, err))
	case u.Scheme != "ws" && u.Scheme != "wss":
		errs = append(errs, fmt.Errorf("client: URL %q: the scheme must be ws or wss, got %q", c.URL, u.Scheme))
	default:
		t, err := scenario.ParseText("client URL", c.URL)
		if err != nil {
			errs = append(errs, err)
		} else {
			p.url = t
			p.uses = append(p.uses, t.Uses()...)
		}
	}
	names := make([]string, 0, len(c.Header))
	for k := range c.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			errs = append(errs, fmt.Errorf("client: Header %q is not a header name", k))
			continue
		}
		t, err := scenario.ParseText("client Header "+k, c.Header[k])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.header = append(p.header, [2]any{http.CanonicalHeaderKey(k), t})
		for _, u := range t.Uses() {
			if !slices.Contains(p.uses, u) {
				p.uses = append(p.uses, u)
			}
		}
	}
	if c.ReadLimit < 0 {
		errs = append(errs, fmt.Errorf("client: ReadLimit is %d; it must be 0 (1 MiB) or more", c.ReadLimit))
	}
	return p, errors.Join(errs...)
}

func (c *Client) readLimit() int64 {
	if c.ReadLimit > 0 {
		return c.ReadLimit
	}
	return DefaultReadLimit
}
