package render

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ErrURL is wrapped by every error [ParseURL] returns.
var ErrURL = errors.New("render: bad URL template")

// A URL is a link template such as
// "https://console.example.com/events/{id}?tenant={tenant}": an absolute
// http or https URL whose path, query or fragment hold placeholders
// "{name}". [URL.Expand] fills the placeholders with escaped values: a
// value in the path is path-escaped ("/" included, and "." and ".."
// too, so it stays one segment), a value in the query or fragment is query-escaped. Placeholders
// may not appear in the scheme or host, so no value can send the link
// elsewhere.
//
// A URL is built by [ParseURL]; its zero value expands to "". It is safe
// for concurrent use.
type URL struct {
	src   string
	parts []urlPart
	size  int
}

// urlPart is a literal, or a placeholder when name is not empty.
type urlPart struct {
	lit   string
	name  string
	query bool
}

// ParseURL parses a link template. Placeholder names are made of ASCII
// letters, digits, '_' and '-'; when names is not empty, every placeholder
// must be one of them, so that a typo fails at configuration time rather
// than in an email. Literal braces are not allowed. The error wraps
// [ErrURL] and quotes the template.
func ParseURL(tmpl string, names ...string) (*URL, error) {
	u := &URL{src: tmpl}
	bad := func(format string, args ...any) (*URL, error) {
		return nil, fmt.Errorf("%w %q: %s", ErrURL, tmpl, fmt.Sprintf(format, args...))
	}
	// Check the structure with every placeholder replaced by a letter.
	var probe strings.Builder
	rest := tmpl
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			u.parts = append(u.parts, urlPart{lit: rest})
			probe.WriteString(rest)
			break
		}
		if rest[i] == '}' {
			return bad("unmatched '}'")
		}
		if i > 0 {
			u.parts = append(u.parts, urlPart{lit: rest[:i]})
			probe.WriteString(rest[:i])
		}
		rest = rest[i+1:]
		j := strings.IndexAny(rest, "{}")
		if j < 0 || rest[j] != '}' {
			return bad("unterminated placeholder")
		}
		name := rest[:j]
		if !validName(name) {
			return bad("bad placeholder name %q", name)
		}
		if len(names) > 0 && !slices.Contains(names, name) {
			return bad("unknown placeholder {%s} (known: %s)", name, strings.Join(names, ", "))
		}
		// The placeholder is in the query or fragment when a '?' or '#'
		// came before it.
		query := strings.ContainsAny(probe.String(), "?#")
		u.parts = append(u.parts, urlPart{name: name, query: query})
		if !query && !pastHost(probe.String()) {
			return bad("placeholder {%s} in the scheme or host", name)
		}
		probe.WriteString("x")
		rest = rest[j+1:]
	}
	p, err := url.Parse(probe.String())
	if err != nil {
		return bad("%v", errors.Unwrap(err))
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return bad("scheme must be http or https")
	}
	if p.Host == "" {
		return bad("no host")
	}
	if p.User != nil {
		return bad("user information is not allowed")
	}
	u.size = len(tmpl) + 32
	return u, nil
}

// pastHost reports whether prefix, the start of an absolute URL, reaches
// the path: it has "scheme://host" followed by a '/'.
func pastHost(prefix string) bool {
	_, after, ok := strings.Cut(prefix, "://")
	return ok && strings.Contains(after, "/")
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Expand returns the link with each placeholder replaced by the escaped
// value(name). A nil or zero URL expands to "".
func (u *URL) Expand(value func(name string) string) string {
	if u == nil || len(u.parts) == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(u.size)
	for _, p := range u.parts {
		switch {
		case p.name == "":
			b.WriteString(p.lit)
		case p.query:
			b.WriteString(url.QueryEscape(value(p.name)))
		default:
			b.WriteString(pathEscape(value(p.name)))
		}
	}
	return b.String()
}

// String returns the template as it was parsed.
func (u *URL) String() string {
	if u == nil {
		return ""
	}
	return u.src
}

// pathEscape escapes v as one path segment; "." and ".." are escaped too,
// since a resolver would otherwise read them as the current or parent
// directory.
func pathEscape(v string) string {
	switch v {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(v)
}
