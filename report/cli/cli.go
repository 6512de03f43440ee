// Package cli is a command-line kit for internal load-test tools: the
// usual flags, the run with its progress line, the report, the files,
// thresholds and regression budgets, and exit codes a CI job acts on. A
// tool supplies only its plan:
//
//	func main() {
//		(&cli.Tool{
//			Name:     "signup-load",
//			Defaults: cli.Flags{VUs: 50, Duration: time.Minute, Thresholds: report.MustParseThresholds("p95<500ms")},
//			Plan: func(f *cli.Flags, run int) (*loadgen.Plan, error) {
//				return &loadgen.Plan{Warmup: f.Warmup, Scenarios: []loadgen.Scenario{journey.Scenario(f.Executor())}}, nil
//			},
//		}).Main()
//	}
//
// Exit codes: 0 when every threshold passed in every run and no budget was
// broken; 1 when a threshold failed, a regression broke a budget, the run
// was aborted or interrupted, an open model dropped more of its arrivals
// than -max-dropped (1 % by default: the load asked for did not happen),
// or (with -trust-generator) the generator may have made the numbers; 2 for bad usage (an unknown flag, a bad
// value, a plan that does not validate, an output it could not write,
// found before the load). -h prints the usage and exits 0.
//
// The outputs (-html, -json, -benchfmt, -save-baseline, and the baseline
// of -baseline) are checked before the load, so that a long run is not lost
// to a typo in a path. After the load each is written on its own: one that
// fails does not keep the others from being written. Files are replaced
// atomically, and every file of a baseline is written before any of them
// replaces the earlier baseline's, so a full disk leaves that one whole.
//
// Ctrl-C or SIGTERM stops a run gracefully and still writes its report;
// a second signal interrupts the iterations in flight; a third exits at
// once (see [Tool.Main]).
package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/stampede-go/stampede/internal/save"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/compare"
)

// Exit codes of [Tool.Run].
const (
	ExitPass  = 0 // every threshold passed, no budget broken
	ExitFail  = 1 // a threshold failed, a budget was broken, or the run was cut short
	ExitUsage = 2 // bad usage: a flag, a value or a plan that does not validate
)

// Flags are the values of the usual flags. A [Tool]'s Defaults set their
// defaults; the flag of each field is in its comment.
type Flags struct {
	VUs      int           // -vus: virtual users (closed model), or the most VUs of an open one
	Rate     int           // -rate: arrivals per second; 0 runs a closed model of VUs
	Duration time.Duration // -duration: how long each run lasts, warm-up included
	Warmup   time.Duration // -warmup: the span left out of the figures
	// Thresholds (-threshold, repeatable) are checked on every run; given
	// on the command line, they replace the defaults.
	Thresholds []report.Threshold
	HTML       string // -html: write the last run's HTML report here
	JSON       string // -json: write the last run's JSON summary here
	Runs       int    // -runs: how many times to run the plan
	// SaveBaseline (-save-baseline DIR) saves every run as DIR/run-N.json;
	// Baseline (-baseline DIR) compares the runs with those saved there.
	SaveBaseline, Baseline string
	// Budgets (-budget, repeatable, e.g. "p95 +10%") bound the regression
	// against the baseline; given on the command line, they replace the
	// defaults ("p95 +10%" when there are none).
	Budgets []compare.Budget
	// Correction (-correction) is how the p-values of the budgets' tests
	// are adjusted together when gating against the baseline: Holm's
	// (the zero value), so that the chance of any false alarm stays at
	// 5 %; BenjaminiHochberg; or PerMetric, each test alone.
	Correction compare.Correction
	// UntilDecided (-until-decided N), with Baseline, makes the runs go
	// on one at a time, from Runs, until the budgets' tests against the
	// baseline are decided either way or N runs are made, the level
	// spread over the looks (see compare.RepeatUntilDecided); 0 runs
	// Runs times.
	UntilDecided int
	// Benchfmt (-benchfmt FILE) writes every run in the Go benchmark
	// format, for benchstat.
	Benchfmt string
	Quiet    bool // -quiet: no progress line
	// MaxDropped (-max-dropped, "1%" or 0.01) is the share of an open
	// scenario's arrivals that may be dropped before the run fails: past
	// it, the load asked for did not happen. 0 in Defaults means 1 %.
	MaxDropped float64
	// TrustGenerator (-trust-generator) fails a run whose report warns
	// that the generator, not the target, may have made its numbers (see
	// report.GeneratorSummary).
	TrustGenerator bool
}

