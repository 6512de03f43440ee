package stampedeprom_test

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	stampedeprom "github.com/stampede-go/stampede/prometheus"
)

const dashboardPath = "../examples/grafana/stampede-dashboard.json"

// dashboardQueries returns every PromQL expression in the dashboard: the
// panels' targets and the template variables' queries.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardPath)
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(b, &doc), "the dashboard is valid JSON")
	var out []string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(x, k)
			}
		case []any:
			for _, x := range v {
				walk(x, key)
			}
		case string:
			if key == "expr" || key == "definition" || (key == "query" && strings.Contains(v, "stampede_")) {
				out = append(out, v)
			}
		}
	}
	walk(doc, "")
	sort.Strings(out)
	return out
}

var metricName = regexp.MustCompile(`\bstampede_[a-zA-Z0-9_]+`)

// TestDashboardUsesExportedMetrics checks that every metric name the
// dashboard's queries use is one the exporter exports (for histograms, the
// native name or its classic _bucket, _sum and _count series).
func TestDashboardUsesExportedMetrics(t *testing.T) {
	e := stampedeprom.MustNew(stampedeprom.Options{})
	e.OnInterval(fixture(true))
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(e))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	exported := map[string]bool{}
	for _, mf := range mfs {
		exported[mf.GetName()] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				exported[mf.GetName()+s] = true
			}
		}
	}

	queries := dashboardQueries(t)
	require.NotEmpty(t, queries)
	used := map[string]bool{}
	for _, q := range queries {
		names := metricName.FindAllString(q, -1)
		assert.NotEmpty(t, names, "query uses no stampede metric: %s", q)
		for _, n := range names {
			used[n] = true
			assert.True(t, exported[n], "query uses %s, which the exporter does not export: %s", n, q)
		}
	}
	for _, n := range []string{
		"stampede_operations_total", "stampede_operation_duration_seconds", "stampede_operation_duration_seconds_bucket",
		"stampede_active_vus", "stampede_dropped_iterations_total",
	} {
		assert.True(t, used[n], "the dashboard shows %s", n)
	}
}
