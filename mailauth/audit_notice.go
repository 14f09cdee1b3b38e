package mailauth

import (
	"fmt"
	"strings"
	"time"
)

// noticeWidth is the width prose paragraphs of a notice are wrapped at;
// records are never wrapped, since a customer copies them.
const noticeWidth = 72

// Notice returns the plain-text notice for a customer who must change
// something (r.Status.NeedsChange()), and "" for the others: the seed of
// every sender-domain migration notice ("add the platform's servers to your
// SPF record; with a strict DMARC policy, allow-list the platform
// domain"), but with the customer's own application, cut-over date, the
// findings behind its status, and its own fix: the merged SPF record with
// its lookup count, the allow-list entry, the DKIM key record, the
// scheduled-report sender.
//
// The first line is a "Subject: " line; the text ends with a newline.
func (a *Audit) Notice(r *AuditResult) string {
	if !r.Status.NeedsChange() || r.decisive == nil {
		return ""
	}
	n := a.noticeFacts(r)
	var b strings.Builder
	a.writeNoticeOpening(&b, n)
	writeNoticeFindings(&b, n)
	writeNoticeFix(&b, r.Fix)
	if n.d.ReplyTo != "" {
		para(&b, fmt.Sprintf("Until then, the platform sends them from %s, with %s as Reply-To.", n.d.From, n.d.ReplyTo))
	}
	if a.cfg.Contact != "" {
		para(&b, "For any question, reach us at "+a.cfg.Contact+".")
	}
	return strings.TrimSuffix(b.String(), "\n") + "\n"
}

// notice is what a customer's notice is made of.
type notice struct {
	r      *AuditResult
	d      *Decision // the decision behind r.Status
	app    Application
	own    string // the customer's own address the platform will not send as
	domain string // own's domain
	date   string // the cut-over date, "" without a migration
}

// noticeFacts gathers what r's notice says.
func (a *Audit) noticeFacts(r *AuditResult) notice {
	n := notice{r: r, d: r.decisive}
	n.app = Application{ID: n.d.App, Name: string(n.d.App)}
	for _, x := range a.apps {
		if x.ID == n.d.App {
			n.app = x
		}
	}
	n.own = n.d.ReplyTo
	if n.own == "" {
		n.own = r.Customer.From
	}
	n.domain = addressDomain(n.own)
	if m := n.app.Migration; m != nil {
		n.date = noticeDate(m.At)
	}
	return n
}

// writeNoticeOpening writes the Subject line, the salutation and the
// paragraph on what the platform sends from which domain.
func (a *Audit) writeNoticeOpening(b *strings.Builder, n notice) {
	headline := map[AuditStatus]string{
		AuditNeedsSPF:        fmt.Sprintf("authorise %s to send as %s", a.platform, n.domain),
		AuditOverLookupLimit: fmt.Sprintf("the SPF record of %s is over the %d-lookup limit", n.domain, SPFLookupLimit),
		AuditNeedsAllowList:  fmt.Sprintf("allow *@%s at your mail gateway", a.platform),
		AuditReportTrap:      "change the sender of your scheduled reports",
	}[n.r.Status]
	if n.date != "" {
		fmt.Fprintf(b, "Subject: Action needed before %s: %s\n\n", n.date, headline)
	} else {
		fmt.Fprintf(b, "Subject: Action needed: %s\n\n", headline)
	}
	fmt.Fprintf(b, "To the administrators of %s,\n\n", n.r.Customer.Tenant)
	if m := n.app.Migration; m != nil {
		para(b, fmt.Sprintf("From %s, the platform sends %s from %s, the domain dedicated to platform email, instead of %s.", n.date, n.app.Name, m.New, m.Old))
	} else {
		para(b, fmt.Sprintf("The platform sends %s from %s, the domain dedicated to platform email.", n.app.Name, addressDomain(n.d.From)))
	}
}

// writeNoticeFindings writes why the customer's sender does not work, and
// the findings behind it but the migration's.
func writeNoticeFindings(b *strings.Builder, n notice) {
	switch n.r.Status {
	case AuditReportTrap:
		para(b, fmt.Sprintf("Your scheduled reports are configured with the sender %s, but they leave through the platform's mail servers, which %s does not let send as it: DMARC fails at your gateway.", n.own, n.domain))
	case AuditNeedsAllowList:
		para(b, fmt.Sprintf("Your subscription has them sent as %s, which cannot pass DMARC at your gateway when the platform sends them:", n.own))
	default:
		para(b, fmt.Sprintf("Your subscription has them sent as %s. The platform can keep doing so only if the SPF record of %s authorises every platform mail server and the mail passes DMARC at your gateway. Today it would not:", n.own, n.domain))
	}
	for _, f := range n.d.Findings {
		if f.Code != CodeMigration {
			wrap(b, f.Text, "- ", "  ")
		}
	}
}

// writeNoticeFix writes what to change: the fix's prose wrapped, its
// records as they are, since a customer copies them.
func writeNoticeFix(b *strings.Builder, fix *Fix) {
	b.WriteString("\nWhat to change:\n")
	if fix != nil {
		for line := range strings.Lines(fix.String()) {
			if strings.HasPrefix(line, " ") {
				b.WriteString(line)
			} else {
				wrap(b, line, "", "")
			}
		}
	}
	b.WriteString("\n")
}

// noticeDate formats a cut-over instant as a date, with the time when it is
// not midnight.
func noticeDate(t time.Time) string {
	if h, m, s := t.Clock(); h == 0 && m == 0 && s == 0 {
		return t.Format("2 January 2006")
	}
	return t.Format("2 January 2006 15:04 MST")
}

// para writes text as a wrapped paragraph followed by a blank line.
func para(b *strings.Builder, text string) {
	wrap(b, text, "", "")
	b.WriteString("\n")
}

// wrap writes text wrapped at noticeWidth, the first line after first and
// the others after rest.
func wrap(b *strings.Builder, text, first, rest string) {
	line := first
	empty := true
	for _, w := range strings.Fields(text) {
		if !empty && len(line)+1+len(w) > noticeWidth {
			b.WriteString(line + "\n")
			line, empty = rest, true
		}
		if !empty {
			line += " "
		}
		line += w
		empty = false
	}
	b.WriteString(line + "\n")
}
