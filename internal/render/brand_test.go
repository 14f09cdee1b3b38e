package render

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewBrandDefaults(t *testing.T) {
	t.Parallel()
	b, err := NewBrand(BrandConfig{})
	require.NoError(t, err, "NewBrand(zero)")
	want := BrandView{ProductName: DefaultProductName, Accent: DefaultAccentColor, LogoWidth: DefaultLogoSize, LogoHeight: DefaultLogoSize}
	assert.Equal(t, want, b.View("acme"), "View of the zero brand")
}

func TestNewBrand(t *testing.T) {
	t.Parallel()
	b, err := NewBrand(BrandConfig{
		ProductName: " Acme\r\nSecurity ",
		LogoURL:     "cid:logo.png",
		LogoWidth:   96,
		AccentColor: "#6D28D9",
		Address:     "Acme Inc.\n\n 1 Example Street \r\nSpringfield",
		SettingsURL: "https://console.example.com/t/{tenant}/settings",
	})
	require.NoError(t, err, "NewBrand")
	want := BrandView{
		ProductName: "Acme Security",
		LogoURL:     "cid:logo.png",
		LogoAlt:     "Acme Security",
		LogoWidth:   96,
		LogoHeight:  DefaultLogoSize,
		Accent:      "#6d28d9",
		Address:     []string{"Acme Inc.", "1 Example Street", "Springfield"},
		SettingsURL: "https://console.example.com/t/a%2Fb/settings",
	}
	assert.Equal(t, want, b.View("a/b"), "View")
}

func TestNewBrandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  BrandConfig
		want string
	}{
		{"accent syntax", BrandConfig{AccentColor: "blue"}, "Brand.AccentColor"},
		{"accent too light", BrandConfig{AccentColor: "#7aa7ff"}, "Brand.AccentColor is \"#7aa7ff\": white text on it has a contrast of"},
		{"logo scheme", BrandConfig{LogoURL: "javascript:alert(1)"}, "Brand.LogoURL"},
		{"logo http", BrandConfig{LogoURL: "http://cdn.example.com/logo.png"}, "Brand.LogoURL"},
		{"logo user", BrandConfig{LogoURL: "https://u:p@cdn.example.com/logo.png"}, "user information"},
		{"logo no host", BrandConfig{LogoURL: "https:///logo.png"}, "no host"},
		{"logo empty cid", BrandConfig{LogoURL: "cid:"}, "no content ID"},
		{"logo cid quote", BrandConfig{LogoURL: `cid:a"b`}, "content ID holds"},
		{"logo cid space", BrandConfig{LogoURL: "cid:a b"}, "content ID holds"},
		{"logo width", BrandConfig{LogoWidth: -1}, "Brand.LogoWidth is -1"},
		{"logo height", BrandConfig{LogoHeight: 601}, "Brand.LogoHeight is 601"},
		{"settings url", BrandConfig{SettingsURL: "https://c.example/{user}"}, "Brand.SettingsURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := NewBrand(tt.cfg)
			assert.Nilf(t, b, "NewBrand(%s) returned a brand", tt.name)
			assert.ErrorIsf(t, err, ErrBrand, "NewBrand(%s) = %v; want an ErrBrand", tt.name, err)
			assert.ErrorContainsf(t, err, tt.want, "NewBrand(%s) = %v; want %q", tt.name, err, tt.want)
		})
	}
	_, err := NewBrand(BrandConfig{SettingsURL: "ftp://c.example/"})
	assert.ErrorIsf(t, err, ErrURL, "NewBrand(ftp settings URL) = %v; want the ErrURL too", err)
}
