package report

import (
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/stampede-go/stampede/internal/save"
	"github.com/stampede-go/stampede/metrics"
)

// SummaryVersion is the version of the JSON summary written by
// [Summary.WriteJSON]. It changes only when a field is renamed, removed or
// changes meaning; new fields may appear within a version.
const SummaryVersion = 1

// WriteJSON writes the summary as JSON for CI jobs and dashboards, with the
// verdicts of thresholds when vs is not empty. It is a designed, stable
// schema, not the lossless result file ([loadgen.Result.WriteJSON]): keys
// are snake_case, units are in the key names (durations as float
// milliseconds "_ms" or seconds "_s", rates "_per_s", shares 0–1
// "_rate"/"_share"), and a figure with no data is null. The top level:
//
//	format, version      "stampede-summary", SummaryVersion
//	plan                 the plan's name
//	started              the run's start, RFC 3339 in UTC
//	duration_s           from start to end
//	measured_s, warmup_s the measured window and the warm-up before it
//	rate_window_s        the load window that rates are over (see LoadWindow)
//	segments             of a merged run: [{segment, start_late_ms, end_s}]
//	missing_segments     of a partial merge: ["2/4"] (its warnings say so too)
//	interval_s           the length of a timeline interval
//	status               "completed", "aborted: …" or "interrupted: …"
//	passed               true when every threshold passed (with thresholds)
//	thresholds           [{threshold, unit, actual, limit, passed, no_data, error}]:
//	                     actual and limit in unit ("ms", "count", "per_s", "fraction")
//	scenarios            [{name, executor, open, iterations, rows, timeline, generator_delay}]
//	generator            the generator's health (null when not recorded):
//	                     {processes, gomaxprocs, cpu_mean_share, cpu_max_share,
//	                     go_sched, gc_pause, think_lag (latencies; think_lag
//	                     only when VUs paused), held_back_share, goroutines_max,
//	                     heap_bytes_max, clock_resolution_ms, timer_lateness_ms,
//	                     warnings}
//	gauges               [{name, min, mean, max, samples}] (the plan's)
//	events               [{name, at_s, took_ms, error, skipped}]
//	error_samples        [{scenario, class, message}]
//	warnings             [string]
//
// A scenario's iterations are {started, completed, failed, interrupted,
// dropped}; each of its rows (its steps, then "(iteration)" and, for open
// models, "(schedule lag)", told apart by kind "step", "iteration",
// "schedule_lag") has count, rate_per_s, errors, error_rate,
// errors_by_class {class: n}, status {code: n}, latency and
// failed_latency {count, min_ms, mean_ms, p50_ms, p90_ms, p95_ms, p99_ms,
// p99_9_ms, max_ms} (null when count is 0), bytes_sent, bytes_received
// and phases [{phase, latency}]. Its timeline is one object per interval:
// {start_s, end_s, warmup, requests, errors, errors_by_class, successes,
// p50_ms, p95_ms, vus, dropped} (see [Interval]). Its generator_delay is
// what the generator may have added to the iterations' latency
// {p50_ms, p95_ms, p99_ms, schedule_lag_p99_ms, go_sched_p99_ms} (see
// [GeneratorSummary]), null when the run did not record the generator.
func (s *Summary) WriteJSON(w io.Writer, vs Verdicts) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // thresholds read "p95<300ms", not "p95\u003c300ms"
	enc.SetIndent("", "  ")
	return enc.Encode(s.jsonDoc(vs))
}

// SaveJSON writes the JSON summary (see [Summary.WriteJSON]) to a file.
func (s *Summary) SaveJSON(path string, vs Verdicts) error {
	return save.File(path, func(w io.Writer) error { return s.WriteJSON(w, vs) })
}

