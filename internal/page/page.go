// Package page renders the module's self-contained HTML pages: a header,
// then blocks of headings, notes, tables and SVG charts, with inline CSS
// and no script, so that a page opens in any browser, offline, years later.
// html/template escapes every string it is given.
package page

import (
	"html/template"
	"io"

	"github.com/stampede-go/stampede/internal/chart"
	"github.com/stampede-go/stampede/internal/table"
)

// Page is one HTML page.
type Page struct {
	Title  string
	Meta   [][2]string // the header's name/value lines
	Blocks []Block
	Footer string
}

// Block is one part of a page; the fields set say what it shows, in this
// order: a section heading (h2), a sub-heading (h3), a warning, a note,
// a list, a table, a chart.
type Block struct {
	ID      string // the section's id attribute, for tests and links
	Heading string
	Sub     string
	Warn    string
	Note    string
	List    []string
	Table   *table.Table
	Chart   *chart.Chart
}

// Add appends blocks.
func (p *Page) Add(b ...Block) { p.Blocks = append(p.Blocks, b...) }

// Write renders the page.
func (p *Page) Write(w io.Writer) error { return tmpl.Execute(w, p) }

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
	"cls": func(t *table.Table, i int) string { return t.Class(i) },
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="stampede">
<title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0}dl.meta dt{color:#555}dl.meta dd{margin:0}
table{border-collapse:collapse;margin:8px 0 16px;font-variant-numeric:tabular-nums}
caption{text-align:left;color:#444;padding:4px 0;font-weight:600}
th,td{padding:3px 8px;border-bottom:1px solid #eee;white-space:nowrap}th{background:#f5f5f5;text-align:left}
td.r,th.r{text-align:right}
tr.worse td,tr.fail td{background:#fde8e8}tr.better td,tr.pass td{background:#e6f4ea}
figure.chart{margin:12px 0 20px}
svg text{font:11px system-ui,sans-serif;fill:#333}svg .title{font-size:13px;font-weight:600}
svg .grid{stroke:#e6e6e6}svg .axis{stroke:#444}svg .warmup{fill:#000;fill-opacity:.06}
svg .event{stroke:#000;stroke-width:1;stroke-dasharray:3 2}svg .event-label{font-size:10px;fill:#000}
svg .series{fill:none;stroke-width:1.6}svg .nodata{font-size:14px;fill:#888}
ul.legend{list-style:none;padding:0;margin:2px 0 0 70px;display:flex;flex-wrap:wrap;gap:4px 18px}
ul.legend li{display:flex;align-items:center;gap:6px}
.warn{background:#fff7e0;border-left:4px solid #f0b400;padding:6px 10px;margin:6px 0}
.note{color:#444;margin:6px 0}
pre{background:#f7f7f7;padding:8px;overflow-x:auto}
footer{color:#777;font-size:12px;margin-top:32px}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<dl class="meta">{{range .Meta}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>
{{range .Blocks}}{{if .Heading}}<h2{{with .ID}} id="{{.}}"{{end}}>{{.Heading}}</h2>
{{end}}{{if .Sub}}<h3{{if not .Heading}}{{with .ID}} id="{{.}}"{{end}}{{end}}>{{.Sub}}</h3>
{{end}}{{with .Warn}}<p class="warn">{{.}}</p>
{{end}}{{with .Note}}<p class="note">{{.}}</p>
{{end}}{{with .List}}<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>
{{end}}{{with .Table}}{{template "table" .}}{{end}}{{with .Chart}}{{template "chart" .}}{{end}}{{end}}<footer>{{.Footer}}</footer>
</body>
</html>
{{define "table"}}<table>{{with .Caption}}<caption>{{.}}</caption>{{end}}
<thead><tr>{{range $i, $h := .Head}}<th{{if index $.Right $i}} class="r"{{end}}>{{$h}}</th>{{end}}</tr></thead>
<tbody>{{$t := .}}{{range $j, $row := .Rows}}<tr{{with cls $t $j}} class="{{.}}"{{end}}>{{range $i, $c := $row}}<td{{if index $t.Right $i}} class="r"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{end}}
{{define "chart"}}<figure class="chart" id="{{.ID}}">
<svg data-chart="{{.ID}}" xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Title}}">
<text class="title" x="{{.L}}" y="16">{{.Title}}</text>
{{if .Empty}}<rect x="{{.L}}" y="{{.T}}" width="{{sub (sub .W .L) .R}}" height="{{sub (sub .H .T) .B}}" fill="#fafafa" stroke="#ddd"/>
<text class="nodata" x="{{add .L 20}}" y="{{add .T 40}}">{{.Empty}}</text>
{{else}}{{if .ShadeTo}}<rect class="warmup" x="{{.L}}" y="{{.T}}" width="{{sub .ShadeTo .L}}" height="{{sub (sub .H .T) .B}}"/>
<text class="warmup-label" x="{{add .L 4}}" y="{{sub (sub .H .B) 4}}">warm-up</text>
{{end}}{{$c := .}}{{range .YTicks}}<line class="grid" x1="{{$c.L}}" x2="{{sub $c.W $c.R}}" y1="{{.Pos}}" y2="{{.Pos}}"/><text class="tick y-tick" x="{{sub $c.L 6}}" y="{{add .Pos 4}}" text-anchor="end">{{.Label}}</text>
{{end}}{{range .XTicks}}<line class="axis" x1="{{.Pos}}" x2="{{.Pos}}" y1="{{sub $c.H $c.B}}" y2="{{add (sub $c.H $c.B) 4}}"/><text class="tick x-tick" x="{{.Pos}}" y="{{add (sub $c.H $c.B) 16}}" text-anchor="middle">{{.Label}}</text>
{{end}}<line class="axis" x1="{{.L}}" x2="{{.L}}" y1="{{.T}}" y2="{{sub .H .B}}"/><line class="axis" x1="{{.L}}" x2="{{sub .W .R}}" y1="{{sub .H .B}}" y2="{{sub .H .B}}"/>
<text class="axis-label y-label" transform="translate(14 {{add .T 80}}) rotate(-90)" text-anchor="middle">{{.YLabel}}</text>
<text class="axis-label x-label" x="{{sub .W .R}}" y="{{sub .H 6}}" text-anchor="end">{{.XLabel}}</text>
{{range .Lines}}<path class="series" data-series="{{.Name}}" d="{{.D}}" stroke="{{.Color}}"{{with .Dash}} stroke-dasharray="{{.}}"{{end}}/>
{{end}}{{range .Clips}}<path class="clipped" d="M{{sub .X 4}} {{add .Y 7}} L{{.X}} {{.Y}} L{{add .X 4}} {{add .Y 7}} Z" fill="{{.Color}}"><title>{{.Title}}</title></path>
{{end}}{{range .Marks}}<line class="event" data-event="{{.Label}}" x1="{{.X}}" x2="{{.X}}" y1="{{$c.T}}" y2="{{sub $c.H $c.B}}"/><text class="event-label" x="{{add .X 3}}" y="{{.LabelY}}">{{.Label}}</text>
{{end}}{{end}}</svg>
{{if not .Empty}}<ul class="legend">{{range .Lines}}<li><svg width="28" height="10" aria-hidden="true"><line x1="0" x2="28" y1="5" y2="5" stroke="{{.Color}}" stroke-width="2"{{with .Dash}} stroke-dasharray="{{.}}"{{end}}/></svg>{{.Name}}</li>{{end}}{{if .Clips}}<li>▲ above the scale (the warm-up's values do not set it)</li>{{end}}</ul>{{end}}
</figure>
{{end}}`
