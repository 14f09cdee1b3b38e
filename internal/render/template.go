package render

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
)

// ErrTemplate is wrapped by every error about a template's source or its
// execution.
var ErrTemplate = errors.New("render: template error")

// A Template is a pair of templates rendering the same content: one for the
// plain-text part of an email (text/template) and one for the HTML part
// (html/template, which escapes every value for its context).
//
// A Template is built by [Parse] or [ParseFS]; its zero value is not usable.
// It is safe for concurrent use.
type Template struct {
	name string
	text *texttemplate.Template
	html *htmltemplate.Template
}

// Parse parses textSrc with text/template and htmlSrc with html/template,
// both under name and both with [Funcs] and the extra funcs (which may be
// nil; an extra func replaces a built-in of the same name). Templates that
// reference a missing map key fail at execution instead of printing
// "<no value>".
//
// The error wraps [ErrTemplate] and names the part ("text" or "html").
func Parse(name, textSrc, htmlSrc string, funcs map[string]any) (*Template, error) {
	t, err := ParseText(name, textSrc, funcs)
	if err != nil {
		return nil, err
	}
	h := htmltemplate.New(name).Option("missingkey=error").Funcs(htmltemplate.FuncMap(withFuncs(funcs)))
	if _, err := h.Parse(htmlSrc); err != nil {
		return nil, fmt.Errorf("%w: %s html: %w", ErrTemplate, name, err)
	}
	return &Template{name: name, text: t, html: h}, nil
}

// ParseText parses src with text/template as [Parse] parses the text part:
// under name, with [Funcs] and the extra funcs, failing on a missing map
// key. It serves parts that have no HTML form, such as a subject line. The
// error wraps [ErrTemplate].
func ParseText(name, src string, funcs map[string]any) (*texttemplate.Template, error) {
	t := texttemplate.New(name).Option("missingkey=error").Funcs(texttemplate.FuncMap(withFuncs(funcs)))
	if _, err := t.Parse(src); err != nil {
		return nil, fmt.Errorf("%w: %s text: %w", ErrTemplate, name, err)
	}
	return t, nil
}

// withFuncs returns [Funcs] with extra added, an extra func replacing a
// built-in of the same name.
func withFuncs(extra map[string]any) map[string]any {
	fm := Funcs()
	for k, v := range extra {
		fm[k] = v
	}
	return fm
}

// ParseFS reads name+".txt" and name+".html" from fsys and parses them as
// [Parse] does.
func ParseFS(fsys fs.FS, name string, funcs map[string]any) (*Template, error) {
	txt, err := fs.ReadFile(fsys, name+".txt")
	if err != nil {
		return nil, fmt.Errorf("%w: %s text: %w", ErrTemplate, name, err)
	}
	html, err := fs.ReadFile(fsys, name+".html")
	if err != nil {
		return nil, fmt.Errorf("%w: %s html: %w", ErrTemplate, name, err)
	}
	return Parse(name, string(txt), string(html), funcs)
}

// Name returns the name the template was parsed under.
func (t *Template) Name() string { return t.name }

// Execute renders both parts with the same data. On error neither part is
// returned; the error wraps [ErrTemplate] and names the part that failed.
func (t *Template) Execute(data any) (text, html string, err error) {
	var b strings.Builder
	b.Grow(2048)
	if err := t.text.Execute(&b, data); err != nil {
		return "", "", fmt.Errorf("%w: %s text: %w", ErrTemplate, t.name, err)
	}
	text = b.String()
	b = strings.Builder{}
	b.Grow(4096)
	if err := t.html.Execute(&b, data); err != nil {
		return "", "", fmt.Errorf("%w: %s html: %w", ErrTemplate, t.name, err)
	}
	return text, b.String(), nil
}

// Funcs returns the functions every template gets, in a new map the caller
// may extend:
//
//   - datetime TIME LOCATION: [DateTime]
//   - date TIME LOCATION: [Date]
//   - plural N SINGULAR PLURAL: [Plural]
//   - line STRING: [Line]
//   - wrap WIDTH FIRST REST STRING: [Wrap]
//   - button ACCENT URL LABEL: a [Button], for a layout's button block
func Funcs() map[string]any {
	return map[string]any{
		"datetime": DateTime,
		"date":     Date,
		"plural":   Plural,
		"line":     Line,
		"wrap":     Wrap,
		"button":   func(accent, url, label string) Button { return Button{accent, url, label} },
	}
}

// A Button is a link shown as a button, what a layout's button block is
// executed with: the "button" function makes one in a template.
type Button struct {
	// Accent is the button's colour, URL where it leads and Label its
	// text.
	Accent, URL, Label string
}

// Plural returns singular when n is 1 and plural otherwise.
func Plural(n int, singular, plural string) string {
	if n == 1 {
		return singular
	}
	return plural
}
