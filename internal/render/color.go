package render

import (
	"errors"
	"fmt"
	"math"
)

// ErrColor is wrapped by every error [ParseColor] returns.
var ErrColor = errors.New("render: bad colour")

// A Color is an opaque sRGB colour.
type Color struct{ R, G, B uint8 }

// White and Black are the colours of text on coloured backgrounds.
var (
	White = Color{0xff, 0xff, 0xff}
	Black = Color{}
)

// ParseColor parses a colour written "#rrggbb" (either case), the one form
// every email client reads in both a style and a bgcolor attribute. The
// error wraps [ErrColor] and quotes s.
func ParseColor(s string) (Color, error) {
	if len(s) != 7 || s[0] != '#' {
		return Color{}, fmt.Errorf("%w %q: want #rrggbb", ErrColor, s)
	}
	var v [3]uint8
	for i := range v {
		hi, ok1 := hexValue(s[1+2*i])
		lo, ok2 := hexValue(s[2+2*i])
		if !ok1 || !ok2 {
			return Color{}, fmt.Errorf("%w %q: want #rrggbb", ErrColor, s)
		}
		v[i] = hi<<4 | lo
	}
	return Color{v[0], v[1], v[2]}, nil
}

func hexValue(c byte) (uint8, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// String returns c as "#rrggbb", in lower case.
func (c Color) String() string {
	return string([]byte{'#',
		lowerHex[c.R>>4], lowerHex[c.R&15],
		lowerHex[c.G>>4], lowerHex[c.G&15],
		lowerHex[c.B>>4], lowerHex[c.B&15]})
}

// Luminance returns the relative luminance of c, from 0 (black) to 1
// (white), as WCAG 2 defines it.
func (c Color) Luminance() float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// Contrast returns the WCAG 2 contrast ratio of two colours, from 1 to 21.
// Text needs 4.5 against its background (level AA).
func Contrast(a, b Color) float64 {
	la, lb := a.Luminance(), b.Luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// MinContrast is the contrast ratio every text of the emails keeps with its
// background: WCAG 2 level AA for normal text.
const MinContrast = 4.5
