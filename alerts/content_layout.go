package alerts

import (
	"strconv"
	"strings"

	"github.com/alertmail/alertmail/internal/render"
)

// The built-in layout, written in Go.
//
// The built-in templates (templates/) stay the definition a host's
// overrides build on, but executing them costs ~250 µs and ~1,000
// allocations for 20 events, nearly all of it in html/template's escaper
// pipeline (reflection and one call per value and escaper). The functions
// here print the same bytes as those templates from the same ContentData:
// every value goes through render.HTMLBuilder, which escapes it exactly as
// html/template does in the same place (Text for element text and
// attributes, URL for href), and only constants are Markup. The tests
// check the equivalence against the templates themselves on arbitrary
// data (FuzzContentBuiltin), so the two cannot drift apart.
//
// A category uses this layout when neither its body files nor the layout
// files are overridden (see Content.parseTemplates); the subject, when
// subject.txt is not.

// A builtinBody is what the built-in body of one category adds to the
// layout: its heading and the paragraph after the intro.
type builtinBody struct {
	// heading is the text part's first line and the HTML part's heading;
	// empty for the default body, which shows the category's name.
	textHeading string
	htmlHeading render.Markup
	// advice is the paragraph after the intro, wrapped for the text part;
	// empty for none.
	textAdvice string
	htmlAdvice render.Markup
}

// lookupBuiltin returns the built-in body of the templates base.txt and
// base.html: a category's or "default"; nil for any other name.
func lookupBuiltin(base string) *builtinBody {
	if base == "default" {
		return builtinDefault
	}
	return builtinBodies[CategoryID(base)]
}

// builtinBodies are the built-in bodies of the categories (templates/<id>.*);
// builtinDefault is templates/default.*.
var (
	builtinBodies = map[CategoryID]*builtinBody{
		ActiveThreat: {
			textHeading: "ACTIVE THREAT ALERT",
			htmlHeading: `<h1 style="font-size: 20px; color: #b00020;">Active Threat Alert</h1>`,
			textAdvice:  "Each event below scored at or over the Active Threat threshold. Open an\nevent to quarantine or delete it, or to kill its process.\n",
			htmlAdvice:  "<p>Each event below scored at or over the Active Threat threshold. Open an event to quarantine or delete it, or to kill its process.</p>\n",
		},
		Threat: {
			textHeading: "THREAT ALERT",
			htmlHeading: `<h1 style="font-size: 20px; color: #c25e00;">Threat Alert</h1>`,
			textAdvice:  "Review these potential or identified threats and act on them before they\nescalate.\n",
			htmlAdvice:  "<p>Review these potential or identified threats and act on them before they escalate.</p>\n",
		},
		SystemStatus: {
			textHeading: "SYSTEM STATUS ALERT",
			htmlHeading: `<h1 style="font-size: 20px; color: #0b57d0;">System Status Alert</h1>`,
			textAdvice:  "These changes concern the health, performance or uptime of the platform.\n",
			htmlAdvice:  "<p>These changes concern the health, performance or uptime of the platform.</p>\n",
		},
		Configuration: {
			textHeading: "CONFIGURATION ALERT",
			htmlHeading: `<h1 style="font-size: 20px; color: #5f6368;">Configuration Alert</h1>`,
			textAdvice:  "Check that these configuration changes were intended and that the settings\nare still consistent.\n",
			htmlAdvice:  "<p>Check that these configuration changes were intended and that the settings are still consistent.</p>\n",
		},
	}
	builtinDefault = &builtinBody{}
)

// builtinSubject returns the built-in subject (templates/subject.txt) of d.
func builtinSubject(d *ContentData) string {
	var b strings.Builder
	b.Grow(len(d.CategoryName) + 16)
	b.WriteString(d.CategoryName)
	b.WriteString(": ")
	writeInt(&b, d.Count)
	b.WriteString(render.Plural(d.Count, " event", " events"))
	return b.String()
}

