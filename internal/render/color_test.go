package render

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseColor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Color
		ok   bool
	}{
		{"#0b57d0", Color{0x0b, 0x57, 0xd0}, true},
		{"#FFFFFF", White, true},
		{"#000000", Black, true},
		{"0b57d0", Color{}, false},
		{"#0b57d", Color{}, false},
		{"#0b57dg", Color{}, false},
		{"red", Color{}, false},
		{"#0b57d0;background:url(x)", Color{}, false},
	}
	for _, tt := range tests {
		got, err := ParseColor(tt.in)
		if tt.ok {
			require.NoErrorf(t, err, "ParseColor(%q)", tt.in)
			assert.Equalf(t, tt.want, got, "ParseColor(%q)", tt.in)
		} else {
			assert.ErrorIsf(t, err, ErrColor, "ParseColor(%q) = %v; want an ErrColor", tt.in, err)
		}
	}
	assert.Equal(t, "#0b57d0", Color{0x0b, 0x57, 0xd0}.String(), "String")
}

func TestContrast(t *testing.T) {
	t.Parallel()
	assert.InDelta(t, 21, Contrast(White, Black), 1e-9, "Contrast(white, black)")
	assert.InDelta(t, 1, Contrast(White, White), 1e-9, "Contrast(white, white)")
	// The WCAG example: #767676 on white is the lightest grey at 4.5:1.
	grey, _ := ParseColor("#767676")
	assert.InDelta(t, 4.54, Contrast(grey, White), 0.01, "Contrast(#767676, white)")
	assert.Equal(t, Contrast(grey, White), Contrast(White, grey), "Contrast is symmetric")
}

// TestPalette checks every pair of text and background colours the
// layouts use, light and dark: each keeps MinContrast.
func TestPalette(t *testing.T) {
	t.Parallel()
	pairs := []struct {
		name     string
		text, bg Color
	}{
		{"light text on card", LightText, LightCard},
		{"light text on page", LightText, LightPage},
		{"light muted on card", LightMuted, LightCard},
		{"light muted on page", LightMuted, LightPage},
		{"dark text on card", DarkText, DarkCard},
		{"dark text on page", DarkText, DarkPage},
		{"dark muted on card", DarkMuted, DarkCard},
		{"dark muted on page", DarkMuted, DarkPage},
		{"button text on the default accent", White, mustColor(t, DefaultAccentColor)},
	}
	for _, p := range pairs {
		assert.GreaterOrEqualf(t, Contrast(p.text, p.bg), MinContrast, "%s: %s on %s", p.name, p.text, p.bg)
	}
}

func mustColor(t *testing.T, s string) Color {
	t.Helper()
	c, err := ParseColor(s)
	require.NoErrorf(t, err, "ParseColor(%q)", s)
	return c
}
