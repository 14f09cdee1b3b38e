package render

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestParseExecute(t *testing.T) {
	t.Parallel()
	tmpl, err := Parse("t",
		`{{.Name}} at {{datetime .When .Loc}}: {{len .Items}} {{plural (len .Items) "item" "items"}}`,
		`<p title="{{.Name}}"><a href="{{.Link}}">{{.Name}}</a> {{date .When .Loc}}</p>`,
		map[string]any{"upper": strings.ToUpper})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	data := map[string]any{
		"Name":  `<script>alert("x")</script>`,
		"When":  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"Loc":   time.UTC,
		"Items": []int{1},
		"Link":  "javascript:alert(1)",
	}
	text, html, err := tmpl.Execute(data)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	wantText := `<script>alert("x")</script> at 2026-01-02 03:04:05 UTC: 1 item`
	if text != wantText {
		t.Errorf("Execute text = %q; want %q", text, wantText)
	}
	wantHTML := `<p title="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"><a href="#ZgotmplZ">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</a> 2026-01-02 (UTC)</p>`
	if html != wantHTML {
		t.Errorf("Execute html = %q; want %q", html, wantHTML)
	}
	if tmpl.Name() != "t" {
		t.Errorf("Name() = %q; want %q", tmpl.Name(), "t")
	}
}

func TestParseText(t *testing.T) {
	t.Parallel()
	tmpl, err := ParseText("subject", `{{upper .Name}}: {{.N}} {{plural .N "event" "events"}}`,
		map[string]any{"upper": strings.ToUpper})
	if err != nil {
		t.Fatalf("ParseText: %v", err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, map[string]any{"Name": "<Threat>", "N": 2}); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if got, want := b.String(), "<THREAT>: 2 events"; got != want {
		t.Errorf("Execute = %q; want %q", got, want)
	}
	if err := tmpl.Execute(&b, map[string]any{"Name": "x"}); err == nil {
		t.Errorf("Execute with a missing key = nil; want an error")
	}
	if _, err := ParseText("subject", "{{.X", nil); !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "subject text") {
		t.Errorf("ParseText(%q) = %v; want an ErrTemplate naming %q", "{{.X", err, "subject text")
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, html, want string
	}{
		{"text syntax", "{{.X", "", "t text"},
		{"html syntax", "", "{{end}}", "t html"},
		{"unknown func", "{{nope}}", "", "t text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t", tt.text, tt.html, nil)
			if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q, %q) = %v; want an ErrTemplate naming %q", tt.text, tt.html, err, tt.want)
			}
		})
	}
}

func TestExecuteErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, html, want string
	}{
		{"text missing key", "{{.Missing}}", "ok", "t text"},
		{"html missing key", "ok", "{{.Missing}}", "t html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse("t", tt.text, tt.html, nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			text, html, err := tmpl.Execute(map[string]string{})
			if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tt.want) || text != "" || html != "" {
				t.Errorf("Execute() = %q, %q, %v; want an ErrTemplate naming %q and no output", text, html, err, tt.want)
			}
		})
	}
}

func TestParseFS(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"a.txt":  {Data: []byte("hello {{.}}")},
		"a.html": {Data: []byte("<b>{{.}}</b>")},
		"b.txt":  {Data: []byte("only text")},
	}
	tmpl, err := ParseFS(fsys, "a", nil)
	if err != nil {
		t.Fatalf("ParseFS(a): %v", err)
	}
	text, html, err := tmpl.Execute("<you>")
	if err != nil || text != "hello <you>" || html != "<b>&lt;you&gt;</b>" {
		t.Errorf("Execute = %q, %q, %v; want %q, %q, nil", text, html, err, "hello <you>", "<b>&lt;you&gt;</b>")
	}
	if _, err := ParseFS(fsys, "b", nil); !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "b html") {
		t.Errorf("ParseFS(b) = %v; want an ErrTemplate naming b html", err)
	}
	if _, err := ParseFS(fsys, "c", nil); !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), "c text") {
		t.Errorf("ParseFS(c) = %v; want an ErrTemplate naming c text", err)
	}
}

func TestPlural(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "events"}, {1, "event"}, {2, "events"}} {
		if got := Plural(tt.n, "event", "events"); got != tt.want {
			t.Errorf("Plural(%d) = %q; want %q", tt.n, got, tt.want)
		}
	}
}
