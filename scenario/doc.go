// Package scenario describes what virtual users do: journeys of named steps
// with think time, pacing and test data, and HTTP steps that check and
// extract from responses.
//
// Start with [New]: it builds a [Journey] from parts and reports every
// mistake at once. [Journey.Scenario] then gives the loadgen scenario that
// runs it under an executor ([Mix] for a weighted mix of journeys):
//
//	j, err := scenario.New("browse", scenario.Parts{
//		scenario.GET("list", base+"/items", scenario.ExtractJSON("items.0.id", "id")),
//		scenario.Think(scenario.Uniform(time.Second, 3*time.Second)),
//		scenario.GET("item", base+"/items/{{id}}", scenario.Expect(200)),
//	})
//	if err != nil {
//		return err
//	}
//	res, err := loadgen.Run(ctx, &loadgen.Plan{Scenarios: []loadgen.Scenario{
//		j.Scenario(loadgen.ConstantVUs{VUs: 50, Duration: time.Minute}),
//	}})
//
// # Journeys
//
// A journey is a list of parts ([Part]): [Step] (a name and a plain Go
// function), [Think] (a pause drawn from a [Dist]: [Constant], [Uniform],
// [Normal], [Exponential]), [Pacing] (an iteration takes at least d),
// [Feed] (a row of test data from a [Feeder]), [Provides] (values that Go
// steps store) and [Group]. A [Parts] list is itself a part. [New] reports
// every problem of a journey at once.
//
// Each step's latency and outcome are recorded under the scenario and the
// step's name (metrics.KindStep). When a step fails, the iteration's
// remaining steps are skipped, but not its think times and pacing (a user
// pauses after an error page too, so a closed model offers the load it
// models through an outage instead of hammering the failing service), and
// the iteration fails with the step's error, whose
// outcome class says what went wrong: timeout, refused, reset (the peer
// reset or closed the connection, a kept-alive one included), http_4xx,
// http_5xx, check, panic or other. A panic in a step is counted for the
// step and the iteration, and the run goes on.
//
// # Virtual users
//
// A [VU] carries its id, its iteration number, its own random source
// (seeded from the journey's [Seed] and the VU id, so a run replays), the
// current data row, values stored by earlier steps ([VU.Set], [VU.Get]),
// and an HTTP client with its own cookie jar over the connections of the
// journey's [Client]: by default one pool shared by the scenario, sized so
// that every VU keeps its connection alive.
//
// # HTTP steps
//
// [HTTP], [GET] and [POST] build steps from a method and a URL template:
// {{name}} is replaced by the VU's stored value or the row's column of that
// name, {{vu.id}} and {{vu.iteration}} by the VU's id and iteration. Bodies,
// header values and the values that checks compare with are templates too.
// Each value is escaped for where its placeholder stands, as decided when
// the step is built: as a path segment or a query component in the URL, as
// JSON string content inside a JSON string, form-encoded in a form body;
// a header value holding CR or LF fails the step instead of being sent.
// {{raw name}} inserts a value as is, for a base URL or a piece of JSON.
// [HTTP] and [Body] give the rules.
//
// [New] checks every placeholder before any load: it must be built in, a
// column of the feeder fed before it, a value that an extractor of an
// earlier step stores, or a value declared with [Provides] (what a Go step
// stores with [VU.Set]). A typo fails New with the list of what is
// available there. URLs (http or https, with a host), methods, header
// names and options are checked there too.
//
// Options set headers, a timeout, the expected status codes ([Expect]; by
// default any status below 400 passes), checks ([Contains], [JSONEquals],
// [CheckResponse]) and extractors ([ExtractJSON], [ExtractHeader], [ExtractRegexp])
// that store a value for later steps. Bodies are read to the end and
// discarded unless a check or extractor needs them; then at most
// [MaxBody] bytes are kept ([DefaultMaxBody], 1 MiB, unless the step or
// the journey's [Client] says otherwise), and a longer body, still read to
// its end, fails the step as a failed check.
//
// Every HTTP step also records its phases as metrics of their own, under
// the step's name: [KindDNS], [KindConnect] (0 on a reused connection),
// [KindTLS], [KindTTFB] and [KindReceive]; bytes sent and received are
// counted on the step.
//
// # Clients
//
// [WithClient] sets how a journey's requests go out, with a [Client]
// whose zero value is the default above: HTTP/1.1, the system's roots, no
// proxy, gzip asked for and decoded, net/http's redirect policy, a cookie
// jar per VU. Its fields add what a real client may need: certificate
// authorities (RootCAs), client certificates, a server name, hosts whose
// certificates are not checked (InsecureSkipVerifyHosts: only those; every
// other host is still checked), HTTP/2 over TLS (HTTP2) or cleartext
// (H2C), a Proxy, host overrides as curl's --resolve (Hosts), a
// ConnectTimeout beside the request's Timeout, DisableCompression, and
// NoRedirects or MaxRedirects. Connections chooses which connections VUs
// share: one pool for all ([SharedPool]), connections of each VU's own
// ([PoolPerVU]), or new ones every iteration ([PoolPerIteration]), whose
// cost the connect and TLS phases then show. A Transport or an http.Client
// (HTTPClient) of your own replaces the transport the fields build; [New]
// reports a field that would then be ignored, naming both, and any other
// mistake. A certificate that fails its check fails the step as other,
// with the reason in the error.
//
// Requests go out on the package's own HTTP/1.1 client ([EngineWire]),
// lean enough that the generator is rarely what limits a test: a request
// is written at once and its response read without allocating. It sends
// what net/http would, cookies and redirects included, and measures the
// same way. HTTPClient, Transport, Proxy, HTTP2 and H2C are net/http's
// alone and select it ([EngineNetHTTP]); [Client.Engine] chooses
// explicitly.
//
// # Data feeders
//
// A [Feeder] holds rows from a slice ([NewFeeder]) or a CSV file
// ([LoadCSV]); a missing or malformed file is an error before any load
// starts. Modes: [Sequential] (one shared cursor), [PerVU] (a cursor per
// VU), [Random], and [Unique] (each row at most once across all VUs). When
// rows run out, [Wrap] starts again and [Stop] ends the scenario.
//
// # Steps of other protocols
//
// [ProtocolStep] makes a step of any other protocol fit a journey as an
// HTTP step does, through a [Protocol] that its own package implements:
// the gRPC steps of the module github.com/stampede-go/stampede/grpc do, the
// WebSocket and Server-Sent Events steps of github.com/stampede-go/stampede/ws
// too, and a team's Kafka or SQL step can. The journey times each call and
// records its outcome class; the protocol records through the [Call] it is
// given its phases, each message of a stream the moment it arrives, and
// status codes on a kind of its own (named with metrics.RegisterCodes, so
// that reports and thresholds show them by name). [Run.Shared] and
// [Run.OnClose] hold what a run opens, [Run.Gauge] samples what it holds
// over time, [VU.Local] is what a VU keeps, [NetOutcome] classifies a
// connection's errors as HTTP steps do, and [ParseText] and [ParseJSON]
// give the protocol the journeys' templates.
package scenario
