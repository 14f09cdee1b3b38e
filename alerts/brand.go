package alerts

import (
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"unicode/utf8"

	"github.com/alertmail/alertmail/internal/render"
)

// Defaults of a [Brand].
const (
	// DefaultProductName is the name the emails' header shows when
	// [Brand.ProductName] is empty.
	DefaultProductName = render.DefaultProductName
	// DefaultAccentColor is the colour of buttons and links when
	// [Brand.AccentColor] is empty.
	DefaultAccentColor = render.DefaultAccentColor
)

// A Brand is how the alert emails (and the daily digest, package digest)
// show whose product sends them: a header with the product's name and
// logo, an accent colour for buttons and links, and a footer with the
// company's address and a link to the email settings.
//
// The zero value is a plain brand: the header says DefaultProductName, the
// accent is DefaultAccentColor, and the footer has neither address nor
// link. A Brand is a plain value; [NewContent] checks it.
type Brand struct {
	// ProductName is the product's name, shown in the header of every
	// email. Default: DefaultProductName.
	ProductName string
	// LogoURL is the logo shown before the product's name: an https URL
	// (which mail clients may block until the reader allows images), or
	// "cid:" and the content ID of an image sent inside the email. With
	// package smtpnotify, that image is a Config.Attachments entry with
	// Inline set, whose Filename is the content ID: LogoURL
	// "cid:logo.png" shows the attachment named "logo.png". Default: no
	// logo.
	LogoURL string
	// LogoWidth and LogoHeight are the size the logo is shown at, in CSS
	// pixels, at most 600. Zero means 32.
	LogoWidth, LogoHeight int
	// LogoAlt is the logo's alternative text, shown when images are off
	// and read by screen readers. Default: ProductName.
	LogoAlt string
	// AccentColor is the colour of the buttons and links, "#rrggbb". The
	// buttons' white text must keep a contrast ratio of at least 4.5:1 on
	// it (WCAG AA), so a light colour is an error. Default:
	// DefaultAccentColor.
	AccentColor string
	// Address is the company's postal address, shown in the footer; one
	// line per line. Default: none.
	Address string
	// SettingsURL is the link to the page where a tenant manages its
	// alert emails ("Manage email settings" in the footer), an http or
	// https URL template with the placeholder {tenant} (path- or
	// query-escaped where it stands), such as
	// "https://console.example.com/t/{tenant}/settings/email". Default: no
	// link.
	SettingsURL string
}

// BrandData is the [Brand] of one tenant's email, ready to print: in
// [ContentData] and in the digest's template data. Its strings are one
// line each.
//
// It has the fields of the renderers' internal view of a brand, in the
// same order, so that one converts to the other: a change to either
// without the other does not compile.
type BrandData struct {
	// ProductName is the product's name.
	ProductName string
	// LogoURL is the logo's https or cid: URL, empty for none; LogoAlt its
	// alternative text, LogoWidth and LogoHeight its size in CSS pixels.
	// LogoURL is a template.URL because html/template would refuse a cid:
	// URL: it was checked when the Brand was.
	LogoURL               htmltemplate.URL
	LogoAlt               string
	LogoWidth, LogoHeight int
	// Accent is the accent colour of buttons ("#0b57d0").
	Accent string
	// Address holds the lines of the company's address.
	Address []string
	// SettingsURL is the link to the tenant's email settings, empty for
	// none.
	SettingsURL string
}

// A Band is a range of severity scores shown alike: from Min up to the
// next band's Min, a score's badge has the band's Color and its Name
// beside the score (never the colour alone).
type Band struct {
	// Min is the lowest score of the band.
	Min float64
	// Name says what the band means ("Critical"): one line of at most 24
	// characters.
	Name string
	// Color is the badge's colour, "#rrggbb". The badge's white text must
	// keep a contrast ratio of at least 4.5:1 on it (WCAG AA).
	Color string
}

// DefaultBands returns the bands [ContentConfig].Bands defaults to: Low
// from 0, Medium from 4 (the Active Threat threshold), High from 6,
// Critical from 8. Each call returns a new slice.
func DefaultBands() []Band {
	return []Band{
		{Min: 0, Name: "Low", Color: "#5f6368"},
		{Min: 4, Name: "Medium", Color: "#8a5a00"},
		{Min: 6, Name: "High", Color: "#c4320a"},
		{Min: 8, Name: "Critical", Color: "#a8071a"},
	}
}

// maxBandName bounds a band's name, which a badge shows on one line.
const maxBandName = 24

// bands is the checked Bands of a ContentConfig, in order.
type bands []Band

// checkBands checks bs and normalises their colours. The error names the
// field ("ContentConfig.Bands[2].Color").
func checkBands(bs []Band) (bands, error) {
	out := make(bands, len(bs))
	for i, b := range bs {
		field := fmt.Sprintf("ContentConfig.Bands[%d]", i)
		switch {
		case !(b.Min >= MinScore && b.Min <= MaxScore): // NaN too
			return nil, fmt.Errorf("%w: %s.Min is %v; want a score from %v to %v", ErrContent, field, b.Min, MinScore, MaxScore)
		case i > 0 && b.Min <= bs[i-1].Min:
			return nil, fmt.Errorf("%w: %s.Min is %v; want more than the band before (%v)", ErrContent, field, b.Min, bs[i-1].Min)
		case b.Name == "" || render.Line(b.Name) != b.Name || utf8.RuneCountInString(b.Name) > maxBandName:
			return nil, fmt.Errorf("%w: %s.Name is %q; want one line of 1 to %d characters", ErrContent, field, b.Name, maxBandName)
		}
		c, err := render.ParseColor(b.Color)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.Color: %w", ErrContent, field, err)
		}
		if r := render.Contrast(c, render.White); r < render.MinContrast {
			return nil, fmt.Errorf("%w: %s.Color is %q: white text on it has a contrast of %.2f:1; want a darker colour (at least %.1f:1, WCAG AA)",
				ErrContent, field, b.Color, r, render.MinContrast)
		}
		out[i] = Band{Min: b.Min, Name: b.Name, Color: c.String()}
	}
	return out, nil
}

// noBand is the badge colour of a score under every band.
var noBand = render.LightMuted.String()

// severity returns score as the emails show it.
func (bs bands) severity(score float64) Severity {
	s := Severity{Score: strconv.FormatFloat(score, 'f', -1, 64), Color: noBand}
	for i := len(bs) - 1; i >= 0; i-- {
		if score >= bs[i].Min {
			s.Band, s.Color = bs[i].Name, bs[i].Color
			break
		}
	}
	return s
}

// A Severity is a score as the emails show it: the number, the name of
// its band and the badge's colour.
type Severity struct {
	// Score is the score ("7.5"); empty when there is none.
	Score string
	// Band is the name of the score's band ("High"); empty when the
	// score is in no band, or there is no score.
	Band string
	// Color is the badge's colour ("#c4320a"): the band's, or a neutral
	// grey for a score in no band; empty when there is no score.
	Color string
}

// String returns the score and its band as the plain-text part shows
// them, "9.1 (Critical)", or just the score when it is in no band.
func (s Severity) String() string {
	if s.Band == "" {
		return s.Score
	}
	return s.Score + " (" + s.Band + ")"
}
