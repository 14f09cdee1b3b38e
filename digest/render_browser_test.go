package digest_test

import (
	"testing"

	"github.com/alertmail/alertmail/internal/render/rendertest"
)

// TestGoldenInBrowser renders every golden HTML part in headless Chromium
// at 375 and 900 px, light and dark: no horizontal scrolling, every link
// and button visible and clickable, every text at 4.5:1 or more on its
// background (see rendertest.CheckEmail). With -update it writes the
// screenshots of the digest email that the README shows to
// testdata/screenshots.
func TestGoldenInBrowser(t *testing.T) {
	t.Parallel()
	rendertest.CheckGoldensInBrowser(t, []string{"digest"}, *updateGolden)
}
