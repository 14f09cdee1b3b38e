package alerts_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/browsertest"
	"github.com/alertmail/alertmail/internal/render/rendertest"
)

// screenshots are the goldens whose screenshots the README shows, with
// -update written to testdata/screenshots/<name>-<view>.png.
var screenshots = map[string]bool{"active-threat": true}

// TestGoldenInBrowser renders every golden HTML part in headless Chromium
// at 375 and 900 px, light and dark: no horizontal scrolling, every link
// and button visible and clickable, every text at 4.5:1 or more on its
// background (see rendertest.CheckEmail).
func TestGoldenInBrowser(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t)
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.html"))
	require.NoError(t, err, "listing the golden files")
	require.NotEmpty(t, files, "golden HTML files")
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".html")
		src, err := os.ReadFile(file)
		require.NoErrorf(t, err, "reading %s", file)
		for _, v := range rendertest.Views {
			t.Run(name+"/"+v.String(), func(t *testing.T) {
				t.Parallel()
				png := rendertest.CheckEmail(t, b, v, string(src))
				if *updateGolden && screenshots[name] {
					dir := filepath.Join("testdata", "screenshots")
					require.NoError(t, os.MkdirAll(dir, 0o755), "creating the screenshot directory")
					require.NoError(t, os.WriteFile(filepath.Join(dir, name+"-"+v.String()+".png"), png, 0o644), "writing the screenshot")
				}
			})
		}
	}
}
