package render

import (
	"cmp"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
)

// ErrBrand is wrapped by every error [NewBrand] returns.
var ErrBrand = errors.New("render: bad brand")

// Defaults of a [BrandConfig].
const (
	DefaultProductName = "Security alerts"
	DefaultAccentColor = "#0b57d0"
	DefaultLogoSize    = 32
	maxLogoSize        = 600
)

// The palette of the emails, light and dark: every text colour keeps at
// least MinContrast with every background it stands on (TestPalette).
var (
	LightPage  = Color{0xf2, 0xf3, 0xf5} // around the card
	LightCard  = White
	LightText  = Color{0x1d, 0x1d, 0x1f}
	LightMuted = Color{0x5a, 0x5e, 0x66}
	DarkPage   = Color{0x12, 0x12, 0x14}
	DarkCard   = Color{0x1f, 0x20, 0x23}
	DarkText   = Color{0xec, 0xec, 0xf1}
	DarkMuted  = Color{0xb4, 0xb6, 0xbe}
)

// BrandConfig is the branding a host configures: the fields of
// alerts.Brand, which converts to it (see there for their documentation).
type BrandConfig struct {
	ProductName           string
	LogoURL               string
	LogoWidth, LogoHeight int
	LogoAlt               string
	AccentColor           string
	Address               string
	SettingsURL           string
}

// BrandView is a brand ready to print in one tenant's email: the fields
// of alerts.BrandData, which it converts to (see there for their
// documentation).
type BrandView struct {
	ProductName           string
	LogoURL               htmltemplate.URL
	LogoAlt               string
	LogoWidth, LogoHeight int
	Accent                string
	Address               []string
	SettingsURL           string
}

// A Brand is a checked [BrandConfig] with its defaults, from which
// [Brand.View] prints each tenant's. It is safe for concurrent use.
type Brand struct {
	view     BrandView // but SettingsURL
	settings *URL
}

// NewBrand checks cfg and applies its defaults. The error wraps
// [ErrBrand] (and [ErrURL] for a bad SettingsURL) and its message starts
// with the field ("Brand.AccentColor is ..."), for the caller to prefix
// with its config's name.
func NewBrand(cfg BrandConfig) (*Brand, error) {
	bad := func(field, format string, args ...any) (*Brand, error) {
		return nil, &brandError{msg: "Brand." + field + " " + fmt.Sprintf(format, args...)}
	}
	b := &Brand{view: BrandView{
		ProductName: Line(cfg.ProductName),
		LogoAlt:     Line(cfg.LogoAlt),
	}}
	if b.view.ProductName == "" {
		b.view.ProductName = DefaultProductName
	}
	accent, err := ParseColor(cmp.Or(cfg.AccentColor, DefaultAccentColor))
	if err != nil {
		return bad("AccentColor", "is %q; want #rrggbb", cfg.AccentColor)
	}
	if c := Contrast(accent, White); c < MinContrast {
		return bad("AccentColor", "is %q: white text on it has a contrast of %.2f:1; want a darker colour (at least %.1f:1, WCAG AA)", cfg.AccentColor, c, MinContrast)
	}
	b.view.Accent = accent.String()
	if cfg.LogoURL != "" {
		if err := checkLogoURL(cfg.LogoURL); err != nil {
			return bad("LogoURL", "is %q: %v", cfg.LogoURL, err)
		}
		b.view.LogoURL = htmltemplate.URL(cfg.LogoURL) // checked above: https or cid
		if b.view.LogoAlt == "" {
			b.view.LogoAlt = b.view.ProductName
		}
	}
	for _, s := range []struct {
		field string
		v     int
		dst   *int
	}{{"LogoWidth", cfg.LogoWidth, &b.view.LogoWidth}, {"LogoHeight", cfg.LogoHeight, &b.view.LogoHeight}} {
		if s.v < 0 || s.v > maxLogoSize {
			return bad(s.field, "is %d; want 0 (default %d) to %d", s.v, DefaultLogoSize, maxLogoSize)
		}
		*s.dst = cmp.Or(s.v, DefaultLogoSize)
	}
	for line := range strings.Lines(cfg.Address) {
		if l := Line(line); l != "" {
			b.view.Address = append(b.view.Address, l)
		}
	}
	if cfg.SettingsURL != "" {
		if b.settings, err = ParseURL(cfg.SettingsURL, "tenant"); err != nil {
			return nil, &brandError{msg: "Brand.SettingsURL: " + err.Error(), cause: err}
		}
	}
	return b, nil
}

// A brandError names the field of a BrandConfig that is wrong, first, so
// that a caller can prefix its own config's name ("ContentConfig.").
type brandError struct {
	msg   string
	cause error // nil, or the error of ParseURL
}

func (e *brandError) Error() string { return e.msg }

// Unwrap returns ErrBrand and the cause, if any.
func (e *brandError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrBrand}
	}
	return []error{ErrBrand, e.cause}
}

// checkLogoURL accepts an absolute https URL without credentials, or
// "cid:" and a content ID (RFC 2392) of printable ASCII without spaces,
// quotes or angle brackets.
func checkLogoURL(s string) error {
	if id, ok := strings.CutPrefix(s, "cid:"); ok {
		if id == "" {
			return errors.New("no content ID after cid:")
		}
		for i := 0; i < len(id); i++ {
			if c := id[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"'<>()\`, c) >= 0 {
				return fmt.Errorf("content ID holds %q", c)
			}
		}
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.Unwrap(err)
	case u.Scheme != "https":
		return errors.New("want an https URL or cid:<content ID>")
	case u.Host == "":
		return errors.New("no host")
	case u.User != nil:
		return errors.New("user information is not allowed")
	}
	return nil
}

// View returns the brand ready to print in tenant's email, its settings
// link expanded for tenant.
func (b *Brand) View(tenant string) BrandView {
	v := b.view
	v.SettingsURL = b.settings.Expand(func(string) string { return tenant })
	return v
}