// text returns the plain-text part of d with the built-in layout.
func (bb *builtinBody) text(d *ContentData) string {
	var b strings.Builder
	b.Grow(512 + 200*len(d.Events))
	if bb.textHeading != "" {
		b.WriteString(bb.textHeading)
	} else {
		b.WriteString(d.CategoryName)
	}
	b.WriteString("\n\n")
	// intro
	writeInt(&b, d.Count)
	b.WriteByte(' ')
	b.WriteString(d.Noun)
	b.WriteString(" detected for tenant ")
	b.WriteString(d.Tenant)
	b.WriteByte('.')
	if d.Carried != 0 {
		b.WriteString("\nThis email includes ")
		writeInt(&b, d.Carried)
		b.WriteString(render.Plural(d.Carried, " event", " events"))
		b.WriteString(" held back by the alert frequency limit.")
	}
	b.WriteByte('\n')
	if bb.textAdvice != "" {
		b.WriteByte('\n')
		b.WriteString(bb.textAdvice)
	}
	// events
	for i := range d.Events {
		e := &d.Events[i]
		b.WriteString("\n- ")
		b.WriteString(e.Time)
		if e.Score != "" {
			b.WriteString(" | score ")
			b.WriteString(e.Score)
		}
		b.WriteString("\n  ")
		if e.Asset != "" {
			b.WriteString(e.Asset)
			b.WriteString(": ")
		}
		b.WriteString(e.Summary)
		if e.URL != "" {
			b.WriteString("\n  View event: ")
			b.WriteString(e.URL)
		}
		b.WriteByte('\n')
	}
	if d.More != 0 {
		b.WriteString("\nShowing ")
		writeInt(&b, len(d.Events))
		b.WriteString(" of ")
		writeInt(&b, d.Count)
		b.WriteByte(' ')
		b.WriteString(d.Noun)
		b.WriteString("; ")
		writeInt(&b, d.More)
		b.WriteString(" more not shown.")
		if d.MoreURL != "" {
			b.WriteString("\nView more events: ")
			b.WriteString(d.MoreURL)
		}
		b.WriteByte('\n')
	}
	// footer
	b.WriteString("\nTimes are shown in ")
	b.WriteString(d.Zone)
	b.WriteString(".\nYou receive this email because ")
	b.WriteString(d.CategoryName)
	b.WriteString(" are turned on for ")
	b.WriteString(d.Tenant)
	b.WriteString(".\n")
	return b.String()
}

// html returns the HTML part of d with the built-in layout.
func (bb *builtinBody) html(d *ContentData) string {
	const cell = `<td style="padding: 4px 8px;">`
	var h render.HTMLBuilder
	h.Grow(1536 + 512*len(d.Events))
	// head
	h.Markup("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n<title>")
	h.Text(d.Subject)
	h.Markup("</title>\n</head>\n<body style=\"font-family: Arial, Helvetica, sans-serif; color: #1d1d1f; margin: 0; padding: 16px;\">\n")
	if bb.htmlHeading != "" {
		h.Markup(bb.htmlHeading)
	} else {
		h.Markup(`<h1 style="font-size: 20px;">`)
		h.Text(d.CategoryName)
		h.Markup("</h1>")
	}
	// intro
	h.Markup("\n<p>")
	h.Int(d.Count)
	h.Markup(" ")
	h.Text(d.Noun)
	h.Markup(" detected for tenant <strong>")
	h.Text(d.Tenant)
	h.Markup("</strong>.</p>")
	if d.Carried != 0 {
		h.Markup("\n<p>This email includes ")
		h.Int(d.Carried)
		if d.Carried == 1 {
			h.Markup(" event")
		} else {
			h.Markup(" events")
		}
		h.Markup(" held back by the alert frequency limit.</p>")
	}
	h.Markup("\n")
	h.Markup(bb.htmlAdvice)
	// events
	h.Markup(`<table style="border-collapse: collapse; width: 100%;">` + "\n" + `<tr><th align="left" style="padding: 4px 8px;">Detected</th>`)
	if d.Scored {
		h.Markup(`<th align="left" style="padding: 4px 8px;">Score</th>`)
	}
	h.Markup(`<th align="left" style="padding: 4px 8px;">Event</th><th></th></tr>`)
	for i := range d.Events {
		e := &d.Events[i]
		h.Markup("\n<tr>\n" + `<td style="padding: 4px 8px; white-space: nowrap;">`)
		h.Text(e.Time)
		h.Markup("</td>")
		if d.Scored {
			h.Markup("\n" + cell)
			h.Text(e.Score)
			h.Markup("</td>")
		}
		h.Markup("\n" + cell)
		if e.Asset != "" {
			h.Markup("<strong>")
			h.Text(e.Asset)
			h.Markup("</strong>: ")
		}
		h.Text(e.Summary)
		h.Markup("</td>\n" + cell)
		if e.URL != "" {
			h.Markup(`<a href="`)
			h.URL(e.URL)
			h.Markup(`">View event</a>`)
		}
		h.Markup("</td>\n</tr>")
	}
	h.Markup("\n</table>")
	if d.More != 0 {
		h.Markup("\n<p>Showing ")
		h.Int(len(d.Events))
		h.Markup(" of ")
		h.Int(d.Count)
		h.Markup(" ")
		h.Text(d.Noun)
		h.Markup("; ")
		h.Int(d.More)
		h.Markup(" more not shown.</p>")
		if d.MoreURL != "" {
			h.Markup("\n<p><a href=\"")
			h.URL(d.MoreURL)
			h.Markup("\">View more events</a></p>")
		}
	}
	// footer
	h.Markup("\n<p style=\"color: #6e6e73; font-size: 12px;\">Times are shown in ")
	h.Text(d.Zone)
	h.Markup(".<br>\nYou receive this email because ")
	h.Text(d.CategoryName)
	h.Markup(" are turned on for ")
	h.Text(d.Tenant)
	h.Markup(".</p>\n</body>\n</html>\n")
	return h.String()
}

// writeInt writes n in decimal to b without allocating.
func writeInt(b *strings.Builder, n int) {
	var a [20]byte
	b.Write(strconv.AppendInt(a[:0], int64(n), 10))
}