// Executor returns the executor the flags describe: Rate arrivals per
// second for Duration with up to VUs VUs, or, with Rate 0, VUs VUs for
// Duration.
func (f *Flags) Executor() loadgen.Executor {
	if f.Rate > 0 {
		return loadgen.ConstantRate{Rate: f.Rate, Duration: f.Duration, PreAllocatedVUs: min(f.VUs, max(f.Rate/10, 1)), MaxVUs: f.VUs}
	}
	return loadgen.ConstantVUs{VUs: f.VUs, Duration: f.Duration}
}

// Tool is a command-line load test.
type Tool struct {
	// Name is the program's name in the usage; Description one line on
	// what it tests.
	Name, Description string
	// Defaults are the flags' defaults; a zero VUs, Duration or Runs means
	// 10, 30s and 1.
	Defaults Flags
	// Flags, if set, registers the tool's own flags beside the usual ones.
	Flags func(fs *flag.FlagSet)
	// Plan builds the plan of one run (numbered from 0) from the flags.
	// Its OnInterval, if set, is kept beside the progress line.
	Plan func(f *Flags, run int) (*loadgen.Plan, error)
	// Pause is the time between two runs, for the target to settle.
	Pause time.Duration
	// Benchmark names the runs in the Go benchmark format (-benchfmt):
	// "Browse" gives BenchmarkBrowse/scenario=…/step=…; "" means "Load".
	Benchmark string
}

// Main runs the tool on the process's arguments and exits with the code
// of [Tool.Run]. An interrupt (Ctrl-C) or a SIGTERM (a CI job cancelled, a
// timeout, a pod stopped) stops the run gracefully: the iterations in
// flight get their scenario's GracefulStop, then the report and the files
// are written as for a run that ended. A second signal interrupts those
// iterations at once; a third exits at once, with no report.
func (t *Tool) Main() {
	sig := make(chan os.Signal, 3)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	ctx, release := onSignals(sig, os.Stderr, os.Exit)
	code := t.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(sig)
	release()
	os.Exit(code)
}

// onSignals maps the signals arriving on sig to the stops of a run: the
// first cancels the returned context (the graceful stop), the second ends
// the graceful stop (see [loadgen.WithHardStop]), the third calls
// exit(ExitFail). release ends the watch.
func onSignals(sig <-chan os.Signal, stderr io.Writer, exit func(int)) (ctx context.Context, release func()) {
	graceful, stop := context.WithCancelCause(context.Background())
	hard, stopNow := context.WithCancelCause(context.Background())
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 1; ; n++ {
			var s os.Signal
			select {
			case s = <-sig:
			case <-done:
				return
			}
			switch n {
			case 1:
				fmt.Fprintf(stderr, "\n%v: stopping; the iterations in flight get their graceful stop (signal again to interrupt them now)\n", s)
				stop(fmt.Errorf("%v signal received", s))
			case 2:
				fmt.Fprintf(stderr, "\n%v again: interrupting the iterations in flight (once more to exit at once, with no report)\n", s)
				stopNow(fmt.Errorf("%v signal received twice", s))
			default:
				fmt.Fprintf(stderr, "\n%v a third time: exiting with no report\n", s)
				exit(ExitFail)
				return
			}
		}
	})
	return loadgen.WithHardStop(graceful, hard), func() {
		close(done)
		wg.Wait()
		stop(nil)
		stopNow(nil)
	}
}

// listFlag is a repeatable flag of parsed values: the first value given
// replaces the defaults, the next ones add to it.
type listFlag[T fmt.Stringer] struct {
	vals  *[]T
	parse func(string) (T, error)
	set   bool
}

func (l *listFlag[T]) String() string {
	if l.vals == nil {
		return ""
	}
	var s []string
	for _, v := range *l.vals {
		s = append(s, v.String())
	}
	return strings.Join(s, ", ")
}

func (l *listFlag[T]) Set(v string) error {
	x, err := l.parse(v)
	if err != nil {
		return err
	}
	if !l.set {
		*l.vals, l.set = nil, true
	}
	*l.vals = append(*l.vals, x)
	return nil
}

// durationFlag is a duration, with an error that says what one looks like.
type durationFlag time.Duration

func (d *durationFlag) String() string {
	if d == nil {
		return "0s"
	}
	return time.Duration(*d).String()
}

