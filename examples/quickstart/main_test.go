package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestQuickstart(t *testing.T) {
	html := filepath.Join(t.TempDir(), "report.html")
	var out, errOut bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-duration", "3s", "-vus", "4", "-html", html}, &out, &errOut), errOut.String())
	s := out.String()
	for _, want := range []string{"scenario signup", "list", "detail", "apply", "detail-again", "(iteration)", "thresholds", "apply: p95<500ms", "HTML report: "} {
		assert.Contains(t, s, want)
	}
	assert.Contains(t, errOut.String(), "done", "the progress line ends")
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	assert.Contains(t, string(page), `data-chart="latency-0"`)
	assert.Error(t, run(t.Context(), []string{"-vus", "0"}, &out, &errOut))
}
