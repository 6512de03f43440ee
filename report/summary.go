package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/report/internal/runchart"
)

// LatencyFigures are the latency statistics of one side (successful or
// failed operations) of a metric.
type LatencyFigures struct {
	Count               int64 // operations with a latency on this side
	Min, Mean, P50, P90 time.Duration
	P95, P99, P999, Max time.Duration
}

// Figures are the figures of one metric over the measured window (warm-up
// excluded), all read from its histograms and counters through the
// definitions of [Metric].
type Figures struct {
	Count     int64   // operations started
	Errors    int64   // operations that failed
	ErrorRate float64 // Errors / Count, a fraction
	Rate      float64 // operations per second of the load window (see [Rate])
	// ErrorsByClass counts errors by outcome name, in the fixed class order.
	ErrorsByClass []ClassCount
	// Status counts responses by status code, where the metric has them.
	Status metrics.StatusCounts
	// Latency is the latency of the successful operations; Failed that
	// of the failed ones (Count 0 when nothing failed).
	Latency, Failed LatencyFigures
	BytesSent       int64
	BytesReceived   int64
	Clamped         int64 // latencies above one hour, recorded as one hour
}

// ClassCount is a count of one outcome class.
type ClassCount struct {
	Class string
	Count int64
}

// FiguresOf computes the figures of s, with its rates from b.
func FiguresOf(s *metrics.Stats, b RateBasis) Figures {
	num := func(m Metric) float64 { v, _ := m.Value(s, b); return v }
	f := Figures{
		Count:         int64(num(Count())),
		Errors:        int64(num(Errors())),
		ErrorRate:     num(ErrorRate()),
		Rate:          num(Rate()),
		Status:        s.Status,
		Latency:       latencyFigures(s, Successes),
		Failed:        latencyFigures(s, Failures),
		BytesSent:     s.BytesSent,
		BytesReceived: s.BytesReceived,
		Clamped:       s.Latency.Clamped + s.Failed.Clamped,
	}
	for _, o := range metrics.ErrorClasses() {
		if n := s.Outcomes[o]; n > 0 {
			f.ErrorsByClass = append(f.ErrorsByClass, ClassCount{o.String(), n})
		}
	}
	return f
}

func latencyFigures(s *metrics.Stats, side Side) LatencyFigures {
	d := func(m Metric) time.Duration { v, _ := m.Of(side).Value(s, RateBasis{}); return time.Duration(v) }
	n := s.Latency.Count()
	if side == Failures {
		n = s.Failed.Count()
	}
	return LatencyFigures{
		Count: n, Min: d(Min()), Mean: d(Mean()), P50: d(Quantile(0.5)), P90: d(Quantile(0.9)),
		P95: d(Quantile(0.95)), P99: d(Quantile(0.99)), P999: d(Quantile(0.999)), Max: d(Max()),
	}
}

// Summary is what a reader wants to know about a run, computed from a
// [loadgen.Result]: per scenario the iterations and per step the figures,
// the gauges, the events, example errors and the caveats. Render it with
// its Write methods.
type Summary struct {
	Plan    loadgen.PlanInfo
	Segment loadgen.Segment
	// Segments are those a merged run is made of, and Missing those a
	// partial merge went without (see loadgen.MergePartial).
	Segments  []loadgen.SegmentRecord
	Missing   []loadgen.Segment
	Start     time.Time
	End       time.Time
	WarmupEnd time.Time
	// Window is the measured window: from the end of the warm-up to End.
	// Counts and latencies are over it.
	Window time.Duration
	// RateWindow is the length of the load window that rates are
	// computed over (see [LoadWindow]).
	RateWindow time.Duration
	// Aborted and Interrupted say whether the run was cut short, and why.
	Aborted     bool
	AbortReason string
	Interrupted bool
	Cause       string
	Scenarios   []ScenarioSummary
	// Generator is the health of the processes that generated the load;
	// nil when the result did not record it (format version 2 and
	// before, or a run on a fake clock).
	Generator *GeneratorSummary
	// Gauges are the plan's gauges (the generator's own are in Generator).
	Gauges []GaugeSummary
	Events []loadgen.EventRecord
	Errors []loadgen.ErrorSample
	// Warnings are caveats a reader must see: clamped values, a late start,
	// recovered panics, dropped arrivals, work cut off at the hard stop,
	// latencies of an old result that include failures, a generator that
	// may have made the numbers (see [Summary.GeneratorWarnings]).
	Warnings []string

	res               *loadgen.Result
	generatorWarnings []string
}

// Result returns the run the summary was made from.
func (s *Summary) Result() *loadgen.Result { return s.res }

