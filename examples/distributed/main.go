package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/scenario"
)

// The example plan. Every segment must build exactly the same plan: merge
// refuses results of different plans.
const (
	planName         = "distributed example"
	browseVUs        = 7   // VUs of the closed scenario "browse"
	browseIterations = 201 // iterations they share
	openRate         = 45  // arrivals per second of the open scenario "open"
	openDuration     = 2 * time.Second
	interval         = time.Second // series interval
)

func main() {
	// SIGTERM is how Kubernetes stops a pod: the run then stops as on
	// Ctrl-C and the partial result is still written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, false); err != nil {
		fmt.Fprintln(os.Stderr, "distributed:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  distributed [run] [-target URL] [-segment i/n] [-start-at RFC3339] [-out FILE | -log]
  distributed merge [-json FILE] [-html FILE] [-partial] FILE...   (FILE: a result, or a log of results; - for stdin)
`

// run is the command: "merge" as the first argument selects merge mode;
// anything else (or "run") runs this process's segment of the plan.
// inMemory serves the demo service in memory instead of on a loopback port
// when there is no -target: the tests do, on a fake clock.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	if len(args) > 0 {
		switch args[0] {
		case "merge":
			return merge(args[1:], stdout, stderr)
		case "run":
			args = args[1:]
		}
	}
	return runSegment(ctx, args, stdout, stderr, inMemory)
}

func runSegment(ctx context.Context, args []string, stdout, stderr io.Writer, inMemory bool) error {
	fs := flag.NewFlagSet("distributed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage, "\nrun flags:\n"); fs.PrintDefaults() }
	target := fs.String("target", "", "base URL of the demo service, on loopback (default: start one in this process)")
	segFlag := fs.String("segment", "", `this process's segment "i/n", 1-based (default: from `+
		loadgen.EnvSegmentIndex+` or `+loadgen.EnvJobCompletionIndex+`, 0-based, and `+loadgen.EnvSegmentCount+`; else the whole plan)`)
	startFlag := fs.String("start-at", "", "RFC 3339 wall-clock time at which every segment starts (default: "+loadgen.EnvStartAt+"; else now)")
	out := fs.String("out", "", "write the result JSON to this file (default: stdout)")
	toLog := fs.Bool("log", false, "write the result to stdout as a framed block, for a pod's log: merge reads it from `kubectl logs` (see k8s/README.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("run takes no arguments besides flags, got %q", fs.Args())
	}
	if *toLog && *out != "" {
		return errors.New("-log writes the result to stdout: give -log or -out, not both")
	}

	var seg loadgen.Segment
	var err error
	if *segFlag != "" {
		seg, err = loadgen.ParseSegment(*segFlag)
	} else {
		seg, err = loadgen.SegmentFromEnv()
	}
	if err != nil {
		return err
	}
	var startAt time.Time
	if *startFlag != "" {
		if startAt, err = time.Parse(time.RFC3339, *startFlag); err != nil {
			return fmt.Errorf(`-start-at must be an RFC 3339 time such as "2026-05-01T12:00:00Z", got %q`, *startFlag)
		}
	} else if startAt, err = loadgen.StartAtFromEnv(); err != nil {
		return err
	}

	base := *target
	var dial func(context.Context, string, string) (net.Conn, error)
	if base == "" {
		svc, err := demo.Start(demo.Options{InMemory: inMemory})
		if err != nil {
			return err
		}
		defer svc.Close()
		base, dial = svc.URL, svc.Dial
		fmt.Fprintf(stderr, "no -target: started the demo service at %s\n", base)
	} else if err := checkLoopback(base); err != nil {
		return err
	}

	switch wait := time.Until(startAt); {
	case startAt.IsZero() && seg.IsWhole():
		fmt.Fprintf(stderr, "whole plan: starting now\n")
	case startAt.IsZero():
		fmt.Fprintf(stderr, "segment %v: warning: no start time given; segments that start apart cannot be merged\n", seg)
	case wait > 0:
		fmt.Fprintf(stderr, "segment %v: starting at %s (in %v)\n", seg, startAt.Format(time.RFC3339Nano), wait.Round(time.Millisecond))
	default:
		fmt.Fprintf(stderr, "segment %v: warning: the start time %s passed %v ago; starting late, arrivals already due start at once\n",
			seg, startAt.Format(time.RFC3339Nano), (-wait).Round(time.Millisecond))
	}
	res, runErr := loadgen.Run(ctx, examplePlan(strings.TrimSuffix(base, "/"), dial, seg, startAt))
	if res == nil {
		return runErr // invalid plan, or cancelled while waiting for the start
	}
	var werr error
	where := *out
	switch {
	case *toLog:
		var n countingWriter
		werr, where = res.WriteLog(io.MultiWriter(stdout, &n)), "stdout as a framed block"
		if n > logLimit {
			fmt.Fprintf(stderr, "segment %v: warning: the result block is %.1f MiB, more than the %d MiB a kubelet keeps of a container's log by default: see k8s/README.md, \"Results larger than a log\"\n",
				seg, float64(n)/(1<<20), logLimit>>20)
		}
	case *out == "":
		werr, where = res.WriteJSON(stdout), "stdout"
	default:
		werr = res.SaveJSON(*out)
	}
	if werr != nil {
		return errors.Join(runErr, werr)
	}
	fmt.Fprintf(stderr, "segment %v: %d browse and %d open iterations in %v; result written to %s\n",
		seg, res.Iterations("browse").Count(), res.Iterations("open").Count(), res.Duration().Round(time.Millisecond), where)
	return runErr
}

