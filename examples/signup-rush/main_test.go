package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSignupRushCandidateIsBetter(t *testing.T) {
	var out, errOut bytes.Buffer
	html := filepath.Join(t.TempDir(), "c.html")
	require.NoError(t, run(t.Context(), []string{"-duration", "1s", "-vus", "10", "-reps", "5", "-rows", "50000", "-html", html}, &out, &errOut), errOut.String())
	s := out.String()
	for _, step := range []string{"list", "detail", "apply", "detail-again"} {
		re := regexp.MustCompile(`signup/` + step + `\s+p95 .* better\n`)
		assert.Regexp(t, re, s, "the candidate's p95 of %s is better", step)
	}
	assert.Contains(t, s, "HTML comparison:")
}