// Status returns "completed", "aborted: reason" or "interrupted: cause",
// followed by the iterations cut off at the hard stop, if any.
func (s *Summary) Status() string {
	st := "completed"
	switch {
	case s.Aborted:
		st = "aborted: " + s.AbortReason
	case s.Interrupted:
		st = "interrupted: " + s.Cause
	}
	var cut int64
	for _, sc := range s.Scenarios {
		cut += sc.Interrupted
	}
	if cut > 0 {
		st += fmt.Sprintf(" (%d iterations cut off at the hard stop)", cut)
	}
	return st
}

// meta lists the run's header lines, shared by every renderer.
func (s *Summary) meta() [][2]string {
	meta := [][2]string{
		{"started", s.Start.UTC().Format(time.RFC3339)},
		{"duration", format.Duration(s.End.Sub(s.Start))},
		{"measured", format.Duration(s.Window)},
		{"status", s.Status()},
	}
	if s.RateWindow != s.Window {
		meta[2][1] += "; rates over " + format.Duration(s.RateWindow) + ", the planned load"
	}
	if s.WarmupEnd.After(s.Start) {
		meta = append(meta, [2]string{"warm-up", format.Duration(s.WarmupEnd.Sub(s.Start)) + " (left out of the figures)"})
	}
	if !s.Segment.IsWhole() {
		meta = append(meta, [2]string{"segment", s.Segment.String()})
	}
	if len(s.Segments) > 0 {
		n := len(s.Segments) + len(s.Missing)
		v := fmt.Sprintf("%d of %d merged", len(s.Segments), n)
		if len(s.Missing) > 0 {
			v += " (" + segmentList(s.Missing) + " missing)"
		}
		late := s.Segments[0]
		for _, sg := range s.Segments {
			if sg.StartLate > late.StartLate {
				late = sg
			}
		}
		if late.StartLate > 0 {
			v += fmt.Sprintf("; the latest started %s late (%v)", format.Duration(late.StartLate), late.Segment)
		} else {
			v += "; every one started on time"
		}
		meta = append(meta, [2]string{"segments", v})
	}
	return meta
}

// ScenarioSummary summarises one scenario.
type ScenarioSummary struct {
	Name     string
	Executor string
	Open     bool
	// Iterations counts them by fate; Started = Completed + Failed +
	// Interrupted, and in open models Scheduled = Started + Dropped.
	Started, Completed, Failed, Interrupted, Dropped int64
	// Iteration holds the iterations' figures (latency from the intended
	// start in open models).
	Iteration Figures
	// Lag is the schedule lag of an open model (nil for closed ones).
	Lag *Figures
	// Steps are in the order they were first registered.
	Steps []StepSummary
	// Timeline holds the scenario interval by interval, warm-up included.
	Timeline []Interval
	// Generator is what the generator may have added to the iterations'
	// latency; nil when the result did not record its health.
	Generator *GeneratorDelay
}

// StepSummary summarises one step, with its HTTP phases where present,
// and what a step of another protocol records beside its latency.
type StepSummary struct {
	Name    string
	Figures Figures
	Phases  []PhaseSummary
	// Kinds are the other metrics recorded under the step's name, in the
	// order they were first registered: a gRPC step's status codes
	// ("grpc"), phases and the latency of each message of a stream
	// ("grpc_msg").
	Kinds []PhaseSummary
}

// PhaseSummary holds one metric recorded under a step's name beside its
// latency: an HTTP phase, or a kind of another protocol.
type PhaseSummary struct {
	Phase   string // the metric kind, e.g. "http_ttfb" or "grpc_msg"
	Figures Figures
}

// GaugeSummary holds a gauge's range over the whole run.
type GaugeSummary struct {
	Name           string
	Min, Mean, Max float64
	Samples        int64
}

