package scenario

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Dist is a distribution of durations, drawn from the caller's random
// source so that a run replays from its seed.
type Dist interface {
	// Draw returns one duration, never negative.
	Draw(r *rand.Rand) time.Duration
	// Mean returns the distribution's mean (before clamping at 0).
	Mean() time.Duration
	validate() error
}

// MaxThink bounds the durations of a distribution: a think time of more
// than a day is a mistake (and drawing from Uniform(0, MaxInt64) would
// overflow).
const MaxThink = 24 * time.Hour

// Constant always returns d.
func Constant(d time.Duration) Dist { return constant{d} }

// Uniform returns durations uniformly distributed in [lo, hi].
func Uniform(lo, hi time.Duration) Dist { return uniform{lo, hi} }

// Normal returns normally distributed durations, clamped at 0.
func Normal(mean, stddev time.Duration) Dist { return normal{mean, stddev} }

// Exponential returns exponentially distributed durations (the gaps of a
// Poisson process), with the given mean.
func Exponential(mean time.Duration) Dist { return exponential{mean} }

type constant struct{ d time.Duration }
type uniform struct{ lo, hi time.Duration }
type normal struct{ mean, sd time.Duration }
type exponential struct{ mean time.Duration }

func (c constant) Draw(*rand.Rand) time.Duration { return c.d }
func (c constant) Mean() time.Duration           { return c.d }
func (c constant) validate() error {
	if c.d < 0 || c.d > MaxThink {
		return fmt.Errorf("Constant(%v): duration must be between 0 and %v", c.d, MaxThink)
	}
	return nil
}

func (u uniform) Draw(r *rand.Rand) time.Duration {
	if u.hi == u.lo {
		return u.lo
	}
	return u.lo + time.Duration(r.Int64N(int64(u.hi-u.lo)+1))
}
func (u uniform) Mean() time.Duration { return (u.lo + u.hi) / 2 }
func (u uniform) validate() error {
	if u.lo < 0 || u.hi < u.lo || u.hi > MaxThink {
		return fmt.Errorf("Uniform(%v, %v): need 0 <= lo <= hi <= %v", u.lo, u.hi, MaxThink)
	}
	return nil
}

func (n normal) Draw(r *rand.Rand) time.Duration {
	return max(0, n.mean+time.Duration(r.NormFloat64()*float64(n.sd)))
}
func (n normal) Mean() time.Duration { return n.mean }
func (n normal) validate() error {
	if n.mean < 0 || n.sd < 0 || n.mean > MaxThink || n.sd > MaxThink {
		return fmt.Errorf("Normal(%v, %v): mean and stddev must be between 0 and %v", n.mean, n.sd, MaxThink)
	}
	return nil
}

func (e exponential) Draw(r *rand.Rand) time.Duration {
	return time.Duration(r.ExpFloat64() * float64(e.mean))
}
func (e exponential) Mean() time.Duration { return e.mean }
func (e exponential) validate() error {
	if e.mean < 0 || e.mean > MaxThink {
		return fmt.Errorf("Exponential(%v): mean must be between 0 and %v", e.mean, MaxThink)
	}
	return nil
}
