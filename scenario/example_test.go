package scenario_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
	"github.com/stampede-go/stampede/scenario"
)

// Example runs the sign-up journey of an event site: list the meetings,
// open the first one's page (its id extracted from the list), apply, and
// reload the page, with think time between the steps.
func Example() {
	site := http.NewServeMux()
	site.HandleFunc("GET /meetings", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items":[{"id":"42"}]}`)
	})
	site.HandleFunc("GET /meetings/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "meeting %s", r.PathValue("id"))
	})
	site.HandleFunc("POST /meetings/{id}/apply", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(site)
	defer srv.Close()

	members, _ := scenario.NewFeeder("members", []string{"name"}, [][]string{{"ann"}, {"bob"}}, scenario.Sequential, scenario.Wrap)
	signup := scenario.Must("signup", scenario.Parts{
		scenario.Feed(members),
		scenario.GET("list", srv.URL+"/meetings", scenario.ExtractJSON("items.0.id", "meeting")),
		scenario.Think(scenario.Uniform(time.Millisecond, 3*time.Millisecond)),
		scenario.GET("detail", srv.URL+"/meetings/{{meeting}}", scenario.Contains("meeting 42")),
		scenario.POST("apply", srv.URL+"/meetings/{{meeting}}/apply", `{"name":"{{name}}"}`, scenario.SendJSON(), scenario.Expect(201)),
		scenario.GET("detail-again", srv.URL+"/meetings/{{meeting}}"),
	})

	res, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{
		signup.Scenario(loadgen.PerVUIterations{VUs: 3, Iterations: 4}),
	}})
	if err != nil {
		panic(err)
	}
	for _, step := range signup.Steps() {
		st := res.Metrics.SeriesOf(metrics.Key{Scenario: "signup", Step: step, Kind: metrics.KindStep}).Total
		fmt.Printf("%-12s requests=%d errors=%d\n", step, st.Count(), st.Errors())
	}
	// Output:
	// list         requests=12 errors=0
	// detail       requests=12 errors=0
	// apply        requests=12 errors=0
	// detail-again requests=12 errors=0
}

// ExampleProvides declares the token that a Go step stores, so that the
// placeholders after it may use it; values are escaped for where they
// stand (the name in the JSON string, the id in the path) unless written
// {{raw name}}.
func ExampleProvides() {
	site := http.NewServeMux()
	site.HandleFunc("POST /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("%s %s\n%s\n%s\n", r.Method, r.URL.EscapedPath(), r.Header.Get("Authorization"), body)
	})
	srv := httptest.NewServer(site)
	defer srv.Close()

	login := func(ctx context.Context, vu *scenario.VU) error {
		vu.Set("token", "t-42") // say, from a sign-in API
		return nil
	}
	users, _ := scenario.NewFeeder("users", []string{"id", "name", "prefs"},
		[][]string{{"ann/1", `Ann "the" Admin`, `{"lang":"en"}`}}, scenario.Sequential, scenario.Wrap)
	j, err := scenario.New("profile", scenario.Parts{
		scenario.Feed(users),
		scenario.Step("login", login), scenario.Provides("token"),
		scenario.POST("update", srv.URL+"/users/{{id}}", `{"name":"{{name}}","prefs":{{raw prefs}}}`,
			scenario.SendJSON(), scenario.Header("Authorization", "Bearer {{token}}")),
	})
	if err != nil {
		panic(err)
	}
	if _, err := loadgen.Run(context.Background(), &loadgen.Plan{Scenarios: []loadgen.Scenario{
		j.Scenario(loadgen.PerVUIterations{VUs: 1, Iterations: 1}),
	}}); err != nil {
		panic(err)
	}
	// Output:
	// POST /users/ann%2F1
	// Bearer t-42
	// {"name":"Ann \"the\" Admin","prefs":{"lang":"en"}}
}