// Summarize computes the Summary of a run.
func Summarize(res *loadgen.Result) *Summary {
	snap := res.Metrics
	s := &Summary{
		Plan: res.Plan, Segment: res.Segment, Start: res.Start, End: res.End, WarmupEnd: snap.WarmupEnd(),
		Aborted: res.Aborted, AbortReason: res.AbortReason, Interrupted: res.Interrupted, Cause: res.Cause,
		Events: res.Events, Errors: res.Errors, res: res, Segments: res.Segments, Missing: res.Missing,
	}
	s.Window = measured(res)
	from, to, whole := loadWindow(res)
	s.RateWindow = to.Sub(from)
	if len(res.Missing) > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("a partial merge: segment(s) %s of %d missing; their share of the load is in no figure (counts and rates are those of %d segment(s))",
			segmentList(res.Missing), len(res.Missing)+len(res.Segments), len(res.Segments)))
	}
	if snap.LatencyIncludesFailures {
		s.Warnings = append(s.Warnings, "this result was saved in format version 1, which did not keep failed operations apart: its latencies include failures")
	}
	if res.StartLate > 0 {
		who := "this process"
		if len(res.Segments) > 0 {
			who = "the latest segment"
		}
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s started %v after the plan's StartAt", who, res.StartLate))
	}
	for _, p := range res.Panics {
		where := p.Where
		switch {
		case where == "":
			where = "user code"
		case p.Scenario != "":
			where = fmt.Sprintf("the %s of scenario %q", where, p.Scenario)
		}
		s.Warnings = append(s.Warnings, fmt.Sprintf("%s panicked %s: %s (the stack is kept in the result)", where, times(max(p.Count, 1)), p.Value))
	}
	if res.MorePanics > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d more distinct panics were counted but not kept", res.MorePanics))
	}
	for _, g := range res.Plan.Gauges {
		if n := res.GaugeNonFinite[g]; n > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("gauge %q returned NaN or an infinity %s: those samples are left out", g, times(n)))
		}
	}
	for _, sc := range res.Plan.Scenarios {
		ss := ScenarioSummary{Name: sc.Name, Executor: sc.Description, Open: sc.Open}
		for i := range snap.Series {
			m := &snap.Series[i]
			if m.Scenario != sc.Name {
				continue
			}
			f := FiguresOf(&m.Total, rateBasis(m, snap.Interval, from, to, whole))
			if f.Clamped > 0 {
				s.Warnings = append(s.Warnings, fmt.Sprintf("%v: %d latencies above %v were recorded as %v", m.Key, f.Clamped, metrics.MaxValue, metrics.MaxValue))
			}
			switch m.Kind {
			case metrics.KindIteration:
				ss.Iteration = f
				o := m.Total.Outcomes
				ss.Completed, ss.Failed, ss.Interrupted, ss.Dropped = o[metrics.OK], m.Total.Errors(), o[metrics.Interrupted], o[metrics.Dropped]
				ss.Started = m.Total.Count()
			case metrics.KindScheduleLag:
				ss.Lag = &f
			default: // a step, or one of a step's phases
				i := slices.IndexFunc(ss.Steps, func(st StepSummary) bool { return st.Name == m.Step })
				if i < 0 {
					ss.Steps = append(ss.Steps, StepSummary{Name: m.Step})
					i = len(ss.Steps) - 1
				}
				switch {
				case m.Kind == metrics.KindStep:
					ss.Steps[i].Figures = f
				case strings.HasPrefix(string(m.Kind), "http_"):
					if f.Count > 0 { // a phase that never happened (DNS for an IP) is left out
						ss.Steps[i].Phases = append(ss.Steps[i].Phases, PhaseSummary{Phase: string(m.Kind), Figures: f})
					}
				case f.Count > 0 || len(f.Status) > 0:
					ss.Steps[i].Kinds = append(ss.Steps[i].Kinds, PhaseSummary{Phase: string(m.Kind), Figures: f})
				}
			}
		}
		// The timeline counts the rows the charts draw: the steps, or the
		// iterations of a scenario without steps.
		var rows []*metrics.Series
		for _, k := range runchart.Rows(res) {
			if m := snap.SeriesOf(k); m != nil && k.Scenario == sc.Name {
				rows = append(rows, m)
			}
		}
		ss.Timeline = timeline(snap, res.End, rows, snap.SeriesOf(metrics.Key{Scenario: sc.Name, Kind: metrics.KindIteration}))
		if ss.Dropped > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("scenario %q dropped %d of %d arrivals (%s): no VU was free (raise MaxVUs, or the target is too slow for the rate)",
				sc.Name, ss.Dropped, ss.Started+ss.Dropped, format.Percent(float64(ss.Dropped)/float64(ss.Started+ss.Dropped))))
		}
		if ss.Interrupted > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("scenario %q: %d iterations were still running at the hard stop (GracefulStop %v) and were cut off; they count as interrupted, with no latency",
				sc.Name, ss.Interrupted, sc.GracefulStop))
		}
		s.Scenarios = append(s.Scenarios, ss)
	}
	s.summarizeGenerator(res)
	for _, g := range snap.Gauges {
		if metrics.IsGeneratorGauge(g.Name) { // shown with the generator's health
			continue
		}
		gs := GaugeSummary{Name: g.Name}
		var sum float64
		for _, p := range g.Points {
			if p.N == 0 {
				continue
			}
			if gs.Samples == 0 {
				gs.Min, gs.Max = p.Min, p.Max
			}
			gs.Min, gs.Max = min(gs.Min, p.Min), max(gs.Max, p.Max)
			sum += p.Sum
			gs.Samples += p.N
		}
		if gs.Samples > 0 {
			gs.Mean = sum / float64(gs.Samples)
		}
		s.Gauges = append(s.Gauges, gs)
	}
	return s
}

// segmentList lists segments: "2/4, 3/4".
func segmentList(ss []loadgen.Segment) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, ", ")
}

// times says how many times: "once", "3 times".
func times(n int64) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}
