package report

import (
	"fmt"
	"time"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// The rule of the generator warning (see [GeneratorSummary]).
const (
	// GeneratorShare is the share of a scenario's p99 from which the
	// delay the generator may have added to it is material: a quarter of
	// the figure may be the generator's. Below it the delay is still
	// printed beside the figures.
	GeneratorShare = 0.25
	// GeneratorFloor is the delay below which it never is: a generator
	// that may have added 0.3 ms to a p99 of 2 ms measured that p99 well
	// enough. The delay errs high (see [GeneratorSummary]): a true
	// scheduler latency from about 0.92 ms may read above it.
	GeneratorFloor = time.Millisecond
	// GeneratorCPU is the share of its processors above which a generator
	// ran out of CPU in an interval.
	GeneratorCPU = 0.95
	// GeneratorHeldBack is the share of the iterations' time the VUs may
	// spend waking late from their pauses (think times, pacing) before
	// the generator is said to have held them back: a closed model's VUs
	// then offered that much less load than the model.
	GeneratorHeldBack = 0.05
)

// GeneratorSummary is the health of the processes that generated the load
// over the measured window, read from what the engine records (see
// [loadgen.Generator]).
//
// What the generator may have added to a latency at quantile q is bounded
// by its delay at q: the schedule lag of an open model (how late an
// arrival started: it counts in the latency, which runs from the intended
// start) plus the Go scheduler's latency (how long a goroutine woke by a
// response waited, runnable, for a processor), each at q. The lag is
// recorded exactly; the scheduler's latency comes from the Go runtime's
// own histogram, which times about one wake-up in eight and whose buckets
// (up to a quarter wide) are recorded at their upper bounds, so it errs
// high, never low. Their sum at one quantile, never more than the
// latency at that quantile itself, is an estimate of the most the
// generator added there, not a measure of one operation. A closed model
// has no schedule lag: its generator's delay is the scheduler's.
//
// VUs that pause (a journey's think times and pacing) wake late when the
// generator is busy: the time beyond each pause is recorded
// ([metrics.KindThinkLag]), and HeldBack is its share of the iterations'
// time. A closed model's VUs offer that much less load than the model:
// latencies still measure well, but the load is not what was asked for.
//
// The summary warns that the generator made the numbers when, for a
// scenario, the delay at p99 is above [GeneratorFloor] and at least
// [GeneratorShare] of the iterations' p99 or, failing that, the Go
// scheduler's latency at p99 is so of the smallest p99 of its steps (a
// step's latency holds the scheduler's delay but no schedule lag, and the
// p99 of iterations that think hides it), when the generator used more
// than [GeneratorCPU] of its processors in a measured interval, or when
// its VUs were held back by at least [GeneratorHeldBack]. Thresholds
// hold the parts to a limit ("[go_sched]: p99<1ms", "[schedule_lag]:
// p99<1ms"), and [Summary.GeneratorWarnings] lists the warnings for a test
// or a command line that refuses such numbers.
type GeneratorSummary struct {
	// Processes is how many processes generated the load (one per
	// segment); Procs their processors (GOMAXPROCS), summed.
	Processes, Procs int
	// CPUMean and CPUMax are the share of its processors a process used:
	// the mean over the measured intervals and the busiest one's. HasCPU
	// is false where the platform does not say.
	CPUMean, CPUMax float64
	HasCPU          bool
	// Sched is the Go scheduler's latency; GCPause the garbage collector's
	// stop-the-world pauses.
	Sched, GCPause LatencyFigures
	// ThinkLag is how late VUs woke from their pauses (Count 0 when no
	// journey paused); HeldBack is the time so spent, as a share of the
	// plan's iterations' time.
	ThinkLag LatencyFigures
	HeldBack float64
	// Goroutines and Heap are the largest number of goroutines and heap
	// bytes sampled.
	Goroutines, Heap float64
	// ClockResolution and TimerLateness are the worst of the processes'
	// as measured when the run started.
	ClockResolution, TimerLateness time.Duration
}

// GeneratorDelay is what the generator may have added to a scenario's
// iteration latency at the median, p95 and p99 (see [GeneratorSummary]):
// the schedule lag (open models) plus the Go scheduler's latency.
type GeneratorDelay struct {
	P50, P95, P99 time.Duration
	// Lag and Sched are the two parts at p99.
	Lag, Sched time.Duration
}

// generatorKey returns the series of the generator's health of kind k.
func generatorKey(k metrics.Kind) metrics.Key {
	return metrics.Key{Scenario: metrics.Generator, Kind: k}
}

// summarizeGenerator fills s.Generator, each scenario's delay and the
// warnings; a result that did not record the generator leaves them empty.
func (s *Summary) summarizeGenerator(res *loadgen.Result) {
	if len(res.Generators) == 0 {
		return
	}
	snap := res.Metrics
	g := &GeneratorSummary{Processes: len(res.Generators)}
	for _, p := range res.Generators {
		g.Procs += p.Procs
		g.ClockResolution = max(g.ClockResolution, p.ClockResolution)
		g.TimerLateness = max(g.TimerLateness, p.TimerLateness)
	}
	if m := snap.SeriesOf(generatorKey(metrics.KindGoSched)); m != nil {
		g.Sched = latencyFigures(&m.Total, Successes)
	}
	if m := snap.SeriesOf(generatorKey(metrics.KindGCPause)); m != nil {
		g.GCPause = latencyFigures(&m.Total, Successes)
	}
	if m := snap.SeriesOf(generatorKey(metrics.KindThinkLag)); m != nil && m.Total.Latency.Count() > 0 {
		g.ThinkLag = latencyFigures(&m.Total, Successes)
		var busy time.Duration // the iterations' time
		for _, sc := range res.Plan.Scenarios {
			if it := snap.SeriesOf(metrics.Key{Scenario: sc.Name, Kind: metrics.KindIteration}); it != nil {
				busy += it.Total.Latency.Sum + it.Total.Failed.Sum
			}
		}
		if busy > 0 {
			g.HeldBack = min(float64(m.Total.Latency.Sum)/float64(busy), 1)
		}
	}
	var busiest time.Time
	if cpu := snap.Gauge(loadgen.GaugeCPU); cpu != nil {
		var sum float64
		var n int64
		for _, p := range cpu.Points {
			if p.N == 0 || p.Start.Before(s.WarmupEnd) {
				continue
			}
			sum += p.Mean()
			n++
			if p.Max > g.CPUMax {
				g.CPUMax, busiest = p.Max, p.Start
			}
		}
		if n > 0 {
			g.HasCPU, g.CPUMean = true, sum/float64(n)
		}
	}
	for name, v := range map[string]*float64{loadgen.GaugeGoroutines: &g.Goroutines, loadgen.GaugeHeap: &g.Heap} {
		if gs := snap.Gauge(name); gs != nil {
			for _, p := range gs.Points {
				if p.N > 0 {
					*v = max(*v, p.Max)
				}
			}
		}
	}
	s.Generator = g
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		var lag LatencyFigures // none in a closed model
		if sc.Lag != nil {
			lag = sc.Lag.Latency
		}
		it := sc.Iteration.Latency
		at := func(lag, sched, figure time.Duration) time.Duration {
			if it.Count > 0 {
				return min(lag+sched, figure) // never more than the figure itself
			}
			return lag + sched
		}
		d := &GeneratorDelay{P50: at(lag.P50, g.Sched.P50, it.P50), P95: at(lag.P95, g.Sched.P95, it.P95), P99: at(lag.P99, g.Sched.P99, it.P99),
			Lag: lag.P99, Sched: g.Sched.P99}
		sc.Generator = d
		p99 := sc.Iteration.Latency.P99
		if sc.Iteration.Latency.Count > 0 && d.P99 > GeneratorFloor && float64(d.P99) >= GeneratorShare*float64(p99) {
			s.generatorWarnings = append(s.generatorWarnings, fmt.Sprintf(
				"the generator may have made the numbers of scenario %q: of its iterations' p99 (%s), up to %s may be the generator's own delay (%s); use more generator processes or a lighter client, or lower the load",
				sc.Name, format.Duration(p99), format.Duration(d.P99), sc.delayParts()))
			continue
		}
		// A step's latency runs from the step's start: the scheduler's
		// delay is in it, the schedule lag is not. Iterations that think
		// are long, and their p99 hides what the scheduler did to the
		// requests: the step with the smallest p99 is the one it
		// distorts most.
		var worst *StepSummary
		for i := range sc.Steps {
			st := &sc.Steps[i]
			if st.Figures.Latency.Count > 0 && (worst == nil || st.Figures.Latency.P99 < worst.Figures.Latency.P99) {
				worst = st
			}
		}
		if worst != nil {
			p99 := worst.Figures.Latency.P99
			if sd := min(g.Sched.P99, p99); sd > GeneratorFloor && float64(sd) >= GeneratorShare*float64(p99) {
				s.generatorWarnings = append(s.generatorWarnings, fmt.Sprintf(
					"the generator may have made the numbers of step %q of scenario %q: of its p99 (%s), up to %s may be the generator's own delay (Go scheduler p99 %s); use more generator processes or a lighter client, or lower the load",
					worst.Name, sc.Name, format.Duration(p99), format.Duration(sd), format.Duration(g.Sched.P99)))
			}
		}
	}
	if g.HeldBack >= GeneratorHeldBack {
		s.generatorWarnings = append(s.generatorWarnings, fmt.Sprintf(
			"the generator held its VUs back: they woke from their think times and pacing late (p99 %s), %s of their iterations' time, so a closed model offered about that much less load than it models (an open model's iterations took that much longer); use more generator processes or a lighter client, or fewer VUs",
			format.Duration(g.ThinkLag.P99), format.Percent(g.HeldBack)))
	}
	if g.HasCPU && g.CPUMax > GeneratorCPU {
		s.generatorWarnings = append(s.generatorWarnings, fmt.Sprintf(
			"the generator ran out of CPU: a process used %s of its processors in the interval from %.1fs (the target too, if it runs in the same process); its timing is not to be trusted there",
			format.Percent(g.CPUMax), busiest.Sub(s.Start).Seconds()))
	}
	s.Warnings = append(s.Warnings, s.generatorWarnings...)
}

