package gotest

import (
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/stampede-go/stampede/internal/demo"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/report"
	"github.com/stampede-go/stampede/report/reporttest"
	"github.com/stampede-go/stampede/scenario"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSignupMeetsSLO is the README's example: it fails, with a table of
// every failed threshold, when the sign-up is too slow or fails too often.
// It runs for real, on loopback: the demo answers in about 1 ms, so the
// 500 ms SLO leaves a margin of several hundred times for a busy machine.
func TestSignupMeetsSLO(t *testing.T) {
	svc, _ := demo.Start(demo.Options{Rows: 5000}) // your service's URL instead
	defer svc.Close()
	signup := scenario.Must("signup", scenario.Parts{
		scenario.GET("list", svc.URL+"/meetings", scenario.ExtractJSON("items.0.id", "meeting")),
		scenario.GET("detail", svc.URL+"/meetings/{{meeting}}"),
		scenario.POST("apply", svc.URL+"/meetings/{{meeting}}/apply", `{"name":"vu-{{vu.id}}"}`, scenario.SendJSON(), scenario.Expect(201)),
	})
	res, err := loadgen.Run(t.Context(), &loadgen.Plan{Scenarios: []loadgen.Scenario{
		signup.Scenario(loadgen.ConstantVUs{VUs: 10, Duration: time.Second}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	reporttest.Require(t, res, report.MustParseThresholds("apply: p95<500ms", "error_rate<1%")...)
}

// TestThresholdsFromStrings does the same with thresholds parsed from
// strings, as they might come from a configuration file, on a fake clock
// with the demo service in memory: the whole test takes milliseconds, and
// every request takes exactly the 1 ms the demo's query costs, which the
// thresholds below pin down.
func TestThresholdsFromStrings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		res, err := loadgen.Run(t.Context(), signupPlan(t, 5, time.Second, true))
		if err != nil {
			t.Fatal(err)
		}
		reporttest.Require(t, res, report.MustParseThresholds(
			"error_rate<1%", "list: p99<=1ms", "apply: p95<=1ms", "apply: min>=1ms", "count>=1000")...)
	})
}

// BenchmarkSignup reports, per step and for the iterations, the mean
// latency as ns/op and p50, p95, p99, ops/s and errors.
func BenchmarkSignup(b *testing.B) {
	reporttest.Benchmark(b, signupPlan(b, 10, time.Second, false))
}

func signupPlan(t testing.TB, vus int, d time.Duration, inMemory bool) *loadgen.Plan {
	svc, err := demo.Start(demo.Options{Rows: 5000, InMemory: inMemory})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	j := scenario.Must("signup", scenario.Parts{
		scenario.GET("list", svc.URL+"/meetings", scenario.ExtractJSON("items.0.id", "meeting")),
		scenario.GET("detail", svc.URL+"/meetings/{{meeting}}"),
		scenario.POST("apply", svc.URL+"/meetings/{{meeting}}/apply", `{"name":"vu-{{vu.id}}"}`, scenario.SendJSON(), scenario.Expect(201)),
	}, scenario.WithClient(scenario.Client{Dial: svc.Dial}))
	return &loadgen.Plan{Scenarios: []loadgen.Scenario{j.Scenario(loadgen.ConstantVUs{VUs: vus, Duration: d})}}
}
