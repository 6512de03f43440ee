package main

import (
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
  distributed [run] [-target URL] [-segment i/n] [-start-at RFC3339] [-out FILE]
  distributed merge [-json FILE] [-html FILE] FILE...
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("run takes no arguments besides flags, got %q", fs.Args())
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
	if *out == "" {
		werr = res.WriteJSON(stdout)
	} else {
		werr = res.SaveJSON(*out)
	}
	if werr != nil {
		return errors.Join(runErr, werr)
	}
	where := *out
	if where == "" {
		where = "stdout"
	}
	fmt.Fprintf(stderr, "segment %v: %d browse and %d open iterations in %v; result written to %s\n",
		seg, res.Iterations("browse").Count(), res.Iterations("open").Count(), res.Duration().Round(time.Millisecond), where)
	return runErr
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

// merge reads the segments' result files, merges them and reports.
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
		return errors.New("merge needs the result file of every segment, e.g. merge -html report.html results/*.json")
	}
	for _, f := range files {
		if strings.HasPrefix(f, "-") {
			return fmt.Errorf("merge: flags go before the files, got %q after %q", f, files[0])
		}
	}
	results := make([]*loadgen.Result, len(files))
	for i, f := range files {
		r, err := loadgen.LoadResult(f)
		if err != nil {
			return err
		}
		results[i] = r
	}
	mergeFn := loadgen.Merge
	if *partial {
		mergeFn = loadgen.MergePartial
	}
	merged, err := mergeFn(results...)
	if err != nil {
		return fmt.Errorf("merging %d files: %w\n%s", len(files), err, diagnose(files, results))
	}
	summary := report.Summarize(merged)
	if err := summary.WriteText(stdout); err != nil {
		return err
	}
	if *jsonPath != "" {
		if err := merged.SaveJSON(*jsonPath); err != nil {
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

// diagnose says which file holds which segment and, against the segment
// count of the first file, which segments are missing or given twice, so
// that a refused merge says what to fix.
func diagnose(files []string, results []*loadgen.Result) string {
	var b strings.Builder
	n := max(results[0].Segment.Count, 1)
	byIndex := map[int][]string{}
	starts := map[int64]bool{}
	for i, r := range results {
		fmt.Fprintf(&b, "  result %d: %s: segment %v of plan %q, started %s\n",
			i, files[i], r.Segment, r.Plan.Name, r.Start.Format(time.RFC3339Nano))
		if max(r.Segment.Count, 1) == n {
			byIndex[r.Segment.Index] = append(byIndex[r.Segment.Index], files[i])
		}
		starts[r.Start.UnixNano()] = true
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