// GeneratorWarnings returns the warnings that say the generator, not the
// target, may have made the numbers (see [GeneratorSummary] for the rule);
// they are among [Summary.Warnings] too. A test or a command line that
// refuses such numbers fails when there are any.
func (s *Summary) GeneratorWarnings() []string { return s.generatorWarnings }

// delayLine says beside a scenario's figures how much of them may be the
// generator's.
func (sc *ScenarioSummary) delayLine() string {
	d := sc.Generator
	if d == nil || sc.Iteration.Latency.Count == 0 {
		return ""
	}
	return fmt.Sprintf("generator: of the iterations' p99 %s, up to %s may be the generator's own delay (%s)",
		format.Duration(sc.Iteration.Latency.P99), format.Duration(d.P99), sc.delayParts())
}

// delayParts names the parts of the generator's delay at p99.
func (sc *ScenarioSummary) delayParts() string {
	parts := "Go scheduler p99 " + format.Duration(sc.Generator.Sched)
	if sc.Open {
		parts = "schedule lag p99 " + format.Duration(sc.Generator.Lag) + " + " + parts
	}
	return parts
}

// lines describe the generator's health for the text renderings.
func (g *GeneratorSummary) lines() []string {
	var out []string
	procs := fmt.Sprintf("%d process(es), %d processor(s)", g.Processes, g.Procs)
	if g.HasCPU {
		procs += fmt.Sprintf("; CPU used: mean %s, busiest interval %s", format.Percent(g.CPUMean), format.Percent(g.CPUMax))
	}
	out = append(out, procs)
	out = append(out, fmt.Sprintf("Go scheduler latency: p50 %s, p99 %s, max %s", format.Duration(g.Sched.P50), format.Duration(g.Sched.P99), format.Duration(g.Sched.Max)))
	if g.GCPause.Count > 0 {
		out = append(out, fmt.Sprintf("GC pauses: %d, p99 %s, max %s", g.GCPause.Count, format.Duration(g.GCPause.P99), format.Duration(g.GCPause.Max)))
	}
	if g.ThinkLag.Count > 0 {
		out = append(out, fmt.Sprintf("VUs woke from pauses late by p50 %s, p99 %s, max %s: %s of the iterations' time",
			format.Duration(g.ThinkLag.P50), format.Duration(g.ThinkLag.P99), format.Duration(g.ThinkLag.Max), format.Percent(g.HeldBack)))
	}
	out = append(out, fmt.Sprintf("goroutines up to %s; heap up to %s", format.Number(g.Goroutines), format.Bytes(int64(g.Heap))))
	out = append(out, fmt.Sprintf("at the start: clock resolution %s, a short timer %s late", format.Duration(g.ClockResolution), format.Duration(g.TimerLateness)))
	return out
}
