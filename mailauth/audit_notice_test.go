package mailauth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAuditNoticeGolden checks the notice of each customer kind that must
// change something against its golden file, and that the others get none.
func TestAuditNoticeGolden(t *testing.T) {
	t.Parallel()
	a, results := goldenResults(t)
	w := newAuditWorld(len(auditKinds), true)
	for _, r := range results {
		kind := w.kinds[r.Customer.Tenant].name
		got := a.Notice(r)
		if !r.Status.NeedsChange() {
			assert.Emptyf(t, got, "Audit.Notice(%s, a %s customer)", r.Status, kind)
			continue
		}
		assert.Truef(t, strings.HasPrefix(got, "Subject: Action needed"), "Audit.Notice(%s) = %q; want a Subject line first", kind, got)
		for _, line := range strings.Split(got, "\n") {
			if !strings.HasPrefix(line, "Subject: ") && !strings.Contains(line, " IN TXT ") {
				assert.LessOrEqualf(t, len(line), 72, "Audit.Notice(%s) line %q is over 72 columns", kind, line)
			}
		}
		golden(t, "notice-"+kind+".txt", []byte(got))
	}
}