func (d *durationFlag) Set(v string) error {
	x, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want a duration with its unit, such as 30s, 1m30s or 500ms, got %q", v)
	}
	*d = durationFlag(x)
	return nil
}

// shareFlag is a share, read as "1%" or 0.01.
type shareFlag float64

func (s *shareFlag) String() string {
	if s == nil {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(*s), 'f', -1, 64) + "%"
}

func (s *shareFlag) Set(v string) error {
	num, pct := strings.CutSuffix(v, "%")
	x, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return fmt.Errorf("want a share such as 1%% or 0.01, got %q", v)
	}
	if pct {
		x /= 100
	}
	*s = shareFlag(x)
	return nil
}

// parse reads the flags; it returns flag.ErrHelp for -h.
func (t *Tool) parse(args []string, stdout, stderr io.Writer) (*Flags, error) {
	f := t.Defaults
	f.Thresholds = slices.Clone(f.Thresholds)
	f.Budgets = slices.Clone(f.Budgets)
	if f.VUs == 0 {
		f.VUs = 10
	}
	if f.Duration == 0 {
		f.Duration = 30 * time.Second
	}
	if f.Runs == 0 {
		f.Runs = 1
	}
	if f.MaxDropped == 0 {
		f.MaxDropped = 0.01
	}
	name := t.Name
	if name == "" {
		name = filepath.Base(os.Args[0])
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&f.VUs, "vus", f.VUs, "virtual users (closed model), or the most VUs of an open one")
	fs.IntVar(&f.Rate, "rate", f.Rate, "arrivals per second (an open model); 0 runs a closed model of -vus users")
	fs.Var((*durationFlag)(&f.Duration), "duration", "how long each run lasts, warm-up included: a `duration` such as 30s or 2m")
	fs.Var((*durationFlag)(&f.Warmup), "warmup", "the span at the start left out of the figures: a `duration` of whole intervals (seconds, unless the plan says otherwise), such as 5s")
	fs.Var(&listFlag[report.Threshold]{vals: &f.Thresholds, parse: report.ParseThreshold}, "threshold", `a threshold every run must pass, e.g. "apply: p95<500ms" (repeatable; replaces the defaults)`)
	fs.StringVar(&f.HTML, "html", f.HTML, "write the last run's HTML report to this file")
	fs.StringVar(&f.JSON, "json", f.JSON, "write the last run's JSON summary to this file")
	fs.IntVar(&f.Runs, "runs", f.Runs, fmt.Sprintf("how many times to run the plan (to compare with a baseline: at least %d, %d recommended)", compare.MinRuns, compare.RecommendedRuns))
	fs.StringVar(&f.SaveBaseline, "save-baseline", f.SaveBaseline, "save every run in this directory as the baseline")
	fs.StringVar(&f.Baseline, "baseline", f.Baseline, "compare the runs with the baseline saved in this directory")
	fs.Var(&listFlag[compare.Budget]{vals: &f.Budgets, parse: compare.ParseBudget}, "budget", `a regression allowed against the baseline, e.g. "p95 +10%" (repeatable; default "p95 +10%")`)
	fs.StringVar(&f.Benchfmt, "benchfmt", f.Benchfmt, "also write every run in the Go benchmark format (for benchstat) to this file")
	fs.IntVar(&f.UntilDecided, "until-decided", f.UntilDecided, "with -baseline: add runs, from -runs, until the budgets are decided either way, at most this many (the significance level spread over the looks)")
	fs.TextVar(&f.Correction, "correction", f.Correction, "how the budgets' tests against the baseline are adjusted together: holm (any false alarm at most 5%), benjamini-hochberg, or per-metric (each test alone)")
	fs.BoolVar(&f.Quiet, "quiet", f.Quiet, "no progress line")
	fs.Var((*shareFlag)(&f.MaxDropped), "max-dropped", "the `share` of an open model's arrivals that may be dropped (no VU free) before the run fails, such as 1% or 0.01")
	fs.BoolVar(&f.TrustGenerator, "trust-generator", f.TrustGenerator, "fail a run whose numbers the generator may have made (its own delay material, or its CPU exhausted)")
	if t.Flags != nil {
		t.Flags(fs)
	}
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: %s [flags]\n", name)
		if t.Description != "" {
			fmt.Fprintf(out, "\n%s\n", t.Description)
		}
		fmt.Fprintf(out, "\nExit status: 0 when every threshold passed, 1 when one failed, a budget was broken, the run was cut short, more arrivals were dropped than -max-dropped or (-trust-generator) the generator may have made the numbers, 2 for bad usage.\n\nflags:\n")
		fs.PrintDefaults()
	}
	for _, a := range args { // -h goes to stdout: asked for, it is not an error
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if f.VUs < 1 {
		errs = append(errs, fmt.Errorf("-vus must be >= 1, got %d", f.VUs))
	}
	if f.Rate < 0 {
		errs = append(errs, fmt.Errorf("-rate must be >= 0 (0: a closed model), got %d", f.Rate))
	}
	if f.Duration <= 0 {
		errs = append(errs, fmt.Errorf("-duration must be > 0, got %v", f.Duration))
	}
	switch {
	case f.Warmup < 0:
		errs = append(errs, fmt.Errorf("-warmup must be >= 0, got %v", f.Warmup))
	case f.Duration > 0 && f.Warmup >= f.Duration:
		errs = append(errs, fmt.Errorf("-warmup must be shorter than -duration (%v), got %v", f.Duration, f.Warmup))
	}
	if !(f.MaxDropped >= 0 && f.MaxDropped <= 1) {
		errs = append(errs, fmt.Errorf("-max-dropped must be a share from 0 to 1 (or 0%% to 100%%), got %v", f.MaxDropped))
	}
	if f.UntilDecided != 0 && (f.Baseline == "" || f.UntilDecided < max(f.Runs, compare.MinRuns)) {
		errs = append(errs, fmt.Errorf("-until-decided needs -baseline and at least max(-runs, %d) runs, got %d", compare.MinRuns, f.UntilDecided))
	}
	if f.Runs < 1 {
		errs = append(errs, fmt.Errorf("-runs must be >= 1, got %d", f.Runs))
	}
	if f.SaveBaseline != "" && f.Baseline != "" {
		errs = append(errs, errors.New("give -save-baseline or -baseline, not both"))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(stderr, err)
		fs.Usage()
		return nil, err
	}
	return &f, nil
}

