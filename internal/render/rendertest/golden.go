package rendertest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/internal/browsertest"
	"github.com/alertmail/alertmail/internal/render"
)

// CheckGolden compares got with the golden file testdata/golden/name, or
// with update writes it there.
func CheckGolden(t testing.TB, name, got string, update bool) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755), "creating the golden directory")
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644), "writing the golden file")
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "reading golden file (run go test -update to create it)")
	assert.Equalf(t, string(want), got, "rendered %s differs from %s (run go test -run Golden -update to accept)", name, path)
}

// goldens returns the golden files testdata/golden/*.ext by name (the file
// name without ext) and content. It fails t when there are none.
func goldens(t testing.TB, ext string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*"+ext))
	require.NoError(t, err, "listing the golden files")
	require.NotEmptyf(t, files, "golden %s files", ext)
	out := make(map[string]string, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoErrorf(t, err, "reading %s", f)
		out[strings.TrimSuffix(filepath.Base(f), ext)] = string(b)
	}
	return out
}

// CheckGoldenHTML reports the [HTMLProblems] of every golden HTML part,
// testdata/golden/*.html.
func CheckGoldenHTML(t testing.TB) {
	t.Helper()
	for name, src := range goldens(t, ".html") {
		assert.Emptyf(t, HTMLProblems(src), "HTMLProblems(%s.html)", name)
	}
}

// CheckGoldenText checks that every line of the golden plain-text parts,
// testdata/golden/*.txt, fits in render.TextWidth columns, but for a word
// too long for any line (a link) and the "Subject:" line the goldens
// start with.
func CheckGoldenText(t testing.TB) {
	t.Helper()
	for name, src := range goldens(t, ".txt") {
		for line := range strings.Lines(src) {
			line = strings.TrimSuffix(line, "\n")
			if strings.HasPrefix(line, "Subject: ") || len(strings.Fields(line)) <= 1 {
				continue
			}
			assert.LessOrEqualf(t, render.Width(line), render.TextWidth, "%s.txt: line %q is wider than %d columns", name, line, render.TextWidth)
		}
	}
}

// CheckGoldensInBrowser runs [CheckEmail] on every golden HTML part,
// testdata/golden/*.html, in every one of [Views], as parallel subtests
// sharing one browser. With update, it writes the screenshots of the
// goldens named in shots to testdata/screenshots/<name>-<view>.png.
func CheckGoldensInBrowser(t *testing.T, shots []string, update bool) {
	t.Helper()
	b := browsertest.New(t)
	for name, src := range goldens(t, ".html") {
		for _, v := range Views {
			t.Run(name+"/"+v.String(), func(t *testing.T) {
				t.Parallel()
				png := CheckEmail(t, b, v, src)
				if update && slices.Contains(shots, name) {
					dir := filepath.Join("testdata", "screenshots")
					require.NoError(t, os.MkdirAll(dir, 0o755), "creating the screenshot directory")
					require.NoError(t, os.WriteFile(filepath.Join(dir, name+"-"+v.String()+".png"), png, 0o644), "writing the screenshot")
				}
			})
		}
	}
}