// logLimit is the size at which the kubelet rotates a container's log by
// default (containerLogMaxSize).
const logLimit = 10 << 20

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// checkLoopback accepts http and https URLs whose host is a loopback
// address or "localhost": this example never loads another host.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-target must be an http:// or https:// URL, got %q", raw)
	}
	if h := u.Hostname(); h == "localhost" {
		return nil
	} else if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-target must be a loopback URL (127.0.0.1, [::1] or localhost; this example loads no other host), got %q", raw)
}

// examplePlan is the plan every segment runs: a closed scenario of 7 VUs
// sharing 201 iterations of GET /meetings, and an open scenario of 45
// arrivals per second for 2 s of GET /meetings/1, against the demo service
// at base (reached through dial, if not nil: the demo service in memory).
// seg and startAt are the only things that differ between processes, and
// neither is part of the plan's description in the result.
func examplePlan(base string, dial func(context.Context, string, string) (net.Conn, error), seg loadgen.Segment, startAt time.Time) *loadgen.Plan {
	client := scenario.WithClient(scenario.Client{Dial: dial})
	browse := scenario.Must("browse", scenario.Parts{scenario.GET("list", base+"/meetings", scenario.Timeout(5*time.Second))}, client)
	open := scenario.Must("open", scenario.Parts{scenario.GET("detail", base+"/meetings/1", scenario.Timeout(5*time.Second))}, client)
	return &loadgen.Plan{
		Name:     planName,
		Interval: interval,
		Scenarios: []loadgen.Scenario{
			browse.Scenario(loadgen.SharedIterations{VUs: browseVUs, Iterations: browseIterations, MaxDuration: 30 * time.Second}),
			open.Scenario(loadgen.ConstantRate{Rate: openRate, Duration: openDuration, PreAllocatedVUs: 8, MaxVUs: 100}),
		},
		Segment: seg,
		StartAt: startAt,
	}
}

// merge reads the segments' results, from result files or logs, merges
// them and reports.
func merge(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("distributed merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage, "\nmerge flags:\n"); fs.PrintDefaults() }
	jsonPath := fs.String("json", "", "also write the merged result as JSON to this file")
	htmlPath := fs.String("html", "", "also write an HTML report of the merged result to this file")
	partial := fs.Bool("partial", false, "merge the segments given even if some are missing (a lost pod): the report says which, and that their load is in no figure")
	if err := fs.Parse(args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return errors.New("merge needs the result of every segment, in result files or logs, e.g. merge -html report.html results/*.json")
	}
	for _, f := range files {
		if strings.HasPrefix(f, "-") && f != "-" {
			return fmt.Errorf("merge: flags go before the files, got %q after %q", f, files[0])
		}
	}
	// One result at a time: the merge holds the merge so far, not every
	// file. After a refusal, the rest are read only to say what they are.
	var m loadgen.Merger
	var addErr error
	var heads []head
	for _, f := range files {
		err := readResults(f, func(r *loadgen.Result, where string) {
			heads = append(heads, head{file: where, segment: r.Segment, plan: r.Plan.Name, start: r.Start})
			if addErr == nil {
				addErr = m.Add(r)
			}
		})
		if err != nil {
			return err
		}
	}
	var res *loadgen.Result
	err := addErr
	switch {
	case err != nil:
	case *partial:
		res, err = m.PartialResult()
	default:
		res, err = m.Result()
	}
	if err != nil {
		return fmt.Errorf("merging %d files: %w\n%s", len(files), err, diagnose(heads))
	}
	summary := report.Summarize(res)
	if err := summary.WriteText(stdout); err != nil {
		return err
	}
	if *jsonPath != "" {
		if err := res.SaveJSON(*jsonPath); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "merged result written to %s\n", *jsonPath)
	}
	if *htmlPath != "" {
		if err := summary.SaveHTML(*htmlPath, report.HTMLOptions{}); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "HTML report written to %s\n", *htmlPath)
	}
	return nil
}

