package render

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseURLExpand(t *testing.T) {
	t.Parallel()
	vals := map[string]string{
		"id":     "evt/42?x=<script>",
		"tenant": "acme & co",
		"dot":    "..",
		"plain":  "abc",
	}
	value := func(n string) string { return vals[n] }
	tests := []struct {
		tmpl, want string
	}{
		{"https://console.example.com/events/{id}", "https://console.example.com/events/evt%2F42%3Fx=%3Cscript%3E"},
		{"https://c.example.com/e/{id}?tenant={tenant}", "https://c.example.com/e/evt%2F42%3Fx=%3Cscript%3E?tenant=acme+%26+co"},
		{"https://c.example.com/hunt#{tenant}", "https://c.example.com/hunt#acme+%26+co"},
		{"http://c.example.com:8080/a/{dot}/b", "http://c.example.com:8080/a/%2E%2E/b"},
		{"https://c.example.com/{plain}-{plain}", "https://c.example.com/abc-abc"},
		{"https://c.example.com/static", "https://c.example.com/static"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			u, err := ParseURL(tt.tmpl, "id", "tenant", "dot", "plain")
			if err != nil {
				t.Fatalf("ParseURL(%q) error = %v", tt.tmpl, err)
			}
			got := u.Expand(value)
			if got != tt.want {
				t.Errorf("Expand(%q) = %q; want %q", tt.tmpl, got, tt.want)
			}
			p, err := url.Parse(got)
			if err != nil {
				t.Fatalf("url.Parse(%q) error = %v", got, err)
			}
			if p.Host != "c.example.com" && p.Host != "console.example.com" && p.Host != "c.example.com:8080" {
				t.Errorf("Expand(%q) host = %q; the value changed the host", tt.tmpl, p.Host)
			}
			if u.String() != tt.tmpl {
				t.Errorf("String() = %q; want %q", u.String(), tt.tmpl)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl, want string
	}{
		{"", "scheme"},
		{"ftp://h.example/{id}", "scheme"},
		{"javascript:alert(1)", "scheme"},
		{"https:///path/{id}", "no host"},
		{"https://{id}.example.com/", "host"},
		{"{id}://example.com/", "host"},
		{"https://example.com{id}/", "host"},
		{"https://user:pw@example.com/{id}", "user information"},
		{"https://example.com/{id", "unterminated"},
		{"https://example.com/{i{d}", "unterminated"},
		{"https://example.com/id}", "unmatched"},
		{"https://example.com/{}", "bad placeholder"},
		{"https://example.com/{a b}", "bad placeholder"},
		{"https://example.com/{nope}", "unknown placeholder {nope}"},
		{"https://exa mple.com/{id}", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			_, err := ParseURL(tt.tmpl, "id")
			if !errors.Is(err, ErrURL) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseURL(%q) = %v; want an ErrURL containing %q", tt.tmpl, err, tt.want)
			}
		})
	}
}

func TestURLZero(t *testing.T) {
	t.Parallel()
	var u *URL
	if got := u.Expand(nil); got != "" {
		t.Errorf("(*URL)(nil).Expand = %q; want \"\"", got)
	}
	if got := (&URL{}).Expand(nil); got != "" {
		t.Errorf("URL{}.Expand = %q; want \"\"", got)
	}
}

// FuzzURL checks that ParseURL never panics and that, whatever the value,
// an expanded link parses and keeps the template's host.
func FuzzURL(f *testing.F) {
	f.Add("https://c.example.com/e/{id}?t={id}", "a/b?c#d")
	f.Add("https://c.example.com/{id}#{id}", "..")
	f.Add("http://[::1]:80/{id}", "\r\n\x00")
	f.Add("{id}", "x")
	f.Fuzz(func(t *testing.T, tmpl, v string) {
		u, err := ParseURL(tmpl)
		if err != nil {
			return
		}
		host := func(s string) string {
			p, err := url.Parse(s)
			if err != nil {
				t.Fatalf("url.Parse(%q) error = %v (template %q, value %q)", s, err, tmpl, v)
			}
			return p.Host
		}
		want := host(u.Expand(func(string) string { return "x" }))
		got := u.Expand(func(string) string { return v })
		if h := host(got); h != want {
			t.Errorf("Expand(%q) with %q has host %q; want %q", tmpl, v, h, want)
		}
	})
}
