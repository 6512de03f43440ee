package capacity

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/stampede-go/stampede/internal/save"
	"github.com/stampede-go/stampede/report"
)

// JSONVersion is the version of the JSON forms of a [Report] and a
// [StepComparison].
const JSONVersion = 1

// jsonFigures is a level's figures: latencies in milliseconds, null with
// no successes.
type jsonFigures struct {
	Count     int64    `json:"count"`
	Errors    int64    `json:"errors"`
	ErrorRate float64  `json:"error_rate"`
	RatePerS  float64  `json:"rate_per_s"`
	Successes int64    `json:"successes"`
	P50       *float64 `json:"p50_ms"`
	P90       *float64 `json:"p90_ms"`
	P95       *float64 `json:"p95_ms"`
	P99       *float64 `json:"p99_ms"`
	Max       *float64 `json:"max_ms"`
}

func jsonFiguresOf(f report.Figures) jsonFigures {
	ms := func(d time.Duration) *float64 {
		if f.Latency.Count == 0 {
			return nil
		}
		v := float64(d) / float64(time.Millisecond)
		return &v
	}
	return jsonFigures{Count: f.Count, Errors: f.Errors, ErrorRate: f.ErrorRate, RatePerS: f.Rate, Successes: f.Latency.Count,
		P50: ms(f.Latency.P50), P90: ms(f.Latency.P90), P95: ms(f.Latency.P95), P99: ms(f.Latency.P99), Max: ms(f.Latency.Max)}
}

type jsonLevel struct {
	Load         int           `json:"load"`
	Runs         int           `json:"runs"`
	AchievedPerS float64       `json:"achieved_per_s"`
	Dropped      int64         `json:"dropped"`
	DroppedShare float64       `json:"dropped_share"`
	Pass         bool          `json:"pass"`
	Limit        string        `json:"limit"`
	Why          string        `json:"why,omitempty"`
	Figures      jsonFigures   `json:"figures"`
	RunFigures   []jsonFigures `json:"run_figures"`
}

func jsonLevelOf(l *Level) *jsonLevel {
	j := &jsonLevel{Load: l.Load, Runs: len(l.Runs), AchievedPerS: l.Rate, Dropped: l.Dropped, DroppedShare: l.DroppedShare,
		Pass: l.Pass, Limit: l.Limit.String(), Why: l.Why, Figures: jsonFiguresOf(l.Figures), RunFigures: []jsonFigures{}}
	for _, f := range l.RunFigures {
		j.RunFigures = append(j.RunFigures, jsonFiguresOf(f))
	}
	return j
}

// WriteJSON writes the report as JSON, a stable schema: format
// "stampede-capacity", version [JSONVersion], unit ("VUs" or
// "offered/s"), rows (the selector the figures are of), ceiling, limit,
// why, stopped, summary, and the levels by load, each with load, runs,
// achieved_per_s, dropped, dropped_share, pass, limit, why, and figures
// (all runs merged) and run_figures (each run's): count, errors,
// error_rate, rate_per_s, successes and p50_ms, p90_ms, p95_ms, p99_ms,
// max_ms of the successes (null when none).
func (r *Report) WriteJSON(w io.Writer) error {
	out := struct {
		Format  string      `json:"format"`
		Version int         `json:"version"`
		Unit    string      `json:"unit"`
		Rows    string      `json:"rows"`
		Ceiling int         `json:"ceiling"`
		Limit   string      `json:"limit"`
		Why     string      `json:"why,omitempty"`
		Stopped string      `json:"stopped,omitempty"`
		Summary string      `json:"summary"`
		Levels  []jsonLevel `json:"levels"`
	}{Format: "stampede-capacity", Version: JSONVersion, Unit: r.unit(), Rows: string(r.rows()), Ceiling: r.Ceiling,
		Limit: r.Limit.String(), Why: r.Why, Stopped: r.Stopped, Summary: r.Summary(), Levels: []jsonLevel{}}
	for _, l := range r.byLoad() {
		out.Levels = append(out.Levels, *jsonLevelOf(&l))
	}
	return writeJSON(w, out)
}

// SaveJSON writes the report's JSON (see [Report.WriteJSON]) to a file,
// replacing it atomically.
func (r *Report) SaveJSON(path string) error {
	if err := save.File(path, r.WriteJSON); err != nil {
		return fmt.Errorf("capacity: %w", err)
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(v)
}