// readResults calls fn with each result in file ("-" for stdin): a result
// file ([loadgen.Result.SaveJSON]), or a log holding results framed by
// [loadgen.Result.WriteLog], such as what `kubectl logs` prints for every
// pod of the Job. where names the result for messages.
func readResults(file string, fn func(r *loadgen.Result, where string)) error {
	var rd io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		rd = f
	}
	br := bufio.NewReaderSize(rd, 1<<16)
	var first byte
	for {
		c, err := br.Peek(1)
		if err == io.EOF {
			return fmt.Errorf("%s: empty: neither a result file (JSON) nor a log with a result block", file)
		} else if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if first = c[0]; first != ' ' && first != '\n' && first != '\r' && first != '\t' {
			break
		}
		_, _ = br.ReadByte()
	}
	var logRd io.Reader = br
	var jsonErr error
	if first == '{' {
		// A result file, or a log whose first line is JSON (a structured
		// logger's): a result file is read whole anyway.
		b, err := io.ReadAll(br)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		r, err := loadgen.ReadResult(bytes.NewReader(b))
		if err == nil {
			fn(r, file)
			return nil
		}
		jsonErr, logRd = err, bytes.NewReader(b)
	}
	n := 0
	for r, err := range loadgen.LogResults(logRd) {
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		n++
		fn(r, fmt.Sprintf("%s, result %d in the log", file, n))
	}
	switch {
	case n > 0:
		return nil
	case jsonErr != nil:
		return fmt.Errorf("%s: %w", file, jsonErr)
	}
	return fmt.Errorf("%s: neither a result file (JSON) nor a log with a result block", file)
}

// head is what diagnose says of a result file.
type head struct {
	file    string
	segment loadgen.Segment
	plan    string
	start   time.Time
}

// diagnose says which file holds which segment and, against the segment
// count of the first file, which segments are missing or given twice, so
// that a refused merge says what to fix.
func diagnose(heads []head) string {
	var b strings.Builder
	n := max(heads[0].segment.Count, 1)
	byIndex := map[int][]string{}
	starts := map[int64]bool{}
	for i, h := range heads {
		fmt.Fprintf(&b, "  result %d: %s: segment %v of plan %q, started %s\n",
			i, h.file, h.segment, h.plan, h.start.Format(time.RFC3339Nano))
		if max(h.segment.Count, 1) == n {
			byIndex[h.segment.Index] = append(byIndex[h.segment.Index], h.file)
		}
		starts[h.start.UnixNano()] = true
	}
	const maxListed = 10
	var missing []string
	for i := range n {
		seg := loadgen.Segment{Index: i, Count: n}
		switch fs := byIndex[i]; {
		case len(fs) == 0:
			missing = append(missing, seg.String())
		case len(fs) > 1:
			fmt.Fprintf(&b, "  segment %v is given %d times: %s\n", seg, len(fs), strings.Join(fs, ", "))
		}
		if len(missing) > maxListed {
			break
		}
	}
	switch {
	case len(missing) == 1:
		fmt.Fprintf(&b, "  segment %s is missing\n", missing[0])
	case len(missing) > maxListed:
		fmt.Fprintf(&b, "  segments %s, ... are missing\n", strings.Join(missing[:maxListed], ", "))
	case len(missing) > 1:
		fmt.Fprintf(&b, "  segments %s are missing\n", strings.Join(missing, ", "))
	}
	if len(starts) > 1 {
		b.WriteString("  the results started at different times: give every segment the same -start-at or " + loadgen.EnvStartAt + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
