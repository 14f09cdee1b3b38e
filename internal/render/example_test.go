package render_test

import (
	"fmt"
	"time"

	"github.com/alertmail/alertmail/internal/render"
)

// An email rendered as text and HTML from one view, with a link template
// and a list cut at two items.
func Example() {
	link, err := render.ParseURL("https://console.example.com/events/{id}", "id")
	if err != nil {
		fmt.Println(err)
		return
	}
	tmpl, err := render.Parse("example",
		"{{range .Items}}- {{.Name}} {{.Link}}\n{{end}}{{if .More}}{{.More}} more\n{{end}}",
		`<ul>{{range .Items}}<li><a href="{{.Link}}">{{.Name}}</a></li>{{end}}</ul>`, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	type item struct{ Name, Link string }
	var items []item
	for _, id := range []string{"a/1", "<b>", "c", "d"} {
		items = append(items, item{
			Name: render.Line("event\r\n" + id),
			Link: link.Expand(func(string) string { return id }),
		})
	}
	shown, more := render.Cut(items, 2)
	text, html, err := tmpl.Execute(map[string]any{"Items": shown, "More": more})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(text)
	fmt.Println(html)
	fmt.Println(render.DateTime(time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), time.FixedZone("EDT", -4*3600)))
	// Output:
	// - event a/1 https://console.example.com/events/a%2F1
	// - event <b> https://console.example.com/events/%3Cb%3E
	// 2 more
	// <ul><li><a href="https://console.example.com/events/a%2F1">event a/1</a></li><li><a href="https://console.example.com/events/%3Cb%3E">event &lt;b&gt;</a></li></ul>
	// 2026-07-01 08:00:00 EDT (UTC-04:00)
}