type (
	jsonSegment struct {
		Segment     string  `json:"segment"`
		StartLateMS float64 `json:"start_late_ms"`
		EndS        float64 `json:"end_s"`
	}
	jsonSummary struct {
		Format       string          `json:"format"`
		Version      int             `json:"version"`
		Plan         string          `json:"plan"`
		Started      string          `json:"started"`
		DurationS    float64         `json:"duration_s"`
		MeasuredS    float64         `json:"measured_s"`
		RateWindowS  float64         `json:"rate_window_s"`
		Segments     []jsonSegment   `json:"segments,omitempty"`
		Missing      []string        `json:"missing_segments,omitempty"`
		WarmupS      float64         `json:"warmup_s"`
		IntervalS    float64         `json:"interval_s"`
		Status       string          `json:"status"`
		Passed       *bool           `json:"passed,omitempty"`
		Thresholds   []jsonThreshold `json:"thresholds,omitempty"`
		Scenarios    []jsonScenario  `json:"scenarios"`
		Generator    *jsonGenerator  `json:"generator"`
		Gauges       []jsonGauge     `json:"gauges"`
		Events       []jsonEvent     `json:"events"`
		ErrorSamples []jsonError     `json:"error_samples"`
		Warnings     []string        `json:"warnings"`
	}
	jsonThreshold struct {
		Threshold string   `json:"threshold"`
		Unit      string   `json:"unit"`
		Actual    *float64 `json:"actual"`
		Limit     float64  `json:"limit"`
		Passed    bool     `json:"passed"`
		NoData    bool     `json:"no_data"`
		Error     string   `json:"error,omitempty"`
	}
	jsonScenario struct {
		Name       string         `json:"name"`
		Executor   string         `json:"executor"`
		Open       bool           `json:"open"`
		Iterations jsonIterations `json:"iterations"`
		Rows       []jsonRow      `json:"rows"`
		Timeline   []jsonInterval `json:"timeline"`
		// GeneratorDelay is null when the run did not record the generator.
		GeneratorDelay *jsonDelay `json:"generator_delay"`
	}
	jsonDelay struct {
		P50Ms      float64 `json:"p50_ms"`
		P95Ms      float64 `json:"p95_ms"`
		P99Ms      float64 `json:"p99_ms"`
		LagP99Ms   float64 `json:"schedule_lag_p99_ms"`
		SchedP99Ms float64 `json:"go_sched_p99_ms"`
	}
	jsonGenerator struct {
		Processes         int          `json:"processes"`
		Procs             int          `json:"gomaxprocs"`
		CPUMean           *float64     `json:"cpu_mean_share"`
		CPUMax            *float64     `json:"cpu_max_share"`
		GoSched           *jsonLatency `json:"go_sched"`
		GCPause           *jsonLatency `json:"gc_pause"`
		ThinkLag          *jsonLatency `json:"think_lag,omitempty"`
		HeldBack          *float64     `json:"held_back_share,omitempty"`
		Goroutines        float64      `json:"goroutines_max"`
		HeapBytes         float64      `json:"heap_bytes_max"`
		ClockResolutionMs float64      `json:"clock_resolution_ms"`
		TimerLatenessMs   float64      `json:"timer_lateness_ms"`
		Warnings          []string     `json:"warnings"`
	}
	jsonIterations struct {
		Started     int64 `json:"started"`
		Completed   int64 `json:"completed"`
		Failed      int64 `json:"failed"`
		Interrupted int64 `json:"interrupted"`
		Dropped     int64 `json:"dropped"`
	}
	jsonRow struct {
		Name          string           `json:"name"`
		Kind          string           `json:"kind"`
		Count         int64            `json:"count"`
		RatePerS      float64          `json:"rate_per_s"`
		Errors        int64            `json:"errors"`
		ErrorRate     float64          `json:"error_rate"`
		ErrorsByClass map[string]int64 `json:"errors_by_class"`
		Status        map[string]int64 `json:"status"`
		Latency       *jsonLatency     `json:"latency"`
		FailedLatency *jsonLatency     `json:"failed_latency"`
		BytesSent     int64            `json:"bytes_sent"`
		BytesReceived int64            `json:"bytes_received"`
		Phases        []jsonPhase      `json:"phases,omitempty"`
	}
	jsonLatency struct {
		Count  int64   `json:"count"`
		MinMs  float64 `json:"min_ms"`
		MeanMs float64 `json:"mean_ms"`
		P50Ms  float64 `json:"p50_ms"`
		P90Ms  float64 `json:"p90_ms"`
		P95Ms  float64 `json:"p95_ms"`
		P99Ms  float64 `json:"p99_ms"`
		P999Ms float64 `json:"p99_9_ms"`
		MaxMs  float64 `json:"max_ms"`
	}
	jsonPhase struct {
		Phase   string       `json:"phase"`
		Latency *jsonLatency `json:"latency"`
	}
	jsonInterval struct {
		StartS        float64          `json:"start_s"`
		EndS          float64          `json:"end_s"`
		Warmup        bool             `json:"warmup"`
		Requests      int64            `json:"requests"`
		Errors        int64            `json:"errors"`
		ErrorsByClass map[string]int64 `json:"errors_by_class"`
		Successes     int64            `json:"successes"`
		P50Ms         *float64         `json:"p50_ms"`
		P95Ms         *float64         `json:"p95_ms"`
		VUs           int64            `json:"vus"`
		Dropped       int64            `json:"dropped"`
	}
	jsonGauge struct {
		Name    string   `json:"name"`
		Min     *float64 `json:"min"`
		Mean    *float64 `json:"mean"`
		Max     *float64 `json:"max"`
		Samples int64    `json:"samples"`
	}
	jsonEvent struct {
		Name    string  `json:"name"`
		AtS     float64 `json:"at_s"`
		TookMs  float64 `json:"took_ms"`
		Error   string  `json:"error,omitempty"`
		Skipped bool    `json:"skipped"`
	}
	jsonError struct {
		Scenario string `json:"scenario"`
		Class    string `json:"class"`
		Message  string `json:"message"`
	}
)

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// finite returns &v, or nil (JSON null) for NaN and infinities, which JSON
// cannot hold.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (s *Summary) jsonDoc(vs Verdicts) jsonSummary {
	doc := jsonSummary{
		Format: "stampede-summary", Version: SummaryVersion, Plan: s.Plan.Name,
		Started:   s.Start.UTC().Format(time.RFC3339Nano),
		DurationS: s.End.Sub(s.Start).Seconds(), MeasuredS: s.Window.Seconds(), RateWindowS: s.RateWindow.Seconds(),
		WarmupS: max(s.WarmupEnd.Sub(s.Start), 0).Seconds(), IntervalS: s.res.Metrics.Interval.Seconds(),
		Status:       s.Status(),
		Scenarios:    []jsonScenario{},
		Gauges:       []jsonGauge{},
		Events:       []jsonEvent{},
		ErrorSamples: []jsonError{},
		Warnings:     append([]string{}, s.Warnings...),
	}
	for _, sg := range s.Segments {
		doc.Segments = append(doc.Segments, jsonSegment{Segment: sg.Segment.String(),
			StartLateMS: float64(sg.StartLate) / float64(time.Millisecond), EndS: sg.End.Sub(s.Start).Seconds()})
	}
	for _, m := range s.Missing {
		doc.Missing = append(doc.Missing, m.String())
	}
	if len(vs) > 0 {
		passed := vs.Passed()
		doc.Passed = &passed
	}
	for _, v := range vs {
		jt := jsonThreshold{Threshold: v.Threshold.String(), Passed: v.Pass, NoData: v.NoData,
			Unit: unitName(v.Threshold.Metric.Unit()), Limit: jsonUnit(v.Threshold.Metric.Unit(), v.Threshold.Value)}
		if v.Err != nil {
			jt.Error = v.Err.Error()
		} else if !v.NoData {
			jt.Actual = finite(jsonUnit(v.Threshold.Metric.Unit(), v.Actual))
		}
		doc.Thresholds = append(doc.Thresholds, jt)
	}
	for _, sc := range s.Scenarios {
		js := jsonScenario{Name: sc.Name, Executor: sc.Executor, Open: sc.Open,
			Iterations: jsonIterations{sc.Started, sc.Completed, sc.Failed, sc.Interrupted, sc.Dropped},
			Rows:       []jsonRow{}, Timeline: []jsonInterval{}}
		for _, r := range sc.rows() {
			row := jsonFigures(r.f, r.key.Kind)
			row.Name, row.Kind = r.name, string(r.key.Kind)
			if isKindRow(r.key) {
				row.Name = r.key.Step
			}
			if r.key.Kind == metrics.KindStep {
				for _, st := range sc.Steps {
					if st.Name == r.key.Step {
						for _, p := range st.Phases {
							row.Phases = append(row.Phases, jsonPhase{p.Phase, jsonLatencyOf(p.Figures.Latency)})
						}
					}
				}
			}
			js.Rows = append(js.Rows, row)
		}
		for _, iv := range sc.Timeline {
			ji := jsonInterval{StartS: iv.Start.Seconds(), EndS: iv.End.Seconds(), Warmup: iv.Warmup,
				Requests: iv.Requests, Errors: iv.Errors, ErrorsByClass: classMap(iv.ErrorsByClass),
				Successes: iv.Successes, VUs: iv.VUs, Dropped: iv.Dropped}
			if iv.Successes > 0 {
				ji.P50Ms, ji.P95Ms = finite(ms(iv.P50)), finite(ms(iv.P95))
			}
			js.Timeline = append(js.Timeline, ji)
		}
		if d := sc.Generator; d != nil {
			js.GeneratorDelay = &jsonDelay{P50Ms: ms(d.P50), P95Ms: ms(d.P95), P99Ms: ms(d.P99), LagP99Ms: ms(d.Lag), SchedP99Ms: ms(d.Sched)}
		}
		doc.Scenarios = append(doc.Scenarios, js)
	}
	if g := s.Generator; g != nil {
		jg := &jsonGenerator{Processes: g.Processes, Procs: g.Procs, GoSched: jsonLatencyOf(g.Sched), GCPause: jsonLatencyOf(g.GCPause),
			Goroutines: g.Goroutines, HeapBytes: g.Heap, ClockResolutionMs: ms(g.ClockResolution), TimerLatenessMs: ms(g.TimerLateness),
			Warnings: append([]string{}, s.generatorWarnings...)}
		if g.HasCPU {
			jg.CPUMean, jg.CPUMax = finite(g.CPUMean), finite(g.CPUMax)
		}
		if g.ThinkLag.Count > 0 {
			jg.ThinkLag, jg.HeldBack = jsonLatencyOf(g.ThinkLag), finite(g.HeldBack)
		}
		doc.Generator = jg
	}
	for _, g := range s.Gauges {
		jg := jsonGauge{Name: g.Name, Samples: g.Samples}
		if g.Samples > 0 {
			jg.Min, jg.Mean, jg.Max = finite(g.Min), finite(g.Mean), finite(g.Max)
		}
		doc.Gauges = append(doc.Gauges, jg)
	}
	for _, e := range s.Events {
		doc.Events = append(doc.Events, jsonEvent{Name: e.Name, AtS: e.Offset.Seconds(), TookMs: ms(e.Took), Error: e.Error, Skipped: e.Skipped})
	}
	for _, e := range s.Errors {
		doc.ErrorSamples = append(doc.ErrorSamples, jsonError{e.Scenario, e.Outcome, e.Message})
	}
	return doc
}

