package smtpnotify

import (
	"bytes"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// headerLineErrors checks the header of a composed message line by line:
// no CR or LF alone, no line over 998 octets, and none over 78 that a
// fold point could have shortened (one that holds more than one
// unfoldable piece after its field name). It returns what is wrong.
func headerLineErrors(data []byte) []string {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	var errs []string
	for i, line := range strings.Split(string(head), "\r\n") {
		switch {
		case strings.ContainsAny(line, "\r\n"):
			errs = append(errs, fmt.Sprintf("line %d %q holds a bare CR or LF", i+1, line))
		case len(line) > 998:
			errs = append(errs, fmt.Sprintf("line %d is %d octets long, over 998", i+1, len(line)))
		case len(line) > maxFoldedLine:
			body := line
			if !isWSP(line[0]) {
				_, body, _ = strings.Cut(line, ":")
			}
			if piece := strings.TrimSuffix(strings.TrimSpace(body), ","); hasFoldPoint(piece) {
				errs = append(errs, fmt.Sprintf("line %d is %d octets long and could be folded: %q", i+1, len(line), line))
			}
		}
	}
	return errs
}

// hasFoldPoint reports whether s holds a single space, outside a quoted
// string, between two other characters.
func hasFoldPoint(s string) bool {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == ' ' && !quoted && i > 0 && i+1 < len(s) && !isWSP(s[i-1]) && !isWSP(s[i+1]):
			return true
		}
	}
	return false
}

func TestHeaderWriter(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64) + "@subsidiary.acme.example"
	tests := []struct {
		name  string
		write func(w *headerWriter)
		want  string
	}{
		{"short list", func(w *headerWriter) { w.addresses("To", "<a@x.example>", "<b@x.example>") },
			"To: <a@x.example>, <b@x.example>\r\n"},
		{"folded at the comma", func(w *headerWriter) {
			w.addresses("To", "<ops@acme.example>", "<ciso@acme.example>", "<a-long-name-for-a-mailbox@acme.example>")
		}, "To: <ops@acme.example>, <ciso@acme.example>,\r\n <a-long-name-for-a-mailbox@acme.example>\r\n"},
		{"address longer than a line", func(w *headerWriter) { w.addresses("To", "<"+long+">", "<b@x.example>") },
			"To: <" + long + ">,\r\n <b@x.example>\r\n"},
		{"quoted name kept whole", func(w *headerWriter) {
			w.addresses("From", `"Acme, Inc. Security Operations Centre, Europe, Middle East and Africa" <alerts@platform.example>`)
		}, "From: \"Acme, Inc. Security Operations Centre, Europe, Middle East and Africa\"\r\n <alerts@platform.example>\r\n"},
		{"unstructured at single spaces", func(w *headerWriter) {
			w.text("Subject", "Active Threat Alerts: 20 events on web-01, web-02, db-01 and  twelve other assets")
		}, "Subject: Active Threat Alerts: 20 events on web-01, web-02, db-01 and  twelve\r\n other assets\r\n"},
		{"encoded words", func(w *headerWriter) { w.text("Subject", "Sécurité: "+strings.Repeat("é", 30)) },
			"Subject:\r\n =?UTF-8?q?S=C3=A9curit=C3=A9:_=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?=\r\n" +
				" =?UTF-8?q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?=\r\n" +
				" =?UTF-8?q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?=\r\n" +
				" =?UTF-8?q?=C3=A9=C3=A9=C3=A9?=\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var w headerWriter
			tt.write(&w)
			assert.Equalf(t, tt.want, string(w.b), "headerWriter wrote %q; want %q", w.b, tt.want)
			assert.Empty(t, headerLineErrors(append(w.b, "\r\n"...)), "header lines")
		})
	}
}

// FuzzComposeRecipients composes messages for arbitrary recipient lists,
// with n more recipients of long local parts and an arbitrary display
// name: whatever compose accepts has no header line over 998 octets, none
// over 78 that could be folded, no bare CR or LF in its header, and a To
// field that net/mail reads back as the recipients, in order.
func FuzzComposeRecipients(f *testing.F) {
	f.Add("ops@acme.example\x1eciso@acme.example", uint16(0), uint8(0), "Security Alerts")
	f.Add("", uint16(1000), uint8(63), "Acme, Inc. Security")
	f.Add("\"a,b\"@acme.example\x1ejürgen@acme.example\x1eOps@Bücher.Example", uint16(25), uint8(110), "Sécurité 🚨")
	f.Add("a@b.example\r\nBcc: x@evil.example\x1ec@d.example", uint16(3), uint8(5), "x\r\ny")
	f.Add("\"a  b\"@acme.example\x1e\"q\\\"x\"@acme.example", uint16(200), uint8(10), strings.Repeat("\"", 256))
	s, err := Config{Host: "relay.example", From: "alerts@platform.example"}.validate()
	require.NoError(f, err, "validate")
	f.Fuzz(func(t *testing.T, list string, n uint16, localLen uint8, name string) {
		var to []string
		if list != "" {
			to = strings.Split(list, "\x1e")
		}
		local := strings.Repeat("x", int(localLen)%64)
		for i := range int(n) % 1200 {
			to = append(to, fmt.Sprintf("%s%d@recipients.acme.example", local, i))
		}
		from := ""
		if name != "" {
			from = (&mail.Address{Name: name, Address: "alerts@platform.example"}).String()
		}
		msg := &alerts.Message{ID: "m-1", From: from, To: to, Subject: "Active Threat Alerts: 3 events",
			Text: "text", Time: time.Unix(0, 0)}
		env, err := s.compose(msg)
		if err != nil {
			return
		}
		for _, e := range headerLineErrors(env.bytes()) {
			t.Errorf("compose(%d recipients, name %q): %s", len(to), name, e)
		}
		m, err := mail.ReadMessage(bytes.NewReader(env.bytes()))
		require.NoErrorf(t, err, "compose(%q) produced an unreadable message:\n%s", to, env.bytes())
		got, err := m.Header.AddressList("To")
		require.NoErrorf(t, err, "compose(%q): To %q does not parse", to, m.Header.Get("To"))
		gotAddrs := make([]string, len(got))
		for i, a := range got {
			gotAddrs[i] = a.Address
		}
		assert.Equalf(t, env.to, gotAddrs, "compose(%q): To reads back as %q; want %q", to, gotAddrs, env.to)
		if name != "" {
			a, err := mail.ParseAddress(m.Header.Get("From"))
			require.NoErrorf(t, err, "compose(name %q): From %q does not parse", name, m.Header.Get("From"))
			assert.Equalf(t, name, a.Name, "compose(name %q): From %q has name %q", name, m.Header.Get("From"), a.Name)
		}
	})
}
