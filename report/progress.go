package report

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/stampede-go/stampede/internal/format"
	"github.com/stampede-go/stampede/loadgen"
	"github.com/stampede-go/stampede/metrics"
)

// ProgressOptions configures [NewProgress].
type ProgressOptions struct {
	// Terminal selects the mode: one line rewritten in place (true), or a
	// plain line every Every (false, for CI logs). Nil detects it: true
	// when the writer is a character device such as a terminal.
	Terminal *bool
	// Every is how often the plain mode prints; 0 means 10 s. The final
	// line is always printed.
	Every time.Duration
	// Label, if set, begins every line: which run of a series this is
	// ("baseline 3/7"). The repetitions of package report/compare set it
	// for you.
	Label string
}

// NewProgress returns a live callback for [loadgen.Plan.OnInterval] that
// shows, each interval, the elapsed and planned time and per scenario the
// active VUs (and the arrival rate of open models), iterations done, errors
// and the p95 of the latest interval's iterations (whole iterations,
// think time included: a step's own latency is in the report). It formats one line into a buffer and
// writes it once: it does not slow the run unless w blocks.
func NewProgress(w io.Writer, opts ProgressOptions) func(*loadgen.Progress) {
	term := false
	if opts.Terminal != nil {
		term = *opts.Terminal
	} else if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			term = st.Mode()&os.ModeCharDevice != 0
		}
	}
	every := opts.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	var last time.Duration = -1
	var buf []byte
	return func(p *loadgen.Progress) {
		if !term && !p.Final && last >= 0 && p.Elapsed-last < every {
			return
		}
		last = p.Elapsed
		line := progressLine(p)
		if opts.Label != "" {
			line = opts.Label + " | " + line
		}
		line = format.Printable(line) // names are the user's: no escape sequence reaches the terminal
		buf = buf[:0]
		if term {
			buf = append(buf, "\r\033[K"...)
			buf = append(buf, line...)
			if p.Final {
				buf = append(buf, '\n')
			}
		} else {
			buf = append(buf, line...)
			buf = append(buf, '\n')
		}
		_, _ = w.Write(buf) // a progress line is best effort; the Result is the record
	}
}

func progressLine(p *loadgen.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s / %s", clock(p.Elapsed), clock(p.Planned))
	if p.Warmup {
		b.WriteString(" (warm-up)")
	}
	for _, sc := range p.Scenarios {
		all := sc.Iterations.All
		fmt.Fprintf(&b, " | %s: %d VUs", sc.Name, sc.VUs)
		last := sc.Iterations.Last
		fmt.Fprintf(&b, ", %d it", all.Count())
		if d := all.Outcomes[metrics.Dropped]; d > 0 {
			fmt.Fprintf(&b, ", %d dropped", d)
		}
		fmt.Fprintf(&b, ", %d err", all.Errors())
		p95 := "-"
		if last.Latency.Count() > 0 {
			p95 = format.Duration(last.Quantile(0.95))
		}
		fmt.Fprintf(&b, ", iteration p95 %s", p95) // the whole iteration's: think time in it
	}
	if p.Final {
		b.WriteString(" | done")
	}
	return b.String()
}

// clock formats d as m:ss.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", d/time.Minute, (d%time.Minute)/time.Second)
}
