package rendertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/browsertest"
	"github.com/alertmail/alertmail/internal/render"
)

// A View is a viewport an email is checked in: a width in CSS pixels and a
// colour scheme.
type View struct {
	Width  int64
	Scheme browsertest.ColorScheme
}

// String returns the view as a file or test name: "375-light".
func (v View) String() string { return fmt.Sprintf("%d-%s", v.Width, v.Scheme) }

// Views are the views every email is checked in: a phone's width and a
// desktop mail client's, light and dark.
var Views = []View{
	{375, browsertest.Light}, {375, browsertest.Dark},
	{900, browsertest.Light}, {900, browsertest.Dark},
}

// viewHeight is the viewport's height; pages scroll past it.
const viewHeight = 800

// CheckEmail opens the HTML part src in a new tab of b, in view, the way a
// mail client shows it (a "cid:" image replaced by the attachment it
// names, here a generated logo), and checks what a reader meets:
//
//   - the page is no wider than the viewport: no horizontal scrolling;
//   - every link is on screen once scrolled to, not covered by anything
//     (the element at its centre is the link), and a real mouse click
//     there follows it;
//   - every text that is rendered has a contrast of at least 4.5:1 with
//     the background it stands on, both read from the computed styles.
//
// It returns a PNG screenshot of the whole page. The tab fails t if the
// page logs an error or throws.
func CheckEmail(t testing.TB, b *browsertest.Browser, v View, src string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "email.html")
	require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(src, `src="cid:`, `src="`+logoDataURL(t)+`#`)), 0o644), "writing the page")
	p := b.NewPage(t, &browsertest.PageOptions{Width: v.Width, Height: viewHeight, ColorScheme: v.Scheme})
	p.Do(chromedp.Navigate("file://" + path))

	var page struct {
		ScrollWidth, ClientWidth int
		Texts                    []struct{ Text, Color, Background string }
		Links                    int
	}
	require.NoError(t, run(p, chromedp.Evaluate[[]byte](pageScript), &page), "reading the page")
	assert.LessOrEqualf(t, page.ScrollWidth, page.ClientWidth, "%s: the page is %d px wide in a %d px viewport: it scrolls sideways", v, page.ScrollWidth, page.ClientWidth)

	require.NotEmpty(t, page.Texts, "%s: no text rendered", v)
	for _, tx := range page.Texts {
		fg, err1 := parseCSSColor(tx.Color)
		bg, err2 := parseCSSColor(tx.Background)
		if !assert.NoErrorf(t, err1, "%s: the colour of %q", v, tx.Text) || !assert.NoErrorf(t, err2, "%s: the background of %q", v, tx.Text) {
			continue
		}
		c := render.Contrast(fg, bg)
		assert.GreaterOrEqualf(t, c, render.MinContrast, "%s: %q is %s on %s, a contrast of %.2f:1; want at least %.1f:1", v, tx.Text, fg, bg, c, render.MinContrast)
	}

	for i := range page.Links {
		checkLink(t, p, v, i)
	}

	png, err := chromedp.Run(p.Context(), chromedp.FullScreenshot(100)) // quality 100 is PNG
	require.NoErrorf(t, err, "%s: screenshot", v)
	return png
}

// checkLink scrolls link i into view, checks that it shows and that
// nothing covers it, and clicks its centre with the mouse: the click must
// reach the link. The page's click handler records the link and cancels
// the navigation.
func checkLink(t testing.TB, p *browsertest.Page, v View, i int) {
	t.Helper()
	var link struct {
		Href, Text                       string
		X, Y, Width, Height, Left, Right float64
		ClientWidth                      float64
		Hit, Hidden                      bool
	}
	require.NoError(t, run(p, chromedp.Evaluate[[]byte](fmt.Sprintf(linkScript, i)), &link), "reading link %d", i)
	name := fmt.Sprintf("%s: link %q (%s)", v, strings.TrimSpace(link.Text), link.Href)
	assert.Falsef(t, link.Hidden, "%s is hidden", name)
	assert.Truef(t, link.Width > 0 && link.Height > 0, "%s has no size (%v x %v)", name, link.Width, link.Height)
	assert.Truef(t, link.Left >= 0 && link.Right <= link.ClientWidth, "%s is off screen: from %v to %v px in %v px", name, link.Left, link.Right, link.ClientWidth)
	assert.Truef(t, link.Hit, "%s is covered: the element at its centre is not the link", name)
	err := chromedp.Do(p.Context(),
		chromedp.Evaluate[chromedp.Void](`window.__clicked = ""`),
		chromedp.MouseClickXY(link.X, link.Y),
	)
	require.NoErrorf(t, err, "%s: clicking", name)
	got, err := chromedp.Run(p.Context(), chromedp.Evaluate[string](`window.__clicked`))
	require.NoErrorf(t, err, "%s: reading the click", name)
	assert.Equalf(t, link.Href, got, "%s: a click at its centre followed %q", name, got)
}