// Run runs the tool on args and returns its exit code (see the package
// documentation); Main calls it and exits.
func (t *Tool) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := t.parse(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitPass
	}
	if err != nil {
		return ExitUsage
	}
	if t.Plan == nil {
		fmt.Fprintln(stderr, "cli: the tool has no Plan")
		return ExitUsage
	}
	base, err := checkOutputs(f)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitUsage
	}
	code := ExitPass
	cut := false // a run was aborted or interrupted: not a baseline, not a candidate
	var runs []*loadgen.Result
	var last *report.Summary
	var lastVerdicts report.Verdicts
	total, seq := f.Runs, f.sequential()
	if f.UntilDecided > 0 {
		total = f.UntilDecided
	}
	for i := range total {
		if i > 0 && t.Pause > 0 {
			select {
			case <-time.After(t.Pause):
			case <-ctx.Done():
			}
		}
		plan, err := t.Plan(f, i)
		if err == nil && plan == nil {
			err = errors.New("the Plan function returned no plan")
		}
		if err == nil && plan.Warmup == f.Warmup && f.Warmup%cmp.Or(plan.Interval, time.Second) != 0 {
			// Said of the flag, not of Plan.Warmup.
			err = fmt.Errorf("-warmup must be a whole number of the plan's intervals (%v), got %v", cmp.Or(plan.Interval, time.Second), f.Warmup)
		}
		if err == nil {
			err = plan.Validate()
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return ExitUsage
		}
		if !f.Quiet {
			opts := report.ProgressOptions{}
			if total > 1 {
				opts.Label = fmt.Sprintf("run %d/%d", i+1, total)
			}
			progress, own := report.NewProgress(stderr, opts), plan.OnInterval
			plan.OnInterval = func(p *loadgen.Progress) {
				progress(p)
				if own != nil {
					own(p)
				}
			}
		}
		res, err := loadgen.Run(ctx, plan)
		if res == nil {
			fmt.Fprintln(stderr, err)
			return ExitUsage
		}
		if err != nil {
			fmt.Fprintln(stderr, "the run stopped early:", err)
			code, cut = ExitFail, true
		}
		runs = append(runs, res)
		last, lastVerdicts = report.Summarize(res), report.Check(res, f.Thresholds...)
		if !lastVerdicts.Passed() {
			code = ExitFail
		}
		for _, sc := range last.Scenarios {
			if all := sc.Started + sc.Dropped; sc.Dropped > 0 && float64(sc.Dropped) > f.MaxDropped*float64(all) {
				fmt.Fprintf(stderr, "run %d/%d: scenario %q dropped %d of %d arrivals (%.1f%%, more than -max-dropped %s): the load asked for did not happen (raise -vus, or lower -rate)\n",
					i+1, total, sc.Name, sc.Dropped, all, 100*float64(sc.Dropped)/float64(all), (*shareFlag)(&f.MaxDropped).String())
				code = ExitFail
			}
		}
		if ws := last.GeneratorWarnings(); f.TrustGenerator && len(ws) > 0 {
			fmt.Fprintf(stderr, "run %d/%d: the generator may have made the numbers (-trust-generator):\n", i+1, total)
			for _, w := range ws {
				fmt.Fprintln(stderr, "  - "+w)
			}
			code = ExitFail
		}
		if total > 1 {
			fmt.Fprintf(stdout, "run %d/%d: %s, thresholds %s\n", i+1, total, last.Status(), passFail(lastVerdicts))
		}
		if err != nil {
			break
		}
		if f.UntilDecided > 0 && i+1 >= f.Runs {
			_, _, done, err := seq.Look(base, runs)
			if err != nil {
				break // budgets the comparison cannot check: no use running on; the comparison below says why
			}
			if done {
				fmt.Fprintf(stdout, "decided against the baseline after %d run(s)\n", len(runs))
				break
			}
		}
	}
	if err := last.WriteText(stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return ExitFail
	}
	switch {
	case len(f.Thresholds) > 0 && lastVerdicts.Passed():
		fmt.Fprintln(stdout, "\nthresholds")
		_ = lastVerdicts.WriteText(stdout)
	case len(f.Thresholds) > 0:
		// The failure report on stderr holds the table, with the rows
		// the failed thresholds look at: printed once.
		fmt.Fprintf(stdout, "\nthresholds: %d of %d failed (the failure report is on stderr)\n", len(lastVerdicts.Failed()), len(lastVerdicts))
	}
	// Each output is written on its own: one that fails does not keep the
	// others from being written.
	output := func(write func() error, done string) {
		if err := write(); err != nil {
			fmt.Fprintln(stderr, err)
			code = ExitFail
			return
		}
		fmt.Fprintln(stdout, done)
	}
	if f.HTML != "" || f.JSON != "" {
		fmt.Fprintln(stdout)
	}
	if f.HTML != "" {
		output(func() error { return last.SaveHTML(f.HTML, report.HTMLOptions{Verdicts: lastVerdicts}) }, "HTML report: "+f.HTML)
	}
	if f.JSON != "" {
		output(func() error { return last.SaveJSON(f.JSON, lastVerdicts) }, "JSON summary: "+f.JSON)
	}
	switch {
	case cut && (f.Benchfmt != "" || f.SaveBaseline != "" || f.Baseline != ""):
		fmt.Fprintln(stderr, "a run was cut short: nothing saved as a baseline, written for benchstat or compared")
	default:
		if f.Benchfmt != "" {
			name := t.Benchmark
			if name == "" {
				name = "Load"
			}
			output(func() error {
				return save.File(f.Benchfmt, func(w io.Writer) error { return report.WriteBenchmark(w, name, runs...) })
			}, "benchmark format: "+f.Benchfmt)
		}
		if f.SaveBaseline != "" {
			output(func() error { return saveRuns(f.SaveBaseline, runs) },
				fmt.Sprintf("saved %d run(s) as the baseline in %s", len(runs), f.SaveBaseline))
		}
		if f.Baseline != "" {
			if c := compareWith(f, base, runs, stdout, stderr); c != ExitPass {
				code = c
			}
		}
	}
	if code == ExitFail && len(f.Thresholds) > 0 && !lastVerdicts.Passed() {
		fmt.Fprintln(stderr)
		_ = last.WriteFailure(stderr, lastVerdicts)
	}
	return code
}

