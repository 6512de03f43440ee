package gotest

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/scenario"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// signupPlan is a small sign-up journey against the demo service.
func signupPlan(t testing.TB, vus int, d time.Duration) *loadgen.Plan {
	svc, err := demo.Start(demo.Options{Rows: 5000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	j := scenario.Must("signup", scenario.Parts{
		scenario.GET("list", svc.URL+"/meetings", scenario.ExtractJSON("items.0.id", "meeting")),
		scenario.GET("detail", svc.URL+"/meetings/{{meeting}}"),
		scenario.POST("apply", svc.URL+"/meetings/{{meeting}}/apply", `{"name":"vu-{{vu.id}}"}`, scenario.Expect(201)),
	})
	return &loadgen.Plan{Scenarios: []loadgen.Scenario{j.Scenario(loadgen.ConstantVUs{VUs: vus, Duration: d})}}
}

// TestSignupMeetsSLO fails, with a table, if the sign-up is too slow or
// fails too often.
func TestSignupMeetsSLO(t *testing.T) {
	res, err := loadgen.Run(t.Context(), signupPlan(t, 10, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	thresholds := append(report.MustParseThresholds("error_rate<1%", "list: p99<1s"),
		report.P95("apply").Below(500*time.Millisecond))
	report.Require(t, res, thresholds...)
}

// BenchmarkSignup reports p50, p95, p99 and iterations per second.
func BenchmarkSignup(b *testing.B) {
	report.Benchmark(b, signupPlan(b, 10, time.Second))
}
