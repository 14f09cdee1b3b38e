// Package render holds the rendering helpers shared by the alert emails
// (package alerts, content.go) and the daily digest (package digest): both
// emails are rendered the same way, with the same escaping guarantees.
//
// # How to use it
//
// Parse a pair of templates, one for the plain-text part and one for the
// HTML part, and execute both with the same data:
//
//	tmpl, err := render.Parse("digest", textSrc, htmlSrc, nil)
//	...
//	text, html, err := tmpl.Execute(view)
//
// The text part goes through text/template and the HTML part through
// html/template, so every value the HTML template prints is escaped for
// its context (element text, attribute, URL). A host that overrides the
// templates gets the same guarantee: [Parse] never hands HTML to
// text/template. [ParseFS] reads name.txt and name.html from an fs.FS
// (an embed.FS of defaults, or the host's directory of overrides).
// [ParseText] parses a part that has no HTML form, such as a subject line,
// the way Parse parses the text part.
//
// Both template kinds get [Funcs]: "datetime" and "date" format a time in
// a zone with the ISO date and the zone shown ([DateTime], [Date]), "plural"
// picks a singular or plural noun ([Plural]), and "line" flattens a string
// to one line ([Line]).
//
// Build the data you pass (the "view") from plain strings prepared with the
// helpers, rather than handing raw events to templates:
//
//   - [DateTime] and [Date] format times in the recipient's zone:
//     "2026-03-29 03:15:00 CEST (UTC+02:00)";
//   - [Line] turns untrusted one-line data (summaries, asset names) into a
//     single line without CR, LF, NUL or other control characters, so that
//     nothing in the text part can forge a line of its own;
//   - [ParseURL] parses a link template such as
//     "https://console.example.com/events/{id}?tenant={tenant}" once, at
//     configuration time, checking its placeholder names; [URL.Expand] fills
//     it with path- or query-escaped values, so data never changes the
//     link's host or structure;
//   - [Cut] cuts a long list at a configurable count and says how many were
//     left out, for a "View more" line;
//   - [Wrap] wraps a plain-text line at [TextWidth] columns;
//   - [NewBrand] checks a host's branding once (the accent colour's
//     contrast included, with [Contrast]) and [Brand.View] prints it for
//     one tenant.
//
// A built-in layout that must be fast writes its HTML part with an
// [HTMLBuilder] instead of a template: [Markup] for the constant markup,
// [HTMLBuilder.Text], [HTMLBuilder.URL], [HTMLBuilder.TrustedURL] and
// [HTMLBuilder.Color] for every value, which they escape exactly as
// html/template escapes it in the same place. Keep the layout's template
// beside it (hosts build their overrides on it) and test that both print
// the same bytes. Package rendertest checks the result in an HTML parser
// and in a browser.
//
// Everything here is pure: no I/O, no clock, no global state. All types are
// safe for concurrent use once built, but an HTMLBuilder.
package render