// checkOutputs fails before the load, not after it, on an output the run
// could not write: each file's directory must exist and take a file, the
// baseline directory to save must be one that can be made, the baseline
// to compare with must load (it is returned), and no two outputs may share
// a path.
func checkOutputs(f *Flags) (base []*loadgen.Result, err error) {
	var errs []error
	seen := map[string]string{}
	for _, o := range []struct{ flag, path string }{
		{"-html", f.HTML}, {"-json", f.JSON}, {"-benchfmt", f.Benchfmt}, {"-save-baseline", f.SaveBaseline},
	} {
		if o.path == "" {
			continue
		}
		abs, err := filepath.Abs(o.path)
		if err != nil {
			abs = o.path
		}
		if other, ok := seen[abs]; ok {
			errs = append(errs, fmt.Errorf("%s and %s name the same path, %s: give each output its own", other, o.flag, o.path))
			continue
		}
		seen[abs] = o.flag
		if o.flag == "-save-baseline" {
			err = save.WritableDir(o.path)
		} else {
			err = save.Writable(o.path)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.flag, err))
		}
	}
	if f.Baseline != "" {
		base, err = loadRuns(f.Baseline)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return base, errors.Join(errs...)
}

func passFail(vs report.Verdicts) string {
	if vs.Passed() {
		return "pass"
	}
	return "FAIL"
}

