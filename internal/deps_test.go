// Package internal_test checks the module's dependency directions: which
// of its packages may import which, as the design card draws them.
package internal_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A goPackage is what go list says of one package of the module.
type goPackage struct {
	ImportPath string
	Deps       []string // every package it imports, directly or not
}

// modulePackages lists the packages of the module (not their tests: the
// test files' imports are not in Deps), with their import paths and deps
// relative to the module path: "mailauth/spf", "internal/domain".
func modulePackages(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m").Output()
	require.NoErrorf(t, err, "go list -m: %v", err)
	mod := strings.TrimSpace(string(out))
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps", mod+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	require.NoErrorf(t, err, "go list -json %s/...: %v\n%s", mod, err, stderr.String())
	pkgs := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		var deps []string
		for _, d := range p.Deps {
			if rel, ok := strings.CutPrefix(d, mod+"/"); ok {
				deps = append(deps, rel)
			}
		}
		pkgs[strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")] = deps
	}
	return pkgs
}

// isInternal reports whether pkg is under an internal directory.
func isInternal(pkg string) bool {
	return strings.HasPrefix(pkg, "internal/") || strings.Contains(pkg, "/internal/")
}

// isTestHelper reports whether pkg is a test-helper package (alertstest,
// mailauthtest, internal/storetest, ...), named after what it helps test.
func isTestHelper(pkg string) bool { return strings.HasSuffix(path.Base(pkg), "test") }

// under returns whether pkg is root or below it.
func under(root string) func(string) bool {
	return func(pkg string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }
}

// TestDependencyDirections checks, with go list, that the RFC packages
// stand alone as go-msgauth's do, that mailauth does not depend on alerts,
// and that no production package depends on a test helper.
func TestDependencyDirections(t *testing.T) {
	t.Parallel()
	pkgs := modulePackages(t)
	rfc := []string{"mailauth/spf", "mailauth/dmarc", "mailauth/dkim"}
	tests := []struct {
		name      string
		applies   func(pkg string) bool // the packages the rule is about
		forbidden func(dep string) bool // the module packages they must not import
		want      []string              // packages that must exist, so the rule is not vacuous
	}{
		{
			name:      "RFC packages import nothing of the module but internal/…",
			applies:   func(pkg string) bool { return slices.Contains(rfc, pkg) },
			forbidden: func(dep string) bool { return !isInternal(dep) },
			want:      rfc,
		},
		{
			name:      "mailauth does not import alerts",
			applies:   under("mailauth"),
			forbidden: under("alerts"),
			want:      []string{"mailauth", "alerts"},
		},
		{
			name:      "no production package imports a test helper",
			applies:   func(pkg string) bool { return !isTestHelper(pkg) },
			forbidden: isTestHelper,
			want:      []string{"mailauth/mailauthtest", "alerts/alertstest"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, w := range tt.want {
				assert.Containsf(t, pkgs, w, "go list does not know %s; the rule would check nothing", w)
			}
			for pkg, deps := range pkgs {
				if !tt.applies(pkg) {
					continue
				}
				for _, dep := range deps {
					assert.Falsef(t, tt.forbidden(dep), "%s imports %s (directly or not): %s", pkg, dep, tt.name)
				}
			}
		})
	}
}
