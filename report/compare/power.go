package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/aclements/go-moremath/stats"
)

// PowerTarget is the chance of finding a change that [Delta.PowerFor] sizes
// runs for: 80 %, as is usual.
const PowerTarget = 0.8

// MaxPowerRuns is the most runs a side [Delta.PowerFor] considers; a change
// that needs more is reported as needing more than this.
const MaxPowerRuns = 50

// powerSims is how many comparisons each power estimate simulates: its
// standard error at 80 % is 1.3 points.
const powerSims = 1000

// Power says what a comparison of one metric could find.
type Power struct {
	// Baseline and Candidate are the runs a side the figures are for.
	Baseline, Candidate int
	// Level is the p-value a test must beat: Alpha over the family's
	// size, what Holm's method asks of the family's smallest p-value
	// (Benjamini-Hochberg's too, for one change among unchanged metrics),
	// or Alpha per metric.
	Level float64
	// Detectable is the smallest worsening (relative for latencies,
	// rates and counts, a difference for shares; negative for a rate,
	// which worsens by falling) that the comparison had a [PowerTarget]
	// chance to find significant against no change with these runs: 0
	// when the runs did not vary at all, +Inf when no change could be
	// significant with these runs at this level.
	Detectable float64
	// Target is the worsening asked about (a budget's, signed as
	// Detectable); RunsNeeded the runs a side with which it is found
	// significant with a PowerTarget chance, or MaxPowerRuns+1 when more
	// than MaxPowerRuns would be needed. Significant against no change:
	// a regression exactly the size of a budget breaks it only when its
	// interval clears the budget, which takes more runs still.
	Target     float64
	RunsNeeded int
}

// PowerFor estimates what a test of d could find at the level its family
// asks for under k: the smallest change it had a [PowerTarget] chance to
// find with its runs, and the runs a side that find a change of target.
//
// It simulates the comparison: each side's runs are drawn from the
// spread the two sides showed around their medians (the per-run values
// pooled, on logarithms for a relative metric; a smoothed bootstrap,
// scaled so that its spread is that of the runs), the candidate's shifted
// by the change, and the exact Mann-Whitney U test decides, 1 000 times a
// change, from a fixed seed (the figures are the same on every call). No
// normal approximation is made; the result is as good as the runs are a
// picture of the spread. The simulated shift is a rise; a rate's fall of
// the same size on the logarithms is taken to be as easy to find, which
// holds for a spread as symmetric as the runs'. ok is false when d has
// too few runs for a test.
func (d Delta) PowerFor(target float64, k Correction) (p Power, ok bool) {
	return d.powerFor(target, k, Alpha)
}

// powerFor is PowerFor at a family level of alpha.
func (d Delta) powerFor(target float64, k Correction, alpha float64) (p Power, ok bool) {
	nb, nc := len(d.BaselineRuns), len(d.CandidateRuns)
	if nb < MinRuns || nc < MinRuns {
		return Power{}, false
	}
	// A worsening is a rise, or a fall for a rate: the sizes below are
	// magnitudes, signed as changes at the end.
	down := d.Metric.HigherIsBetter()
	target = math.Abs(target)
	p = Power{Baseline: nb, Candidate: nc, Level: alpha, Target: target}
	if down {
		p.Target = -target
	}
	if k != PerMetric {
		p.Level = alpha / float64(max(d.Family, 1))
	}
	pool, logs := residuals(d)
	w := newWorld(pool)
	shift := func(c float64) float64 { // a worsening of c, in the pool's unit
		switch {
		case !logs:
			return c
		case down && c >= 1:
			return math.Inf(1) // a rate cannot fall by all of itself and more
		case down:
			return -math.Log1p(-c)
		}
		return math.Log1p(c)
	}
	change := func(s float64) float64 { // the change a worsening shift s is
		switch {
		case !logs && down:
			return -s
		case !logs:
			return s
		case down:
			return math.Expm1(-s)
		}
		return math.Expm1(s)
	}
	if w.sd == 0 {
		// The runs did not vary: any change is found, if the runs can be
		// significant at all.
		p.Detectable, p.RunsNeeded = 0, MinRuns
		for minP(p.RunsNeeded, p.RunsNeeded) >= p.Level {
			p.RunsNeeded++
		}
		if minP(nb, nc) >= p.Level {
			p.Detectable = math.Inf(1)
		}
		return p, true
	}
	p.Detectable = math.Inf(1)
	if crit, ok := uCritical(nb, nc, p.Level); ok {
		// Bisect the shift at which the chance of significance reaches
		// the target.
		lo, hi := 0.0, 40*w.sd
		if w.powerAt(nb, nc, crit, hi) >= PowerTarget {
			for range 24 {
				mid := (lo + hi) / 2
				if w.powerAt(nb, nc, crit, mid) >= PowerTarget {
					hi = mid
				} else {
					lo = mid
				}
			}
			p.Detectable = change(hi)
		}
	}
	p.RunsNeeded = MaxPowerRuns + 1
	s := shift(target)
	if s > 0 && !math.IsInf(s, 1) && w.power(MaxPowerRuns, MaxPowerRuns, s, p.Level) >= PowerTarget {
		lo, hi := MinRuns-1, MaxPowerRuns // power(hi) reaches the target
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if w.power(mid, mid, s, p.Level) >= PowerTarget {
				hi = mid
			} else {
				lo = mid
			}
		}
		p.RunsNeeded = hi
	}
	return p, true
}