// saveRuns saves the runs as dir/run-N.json, replacing the runs of an
// earlier baseline, so that a comparison never mixes two. Every file is
// written before any is put in place: a write that fails (a full disk)
// leaves the earlier baseline whole.
func saveRuns(dir string, runs []*loadgen.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "run-*.json"))
	if err != nil {
		return err
	}
	staged := make([]*save.Staged, 0, len(runs))
	discard := func() {
		for _, s := range staged {
			s.Discard()
		}
	}
	keep := map[string]bool{}
	for i, res := range runs {
		path := filepath.Join(dir, fmt.Sprintf("run-%d.json", i))
		s, err := save.Stage(path, res.WriteJSON)
		if err != nil {
			discard()
			return fmt.Errorf("the baseline in %s is left as it was: %w", dir, err)
		}
		staged, keep[path] = append(staged, s), true
	}
	for i, s := range staged {
		if err := s.Commit(); err != nil {
			staged = staged[i+1:]
			discard()
			return err
		}
	}
	for _, f := range old {
		if !keep[f] {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadRuns loads the runs saved in dir as a baseline.
func loadRuns(dir string) ([]*loadgen.Result, error) {
	files, err := filepath.Glob(filepath.Join(dir, "run-*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no baseline runs (run-*.json) in %s", dir)
	}
	var base []*loadgen.Result
	for _, file := range files {
		res, err := loadgen.LoadResult(file)
		if err != nil {
			return nil, err
		}
		base = append(base, res)
	}
	return base, nil
}

// sequential returns the gate the flags describe: the budgets (p95 +10 %
// by default) adjusted by -correction, its looks from -runs (or the
// fewest that can decide) to -until-decided.
func (f *Flags) sequential() compare.Sequential {
	budgets := f.Budgets
	if len(budgets) == 0 {
		budgets = []compare.Budget{{Metric: report.Quantile(0.95), Max: 0.10}}
	}
	seq := compare.Sequential{Budgets: budgets, Correction: f.Correction, Max: f.UntilDecided}
	if f.Runs > 1 {
		seq.Min = f.Runs
	}
	return seq
}

// compareWith compares the runs with those of the baseline and checks
// the budgets.
func compareWith(f *Flags, base, runs []*loadgen.Result, stdout, stderr io.Writer) int {
	var c *compare.Comparison
	var vs []compare.Violation
	var err error
	if seq := f.sequential(); f.UntilDecided > 0 {
		// The last look, judged at the level spread over the looks.
		c, vs, _, err = seq.Look(base, runs)
	} else {
		c, err = compare.Compare(base, runs)
		if err == nil {
			err = c.SetCorrection(f.Correction)
		}
		if err == nil {
			vs, err = c.Violations(seq.Budgets...) // first: the table then shows the gate's verdicts
		}
	}
	if err == nil && c == nil {
		err = fmt.Errorf("%d run(s) are too few to compare with the baseline", len(runs))
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitUsage
	}
	fmt.Fprintln(stdout, "\nagainst the baseline")
	_ = c.WriteText(stdout)
	for _, v := range vs {
		fmt.Fprintf(stdout, "REGRESSION %v: %s\n", v.Row, v.Reason)
	}
	if len(vs) > 0 {
		return ExitFail
	}
	fmt.Fprintln(stdout, "no regression beyond the budgets")
	return ExitPass
}