// run runs a script that returns JSON and decodes it into v.
func run(p *browsertest.Page, a chromedp.Action[[]byte], v any) error {
	raw, err := chromedp.Run(p.Context(), a)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// pageScript installs the click recorder and reads the page: its width,
// every rendered text with its colour and the background it stands on (the
// first ancestor's that is not transparent), and the number of links.
const pageScript = `(() => {
	document.addEventListener('click', e => {
		const a = e.target.closest('a');
		window.__clicked = a ? a.href : '(no link)';
		e.preventDefault();
	}, true);
	const background = el => {
		for (let e = el; e; e = e.parentElement) {
			const c = getComputedStyle(e).backgroundColor;
			if (c !== 'transparent' && !/^rgba\(.*,\s*0\)$/.test(c)) return c;
		}
		return getComputedStyle(document.documentElement).backgroundColor;
	};
	const texts = [];
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n; (n = walker.nextNode());) {
		const text = n.nodeValue.trim();
		if (!text) continue;
		const range = document.createRange();
		range.selectNodeContents(n);
		if (range.getClientRects().length === 0) continue; // not rendered: display none
		const el = n.parentElement, s = getComputedStyle(el);
		if (s.visibility === 'hidden' || s.opacity === '0') continue;
		texts.push({Text: text.slice(0, 60), Color: s.color, Background: background(el)});
	}
	return {
		ScrollWidth: document.documentElement.scrollWidth,
		ClientWidth: document.documentElement.clientWidth,
		Texts: texts,
		Links: document.querySelectorAll('a').length,
	};
})()`

// linkScript scrolls link %d to the middle of the viewport and reads where
// it is and what is at its centre.
const linkScript = `(() => {
	const a = document.querySelectorAll('a')[%d];
	a.scrollIntoView({block: 'center', inline: 'nearest'});
	const r = a.getBoundingClientRect(), s = getComputedStyle(a);
	const x = r.left + r.width / 2, y = r.top + r.height / 2;
	const hit = document.elementFromPoint(x, y);
	return {
		Href: a.href, Text: a.textContent, X: x, Y: y,
		Width: r.width, Height: r.height, Left: r.left, Right: r.right,
		ClientWidth: document.documentElement.clientWidth,
		Hit: hit !== null && a.contains(hit),
		Hidden: s.visibility === 'hidden' || s.display === 'none' || s.opacity === '0',
	};
})()`

// parseCSSColor parses a computed colour, "rgb(r, g, b)", or
// "rgba(r, g, b, 1)"; a translucent colour is an error, since its
// contrast depends on what is under it.
func parseCSSColor(s string) (render.Color, error) {
	inner, ok := strings.CutPrefix(s, "rgb(")
	if !ok {
		inner, ok = strings.CutPrefix(s, "rgba(")
	}
	inner, ok2 := strings.CutSuffix(inner, ")")
	if !ok || !ok2 {
		return render.Color{}, fmt.Errorf("rendertest: colour %q is not rgb()", s)
	}
	parts := strings.Split(inner, ",")
	if len(parts) == 4 {
		if a, err := strconv.ParseFloat(strings.TrimSpace(parts[3]), 64); err != nil || a != 1 {
			return render.Color{}, fmt.Errorf("rendertest: colour %q is translucent", s)
		}
		parts = parts[:3]
	}
	if len(parts) != 3 {
		return render.Color{}, fmt.Errorf("rendertest: colour %q is not rgb()", s)
	}
	var v [3]uint8
	for i, p := range parts {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 8)
		if err != nil {
			return render.Color{}, fmt.Errorf("rendertest: colour %q: %w", s, err)
		}
		v[i] = uint8(n)
	}
	return render.Color{R: v[0], G: v[1], B: v[2]}, nil
}

// logoDataURL returns a data: URL of a PNG logo, what a mail client shows
// for the inline image a cid: URL names.
func logoDataURL(t testing.TB) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{0x6d, 0x28, 0xd9, 0xff})
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img), "encoding the logo")
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}
