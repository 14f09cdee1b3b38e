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
// attributes, URL for href, Color for a checked colour), and only
// constants are Markup. The tests check the equivalence against the
// templates themselves on arbitrary data (FuzzContentBuiltin), so the two
// cannot drift apart: a change to a template fails them until this file
// prints the same.
//
// A category uses this layout when neither its body files nor the layout
// files are overridden (see Content.parseTemplates); the subject, when
// subject.txt is not.

// A builtinBody is what the built-in body of one category adds to the
// layout: its heading and the paragraph after the intro.
type builtinBody struct {
	// textHeading is the text part's heading, htmlHeading the HTML
	// part's; empty for the default body, which shows the category's
	// name.
	textHeading string
	htmlHeading string
	// textAdvice is the paragraph after the intro, wrapped for the text
	// part, and htmlAdvice the same for the HTML part; empty for none.
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
			htmlHeading: "Active Threat Alert",
			textAdvice:  "Each event below scored at or over the Active Threat threshold. Open an\nevent to quarantine or delete it, or to kill its process.\n",
			htmlAdvice:  "Each event below scored at or over the Active Threat threshold. Open an event to quarantine or delete it, or to kill its process.",
		},
		Threat: {
			textHeading: "THREAT ALERT",
			htmlHeading: "Threat Alert",
			textAdvice:  "Review these potential or identified threats and act on them before they\nescalate.\n",
			htmlAdvice:  "Review these potential or identified threats and act on them before they escalate.",
		},
		SystemStatus: {
			textHeading: "SYSTEM STATUS ALERT",
			htmlHeading: "System Status Alert",
			textAdvice:  "These changes concern the health, performance or uptime of the platform.\n",
			htmlAdvice:  "These changes concern the health, performance or uptime of the platform.",
		},
		Configuration: {
			textHeading: "CONFIGURATION ALERT",
			htmlHeading: "Configuration Alert",
			textAdvice:  "Check that these configuration changes were intended and that the\nsettings are still consistent.\n",
			htmlAdvice:  "Check that these configuration changes were intended and that the settings are still consistent.",
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

// text returns the plain-text part of d with the built-in layout
// (templates/layout.txt and the body's .txt).
func (bb *builtinBody) text(d *ContentData) string {
	const w = render.TextWidth
	var b strings.Builder
	b.Grow(1024 + 256*len(d.Events))
	render.WrapTo(&b, w, "", "", d.Brand.ProductName)
	b.WriteByte('\n')
	if bb.textHeading != "" {
		b.WriteString(bb.textHeading)
	} else {
		render.WrapTo(&b, w, "", "", d.CategoryName)
	}
	b.WriteString("\n\n")
	// intro
	switch {
	case d.Highest.Band != "":
		render.WrapTo(&b, w, "", "", strconv.Itoa(d.Count), " ", d.Noun, " detected for tenant ", d.Tenant,
			". The highest score is ", d.Highest.Score, " (", d.Highest.Band, ").")
	case d.Highest.Score != "":
		render.WrapTo(&b, w, "", "", strconv.Itoa(d.Count), " ", d.Noun, " detected for tenant ", d.Tenant,
			". The highest score is ", d.Highest.Score, ".")
	default:
		render.WrapTo(&b, w, "", "", strconv.Itoa(d.Count), " ", d.Noun, " detected for tenant ", d.Tenant, ".")
	}
	if d.Carried != 0 {
		b.WriteByte('\n')
		render.WrapTo(&b, w, "", "", "This email includes ", strconv.Itoa(d.Carried), render.Plural(d.Carried, " event", " events"),
			" held back by the alert frequency limit.")
	}
	b.WriteByte('\n')
	if bb.textAdvice != "" {
		b.WriteByte('\n')
		b.WriteString(bb.textAdvice)
	}
	// events
	for i := range d.Events {
		e := &d.Events[i]
		b.WriteByte('\n')
		switch {
		case e.Score == "":
			render.WrapTo(&b, w, "- ", "  ", e.Time)
		case e.Band == "":
			render.WrapTo(&b, w, "- ", "  ", e.Time, " | score ", e.Score)
		default:
			render.WrapTo(&b, w, "- ", "  ", e.Time, " | score ", e.Score, " (", e.Band, ")")
		}
		b.WriteByte('\n')
		// The event's own words wrap under a deeper indent than the
		// email's lines ("  View event: ..."), which they cannot imitate.
		if e.Asset != "" {
			render.WrapTo(&b, w, "  ", "    ", e.Asset, ": ", e.Summary)
		} else {
			render.WrapTo(&b, w, "  ", "    ", e.Summary)
		}
		if e.URL != "" {
			b.WriteByte('\n')
			render.WrapTo(&b, w, "  ", "  ", "View event: ", e.URL)
		}
		b.WriteByte('\n')
	}
	if d.More != 0 {
		b.WriteByte('\n')
		render.WrapTo(&b, w, "", "", "Showing ", strconv.Itoa(len(d.Events)), " of ", strconv.Itoa(d.Count), " ", d.Noun, "; ",
			strconv.Itoa(d.More), " more not shown.")
		if d.MoreURL != "" {
			b.WriteByte('\n')
			render.WrapTo(&b, w, "", "", "View more events: ", d.MoreURL)
		}
		b.WriteByte('\n')
	}
	// footer
	b.WriteByte('\n')
	render.WrapTo(&b, w, "", "", "Times are shown in ", d.Zone, ".")
	b.WriteByte('\n')
	render.WrapTo(&b, w, "", "", "You receive this email because ", d.CategoryName, " are turned on for ", d.Tenant, ".")
	if d.Brand.SettingsURL != "" {
		b.WriteByte('\n')
		render.WrapTo(&b, w, "", "", "Manage email settings: ", d.Brand.SettingsURL)
	}
	if len(d.Brand.Address) != 0 {
		b.WriteByte('\n')
		for _, line := range d.Brand.Address {
			b.WriteByte('\n')
			render.WrapTo(&b, w, "", "", line)
		}
	}
	b.WriteByte('\n')
	return b.String()
}

// The markup of templates/layout.html, in the order the layout prints it.
const (
	headStart = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
		"<meta name=\"color-scheme\" content=\"light dark\">\n<meta name=\"supported-color-schemes\" content=\"light dark\">\n<title>"
	headStyle = "</title>\n<style>\n" +
		":root { color-scheme: light dark; supported-color-schemes: light dark; }\n" +
		"@media (prefers-color-scheme: dark) {\n" +
		".am-page { background: #121214 !important; }\n" +
		".am-card { background: #1f2023 !important; border-right-color: #3a3b40 !important; border-bottom-color: #3a3b40 !important; border-left-color: #3a3b40 !important; }\n" +
		".am-text { color: #ececf1 !important; }\n" +
		".am-muted { color: #b4b6be !important; }\n" +
		".am-rule { border-color: #3a3b40 !important; }\n" +
		"}\n" +
		"@media screen and (max-width: 600px) {\n" +
		".am-outer { padding: 0 !important; }\n" +
		".am-card { border-radius: 0 !important; border-left: 0 !important; border-right: 0 !important; }\n" +
		".am-pad { padding-left: 16px !important; padding-right: 16px !important; }\n" +
		".am-stack { display: block !important; width: 100% !important; box-sizing: border-box; }\n" +
		".am-next { border-top: 0 !important; padding-top: 8px !important; }\n" +
		"}\n" +
		"</style>\n</head>\n" +
		"<body class=\"am-page\" style=\"margin: 0; padding: 0; background: #f2f3f5;\">\n" +
		"<div style=\"display: none; max-height: 0; max-width: 0; overflow: hidden; opacity: 0; mso-hide: all;\">"
	headCard = "</div>\n" +
		"<table role=\"presentation\" class=\"am-page\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"background: #f2f3f5;\">\n" +
		"<tr><td class=\"am-outer\" align=\"center\" style=\"padding: 24px 12px;\">\n" +
		"<table role=\"presentation\" class=\"am-card am-text\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"max-width: 640px; background: #ffffff; border: 1px solid #dcdde1; border-top: 4px solid "
	headBrand = "; border-radius: 8px; color: #1d1d1f; font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; font-size: 15px; line-height: 22px; text-align: left; overflow-wrap: anywhere; word-break: break-word;\">\n" +
		"<tr><td class=\"am-pad\" style=\"padding: 20px 32px 0 32px;\">\n" +
		"<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr>"
	logoStart   = "\n<td style=\"padding: 0 10px 0 0; vertical-align: middle;\"><img src=\""
	productName = "\n<td style=\"vertical-align: middle; font-size: 15px; font-weight: bold;\">"
	headEnd     = "</td>\n</tr></table>\n</td></tr>"

	headingStart = "\n<tr><td class=\"am-pad\" style=\"padding: 16px 32px 0 32px;\">\n" +
		"<h1 style=\"margin: 0; font-size: 22px; line-height: 28px; font-weight: bold;\">"
	headingEnd = "</h1>\n</td></tr>"

	introStart = "\n<tr><td class=\"am-pad\" style=\"padding: 8px 32px 0 32px;\">\n<p style=\"margin: 0;\">"
	carried    = "\n<p style=\"margin: 8px 0 0 0;\">This email includes "
	introEnd   = "\n</td></tr>"

	adviceStart = "\n<tr><td class=\"am-pad\" style=\"padding: 8px 32px 0 32px;\">\n<p class=\"am-muted\" style=\"margin: 0; color: #5a5e66;\">"
	adviceEnd   = "</p>\n</td></tr>"

	eventsStart = "\n<tr><td class=\"am-pad\" style=\"padding: 16px 32px 8px 32px;\">\n" +
		"<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\">"
	badgeCell = "\n<td class=\"am-stack am-rule\" width=\"112\" style=\"width: 112px; padding: 14px 12px 0 0; border-top: 1px solid #dcdde1; vertical-align: top;\">"
	eventCell = " style=\"padding: 14px 0; border-top: 1px solid #dcdde1; vertical-align: top;\">\n" +
		"<p class=\"am-muted\" style=\"margin: 0; color: #5a5e66; font-size: 13px; line-height: 18px;\">"
	eventsEnd = "\n</table>\n</td></tr>"
	moreStart = "\n<tr><td class=\"am-pad\" style=\"padding: 0 32px 8px 32px;\">\n" +
		"<p class=\"am-muted am-rule\" style=\"margin: 0; padding: 14px 0 0 0; border-top: 1px solid #dcdde1; color: #5a5e66;\">Showing "

	badgeStart = "<span style=\"display: inline-block; padding: 2px 8px; border-radius: 4px; background: "
	badgeText  = "; color: #ffffff; font-size: 13px; line-height: 18px; font-weight: bold; white-space: nowrap;\">"

	buttonStart = "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"margin: 12px 0 0 0;\"><tr><td bgcolor=\""
	buttonLink  = "\" style=\"display: inline-block; padding: 9px 18px; border-radius: 6px; color: #ffffff; font-size: 14px; line-height: 20px; font-weight: bold; text-decoration: none;\">"
	buttonEnd   = "</a></td></tr></table>"

	footerStart = "\n<tr><td style=\"padding: 0 0 16px 0; font-size: 0; line-height: 0;\">&nbsp;</td></tr>\n</table>\n" +
		"<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" style=\"max-width: 640px;\">\n" +
		"<tr><td class=\"am-pad am-muted\" style=\"padding: 16px 32px 0 32px; color: #5a5e66; font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; font-size: 12px; line-height: 18px; text-align: left; overflow-wrap: anywhere; word-break: break-word;\">\n" +
		"<p style=\"margin: 0;\">Times are shown in "
	footerSettings = "\n<p style=\"margin: 8px 0 0 0;\"><a class=\"am-muted\" href=\""
	footerEnd      = "\n</td></tr>\n</table>\n</td></tr>\n</table>\n</body>\n</html>\n"
)

// html returns the HTML part of d with the built-in layout
// (templates/layout.html and the body's .html).
func (bb *builtinBody) html(d *ContentData) string {
	var h render.HTMLBuilder
	h.Grow(htmlSize(d))
	// head
	h.Markup(headStart)
	h.Text(d.Subject)
	h.Markup(headStyle)
	h.Text(d.Preheader)
	h.Markup(headCard)
	h.Color(d.Brand.Accent)
	h.Markup(headBrand)
	if d.Brand.LogoURL != "" {
		h.Markup(logoStart)
		h.TrustedURL(d.Brand.LogoURL)
		h.Markup(`" alt="`)
		h.Text(d.Brand.LogoAlt)
		h.Markup(`" width="`)
		h.Int(d.Brand.LogoWidth)
		h.Markup(`" height="`)
		h.Int(d.Brand.LogoHeight)
		h.Markup(`" style="display: block; border: 0;"></td>`)
	}
	h.Markup(productName)
	h.Text(d.Brand.ProductName)
	h.Markup(headEnd)
	// heading
	h.Markup(headingStart)
	if bb.htmlHeading != "" {
		h.Text(bb.htmlHeading)
	} else {
		h.Text(d.CategoryName)
	}
	h.Markup(headingEnd)
	// intro
	h.Markup(introStart)
	h.Int(d.Count)
	h.Markup(" ")
	h.Text(d.Noun)
	h.Markup(" detected for tenant <strong>")
	h.Text(d.Tenant)
	h.Markup("</strong>.")
	if d.Highest.Score != "" {
		h.Markup(" The highest score is ")
		badge(&h, &d.Highest)
		h.Markup(".")
	}
	h.Markup("</p>")
	if d.Carried != 0 {
		h.Markup(carried)
		h.Int(d.Carried)
		if d.Carried == 1 {
			h.Markup(" event")
		} else {
			h.Markup(" events")
		}
		h.Markup(" held back by the alert frequency limit.</p>")
	}
	h.Markup(introEnd)
	if bb.htmlAdvice != "" {
		h.Markup(adviceStart)
		h.Markup(bb.htmlAdvice)
		h.Markup(adviceEnd)
	}
	// events
	h.Markup(eventsStart)
	for i := range d.Events {
		e := &d.Events[i]
		h.Markup("\n<tr>")
		if d.Scored {
			h.Markup(badgeCell)
			if e.Score != "" {
				badge(&h, &e.Severity)
			}
			h.Markup("</td>\n<td class=\"am-stack am-rule am-next\"")
		} else {
			h.Markup("\n<td class=\"am-stack am-rule\"")
		}
		h.Markup(eventCell)
		h.Text(e.Time)
		h.Markup("</p>\n<p style=\"margin: 4px 0 0 0;\">")
		if e.Asset != "" {
			h.Markup("<strong>")
			h.Text(e.Asset)
			h.Markup("</strong>: ")
		}
		h.Text(e.Summary)
		h.Markup("</p>")
		if e.URL != "" {
			h.Markup("\n")
			button(&h, d.Brand.Accent, e.URL, "View event")
		}
		h.Markup("\n</td>\n</tr>")
	}
	h.Markup(eventsEnd)
	if d.More != 0 {
		h.Markup(moreStart)
		h.Int(len(d.Events))
		h.Markup(" of ")
		h.Int(d.Count)
		h.Markup(" ")
		h.Text(d.Noun)
		h.Markup("; ")
		h.Int(d.More)
		h.Markup(" more not shown.</p>")
		if d.MoreURL != "" {
			h.Markup("\n")
			button(&h, d.Brand.Accent, d.MoreURL, "View more events")
		}
		h.Markup("\n</td></tr>")
	}
	// footer
	h.Markup(footerStart)
	h.Text(d.Zone)
	h.Markup(".<br>\nYou receive this email because ")
	h.Text(d.CategoryName)
	h.Markup(" are turned on for ")
	h.Text(d.Tenant)
	h.Markup(".</p>")
	if d.Brand.SettingsURL != "" {
		h.Markup(footerSettings)
		h.URL(d.Brand.SettingsURL)
		h.Markup(`" target="_blank" rel="noopener" style="color: #5a5e66; text-decoration: underline;">Manage email settings</a></p>`)
	}
	if len(d.Brand.Address) != 0 {
		h.Markup("\n<p style=\"margin: 8px 0 0 0;\">")
		for i, line := range d.Brand.Address {
			if i > 0 {
				h.Markup("<br>")
			}
			h.Text(line)
		}
		h.Markup("</p>")
	}
	h.Markup(footerEnd)
	return h.String()
}

// htmlSize returns about the size of the HTML part of d, a little more
// rather than less: growing the buffer would copy it.
func htmlSize(d *ContentData) int {
	n := 6144 + len(d.Brand.LogoURL) + len(d.Brand.SettingsURL) + len(d.MoreURL) + 2*len(d.Tenant)
	for i := range d.Events {
		e := &d.Events[i]
		n += 1280 + len(e.Time) + len(e.Asset) + len(e.Summary) + len(e.URL)
	}
	return n
}

// badge writes the "badge" block of templates/layout.html: the score and
// its band on the band's colour.
func badge(h *render.HTMLBuilder, s *Severity) {
	h.Markup(badgeStart)
	h.Color(s.Color)
	h.Markup(badgeText)
	h.Text(s.Score)
	if s.Band != "" {
		h.Markup(" ")
		h.Text(s.Band)
	}
	h.Markup("</span>")
}

// button writes the "button" block of templates/layout.html: a link
// shown as a button of the accent colour.
func button(h *render.HTMLBuilder, accent, url string, label render.Markup) {
	h.Markup(buttonStart)
	h.Color(accent)
	h.Markup(`" style="border-radius: 6px; background: `)
	h.Color(accent)
	h.Markup(`;"><a href="`)
	h.URL(url)
	h.Markup(`" target="_blank" rel="noopener`)
	h.Markup(buttonLink)
	h.Markup(label)
	h.Markup(buttonEnd)
}

// writeInt writes n in decimal to b without allocating.
func writeInt(b *strings.Builder, n int) {
	var a [20]byte
	b.Write(strconv.AppendInt(a[:0], int64(n), 10))
}