// jsonFigures returns the row of figures f of kind k, its status codes
// named as k names them.
func jsonFigures(f Figures, k metrics.Kind) jsonRow {
	r := jsonRow{Count: f.Count, RatePerS: f.Rate, Errors: f.Errors, ErrorRate: f.ErrorRate,
		ErrorsByClass: classMap(f.ErrorsByClass), Status: map[string]int64{},
		Latency: jsonLatencyOf(f.Latency), FailedLatency: jsonLatencyOf(f.Failed),
		BytesSent: f.BytesSent, BytesReceived: f.BytesReceived}
	for _, c := range f.Status {
		r.Status[metrics.CodeName(k, c.Code)] = c.Count
	}
	return r
}

func jsonLatencyOf(l LatencyFigures) *jsonLatency {
	if l.Count == 0 {
		return nil
	}
	return &jsonLatency{Count: l.Count, MinMs: ms(l.Min), MeanMs: ms(l.Mean), P50Ms: ms(l.P50), P90Ms: ms(l.P90),
		P95Ms: ms(l.P95), P99Ms: ms(l.P99), P999Ms: ms(l.P999), MaxMs: ms(l.Max)}
}

func classMap(cs []ClassCount) map[string]int64 {
	m := make(map[string]int64, len(cs))
	for _, c := range cs {
		m[c.Class] = c.Count
	}
	return m
}

// unitName names a unit in the JSON summary.
func unitName(u Unit) string {
	switch u {
	case UnitDuration:
		return "ms"
	case UnitRate:
		return "per_s"
	case UnitFraction:
		return "fraction"
	}
	return "count"
}

// jsonUnit converts a metric's value to the unit unitName names.
func jsonUnit(u Unit, v float64) float64 {
	if u == UnitDuration {
		return v / 1e6
	}
	return v
}
