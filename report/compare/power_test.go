package compare

import (
	"testing"

	"github.com/aclements/go-moremath/stats"
	"github.com/stretchr/testify/assert"

	"github.com/stampede-go/stampede/report"
)

// TestUDistribution: the exact null distribution of U that power
// simulations use is moremath's, built faster.
func TestUDistribution(t *testing.T) {
	for _, n := range [][2]int{{4, 4}, {5, 3}, {7, 7}, {12, 9}, {20, 20}} {
		d := stats.UDist{N1: n[0], N2: n[1]}
		c := uCDF(n[0], n[1])
		assert.Len(t, c, n[0]*n[1]+1)
		for k := range c {
			assert.InDelta(t, d.CDF(float64(k)), c[k], 1e-12, "%v U=%d", n, k)
		}
	}
	u, ok := uCritical(5, 5, 0.05)
	assert.True(t, ok)
	assert.Equal(t, 2, u, "5+5 at 5 %: U <= 2 or >= 23")
	_, ok = uCritical(4, 4, 0.05/3)
	assert.False(t, ok, "the smallest p of 4+4, 0.029, is above 0.017")
}

// TestPowerOfARate: a rate worsens by falling, so what its test could
// find is a fall, and a budget of 10 % asks about −10 %.
func TestPowerOfARate(t *testing.T) {
	d := Delta{Metric: report.Rate(), Family: 1,
		BaselineRuns: []float64{1000, 1010, 990, 1005, 995, 1002, 998}, CandidateRuns: []float64{1001, 1009, 991, 1004, 996, 1003, 997}}
	p, ok := d.PowerFor(0.1, Holm)
	assert.True(t, ok)
	assert.Less(t, p.Detectable, 0.0, "a fall")
	assert.Equal(t, -0.1, p.Target)
	assert.Contains(t, Delta{Metric: report.Rate(), Power: &p}.PowerString(), "runs detect −")
}