// residuals pools each side's runs around its median: on logarithms for
// a relative metric whose runs are all positive (a change is then a
// shift), as they are otherwise. logs says which.
func residuals(d Delta) (pool []float64, logs bool) {
	all := slices.Concat(d.BaselineRuns, d.CandidateRuns)
	logs = d.Relative() && !slices.ContainsFunc(all, func(v float64) bool { return v <= 0 })
	for _, side := range [][]float64{d.BaselineRuns, d.CandidateRuns} {
		xs := slices.Clone(side)
		if logs {
			for i, v := range xs {
				xs[i] = math.Log(v)
			}
		}
		med := stats.Sample{Xs: xs}.Quantile(0.5)
		for _, x := range xs {
			pool = append(pool, x-med)
		}
	}
	return pool, logs
}

// world draws runs like those of a residual pool: a smoothed bootstrap
// (a pooled value plus Gaussian noise of a bandwidth by Silverman's
// rule), scaled to the standard deviation the runs had about their
// sides' medians.
type world struct {
	pool      []float64
	mean, sd  float64
	bandwidth float64
	scale     float64
}

func newWorld(pool []float64) *world {
	s := stats.Sample{Xs: pool}
	n := float64(len(pool))
	w := &world{pool: pool, mean: s.Mean(), sd: s.StdDev()}
	if w.sd > 0 && n > 2 {
		// The pool is centred on two medians, one a side: its spread
		// about them understates the runs' own by two degrees of
		// freedom, not one.
		target := w.sd * math.Sqrt((n-1)/(n-2))
		w.bandwidth = 1.06 * w.sd * math.Pow(n, -0.2)
		popVar := w.sd * w.sd * (n - 1) / n
		w.scale = target / math.Sqrt(popVar+w.bandwidth*w.bandwidth)
	}
	return w
}

func (w *world) draw(rng *rand.Rand) float64 {
	x := w.pool[rng.IntN(len(w.pool))] + w.bandwidth*rng.NormFloat64()
	return w.mean + (x-w.mean)*w.scale
}

// power returns the share of simulated comparisons of nb and nc runs, the
// candidate's shifted by shift, that the exact two-sided Mann-Whitney U
// test finds significant at level.
func (w *world) power(nb, nc int, shift, level float64) float64 {
	crit, ok := uCritical(nb, nc, level)
	if !ok {
		return 0
	}
	return w.powerAt(nb, nc, crit, shift)
}

// powerAt is power with the critical U of the level already found.
func (w *world) powerAt(nb, nc, crit int, shift float64) float64 {
	rng := rand.New(rand.NewPCG(0x5eed, uint64(nb)<<32|uint64(nc)))
	base, cand := make([]float64, nb), make([]float64, nc)
	hits := 0
	for range powerSims {
		for i := range base {
			base[i] = w.draw(rng)
		}
		for i := range cand {
			cand[i] = w.draw(rng) + shift
		}
		// U: the pairs in which the baseline's run is the larger.
		u := 0
		for _, b := range base {
			for _, c := range cand {
				if b > c {
					u++
				}
			}
		}
		if u <= crit || u >= nb*nc-crit {
			hits++
		}
	}
	return float64(hits) / powerSims
}

// uCritical returns the largest u with P(U <= u) <= level/2 under the
// exact null distribution of U for nb and nc runs without ties: a test
// is significant at level when U <= u or U >= nb·nc − u. ok is false when
// no U is that extreme.
func uCritical(nb, nc int, level float64) (int, bool) {
	cdf := uCDF(nb, nc)
	u := -1
	for u+1 < len(cdf) && cdf[u+1] <= level/2 {
		u++
	}
	return u, u >= 0
}

var uCDFs sync.Map // [2]int → []float64

// uCDF returns P(U <= u) for u = 0 … m·n under the null hypothesis, for
// m and n runs without ties. The counts of U are the coefficients of the
// Gaussian binomial coefficient [m+n choose m] in q, the product over
// i = 1 … m of (1 − q^(n+i)) / (1 − q^i), built one factor at a time.
func uCDF(m, n int) []float64 {
	if c, ok := uCDFs.Load([2]int{m, n}); ok {
		return c.([]float64)
	}
	f := make([]float64, m*n+m+1) // room for each product before its division
	f[0] = 1
	deg := 0
	for i := 1; i <= m; i++ {
		// × (1 − q^(n+i)), from the top down.
		top := deg + n + i
		for k := top; k >= n+i; k-- {
			f[k] -= f[k-n-i]
		}
		// ÷ (1 − q^i): a series division, exact as the quotient is a
		// polynomial, of degree deg + n.
		for k := i; k <= top; k++ {
			f[k] += f[k-i]
		}
		deg += n
		clear(f[deg+1 : top+1])
	}
	f = f[:m*n+1]
	total := 0.0
	for _, c := range f {
		total += c
	}
	cdf := make([]float64, len(f))
	run := 0.0
	for k, c := range f {
		run += c
		cdf[k] = run / total
	}
	uCDFs.Store([2]int{m, n}, cdf)
	return cdf
}
