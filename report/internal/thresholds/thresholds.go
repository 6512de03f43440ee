// Package thresholds renders threshold verdicts on the HTML pages of the
// packages beside report (compare, capacity), as report's own page shows
// them.
package thresholds

import (
	"github.com/stampede-go/stampede/internal/page"
	"github.com/stampede-go/stampede/internal/table"
	"github.com/stampede-go/stampede/report"
)

// Blocks returns the page's thresholds section, or nothing without
// verdicts.
func Blocks(vs report.Verdicts) []page.Block {
	if len(vs) == 0 {
		return nil
	}
	return []page.Block{{ID: "thresholds", Heading: "Thresholds", Table: Table(vs)}}
}

// Table is the verdicts' table: threshold, measured value, pass or FAIL.
func Table(vs report.Verdicts) *table.Table {
	return table.Verdicts(len(vs), func(i int) (string, string, bool, error) {
		return vs[i].Threshold.String(), vs[i].ActualString(), vs[i].Pass, vs[i].Err
	})
}
