package rendertest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// voidElements are the elements without an end tag.
var voidElements = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true, atom.Hr: true,
	atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true, atom.Source: true,
	atom.Track: true, atom.Wbr: true,
}

// forbiddenElements have no place in an email: scripts are stripped or
// blocked, and external resources (stylesheets, frames) are tracking and
// are not loaded.
var forbiddenElements = map[atom.Atom]bool{
	atom.Script: true, atom.Link: true, atom.Iframe: true, atom.Frame: true, atom.Object: true,
	atom.Embed: true, atom.Form: true, atom.Input: true, atom.Button: true, atom.Base: true,
}

// forbiddenCSS matches what email clients drop or that loads something:
// flex and grid layouts, imports, web fonts, url() (a background image is
// a tracking pixel too).
var forbiddenCSS = regexp.MustCompile(`(?i)display\s*:\s*(inline-)?(flex|grid)|@import|@font-face|url\s*\(`)

// HTMLProblems reads an email's HTML part and returns what is wrong with
// it, for people, in document order; none when it is fine:
//
//   - a tag left open, closed out of order or never opened, or a
//     self-closing non-void element: tags balance exactly, so no client's
//     parser has to guess;
//   - the html element without a lang attribute;
//   - an img without alt text, or of 2 pixels or less (a tracking pixel);
//   - a link (a) without an http, https or mailto href;
//   - a script, stylesheet link, frame, object, form, or CSS that
//     clients drop or that loads something (flex, grid, @import,
//     @font-face, url()).
//
// It also parses the document as a browser does (html.Parse) and reports
// an element the parser had to add or drop (but the tbody a table
// implies): the source is the tree.
func HTMLProblems(src string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var open []string
	elements := 0
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if err := z.Err(); !errors.Is(err, io.EOF) {
				add("tokenizer: %v", err)
			}
			break
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			elements++
			if tt == html.SelfClosingTagToken && !voidElements[tok.DataAtom] {
				add("<%s/> self-closes a non-void element", tok.Data)
			} else if !voidElements[tok.DataAtom] {
				open = append(open, tok.Data)
			}
			problems = append(problems, tagProblems(tok)...)
		case html.EndTagToken:
			switch {
			case len(open) == 0:
				add("</%s> closes nothing", tok.Data)
			case open[len(open)-1] != tok.Data:
				add("</%s> closes <%s> (open: %s)", tok.Data, open[len(open)-1], strings.Join(open, " > "))
			default:
				open = open[:len(open)-1]
			}
		case html.TextToken:
			if n := len(open); n > 0 && open[n-1] == "style" && forbiddenCSS.MatchString(tok.Data) {
				add("<style> holds %q", forbiddenCSS.FindString(tok.Data))
			}
		}
	}
	if len(open) > 0 {
		add("unclosed at the end: %s", strings.Join(open, " > "))
	}
	if n, err := parsedElements(src); err != nil {
		add("html.Parse: %v", err)
	} else if n != elements {
		add("html.Parse built %d elements (but tbody) from %d tags: the parser repaired the document", n, elements)
	}
	return problems
}

// tagProblems checks the attributes of one start tag.
func tagProblems(tok html.Token) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	attr := func(name string) (string, bool) {
		for _, a := range tok.Attr {
			if a.Key == name {
				return a.Val, true
			}
		}
		return "", false
	}
	if forbiddenElements[tok.DataAtom] {
		add("<%s> has no place in an email", tok.Data)
	}
	if style, ok := attr("style"); ok && forbiddenCSS.MatchString(style) {
		add("<%s style> holds %q", tok.Data, forbiddenCSS.FindString(style))
	}
	switch tok.DataAtom {
	case atom.Html:
		if lang, _ := attr("lang"); lang == "" {
			add("<html> has no lang")
		}
	case atom.Img:
		src, _ := attr("src")
		if alt, _ := attr("alt"); strings.TrimSpace(alt) == "" {
			add("<img src=%q> has no alt text", src)
		}
		for _, dim := range []string{"width", "height"} {
			if v, ok := attr(dim); ok {
				if n, err := strconv.Atoi(v); err != nil || n <= 2 {
					add("<img src=%q> has %s %q: a tracking pixel, or not a size", src, dim, v)
				}
			}
		}
	case atom.A:
		href, _ := attr("href")
		scheme, _, _ := strings.Cut(href, ":")
		if scheme = strings.ToLower(scheme); scheme != "https" && scheme != "http" && scheme != "mailto" {
			add("<a href=%q> does not link to a page", href)
		}
	}
	return problems
}

// parsedElements parses src as a browser does and counts its elements,
// but the tbody elements the parser adds to tables.
func parsedElements(src string) (int, error) {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return 0, err
	}
	// Rendering and parsing again must give the same tree: the parse is
	// a fixed point.
	var once, twice bytes.Buffer
	if err := html.Render(&once, doc); err != nil {
		return 0, err
	}
	again, err := html.Parse(bytes.NewReader(once.Bytes()))
	if err != nil {
		return 0, err
	}
	if err := html.Render(&twice, again); err != nil {
		return 0, err
	}
	if once.String() != twice.String() {
		return 0, errors.New("rendering the parsed document and parsing it again changes it")
	}
	n := 0
	for node := range doc.Descendants() {
		if node.Type == html.ElementNode && node.DataAtom != atom.Tbody {
			n++
		}
	}
	return n, nil
}
