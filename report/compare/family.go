package compare

import (
	"fmt"
	"math"
	"slices"
)

// Correction is how the p-values of a family of tests are adjusted, so
// that testing many metrics at once does not find changes that are not
// there. A comparison of 8 metrics on 2 rows makes 16 tests: each alone
// at 5 % leaves a 1 − 0.95^16 = 56 % chance that some identical pair of
// services differs somewhere, if the tests were independent.
type Correction int

// The corrections.
const (
	// Holm is Holm's step-down method: the chance that any test of the
	// family reports a change that is not there (the family-wise error
	// rate) stays below Alpha, whatever the dependence between the
	// tests. It is uniformly more powerful than Bonferroni's.
	Holm Correction = iota
	// BenjaminiHochberg controls the false discovery rate instead: the
	// expected share of reported changes that are not real stays below
	// Alpha (for independent or positively dependent tests). More
	// powerful over large families; some false alarms are expected.
	BenjaminiHochberg
	// PerMetric adjusts nothing: each test alone is at Alpha, and a
	// family of them cries wolf more often the larger it is.
	PerMetric
)

// String returns "holm", "benjamini-hochberg" or "per-metric".
func (c Correction) String() string {
	switch c {
	case Holm:
		return "holm"
	case BenjaminiHochberg:
		return "benjamini-hochberg"
	case PerMetric:
		return "per-metric"
	}
	return fmt.Sprintf("correction(%d)", int(c))
}

// Validate reports a correction that is none of the constants.
func (c Correction) Validate() error {
	if c < Holm || c > PerMetric {
		return fmt.Errorf("compare: unknown correction %d (want Holm, BenjaminiHochberg or PerMetric)", int(c))
	}
	return nil
}

// Adjust returns the p-values ps adjusted for being tested together,
// in their order: Holm's step-down, Benjamini–Hochberg's step-up, or the
// p-values themselves. A NaN p-value (no test) is left out of the family
// and stays NaN.
func (c Correction) Adjust(ps []float64) []float64 {
	out := slices.Clone(ps)
	var idx []int
	for i, p := range ps {
		if !math.IsNaN(p) {
			idx = append(idx, i)
		}
	}
	m := len(idx)
	if c == PerMetric || m == 0 {
		return out
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	switch c {
	case Holm:
		// p(k) × (m − k + 1), made monotone from the smallest up.
		run := 0.0
		for k, i := range idx {
			run = max(run, min(1, float64(m-k)*ps[i]))
			out[i] = run
		}
	case BenjaminiHochberg:
		// p(k) × m / k, made monotone from the largest down.
		run := 1.0
		for k := m - 1; k >= 0; k-- {
			i := idx[k]
			run = min(run, float64(m)/float64(k+1)*ps[i])
			out[i] = run
		}
	}
	return out
}

// MarshalText returns the correction's name (see [Correction.String]).
func (c Correction) MarshalText() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads a correction's name: holm, benjamini-hochberg (or
// bh) or per-metric; a flag.FlagSet's TextVar takes one this way.
func (c *Correction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "holm":
		*c = Holm
	case "benjamini-hochberg", "bh":
		*c = BenjaminiHochberg
	case "per-metric":
		*c = PerMetric
	default:
		return fmt.Errorf("want holm, benjamini-hochberg (bh) or per-metric, got %q", b)
	}
	return nil
}
