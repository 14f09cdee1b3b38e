package smtpnotify

import (
	"bytes"
	"cmp"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jordan-wright/email"

	"github.com/alertmail/alertmail/alerts"
)

// maxSubjectLen keeps "Subject: " and the subject on one line of at most
// 998 octets (RFC 5322 section 2.1.1); the composer does not fold.
const maxSubjectLen = 900

// envelope is a composed message ready for the SMTP transaction.
type envelope struct {
	id   string // the Message-ID, for logs
	from string
	to   []string
	data []byte
}

// compose validates every field of msg that reaches the wire and returns
// the finished (and, if configured, DKIM-signed) message. Nothing is
// composed unless every field is valid: the composition library copies
// some values into headers as they are.
func (s *settings) compose(msg *alerts.Message) (*envelope, error) {
	if msg == nil {
		return nil, &FieldError{Field: "Message", Reason: "is nil", Err: ErrInvalidField}
	}
	from, fromAddr := s.from, s.fromAddr
	if msg.From != "" {
		var err error
		if from, fromAddr, err = parseFrom("Message.From", msg.From); err != nil {
			return nil, err
		}
	}
	if from == "" {
		return nil, &FieldError{Field: "Message.From", Reason: "is empty and Config.From is not set", Err: ErrInvalidField}
	}
	var replyTo string
	if msg.ReplyTo != "" {
		var err error
		if replyTo, _, err = parseFrom("Message.ReplyTo", msg.ReplyTo); err != nil {
			return nil, err
		}
	}
	if len(msg.To) == 0 {
		return nil, &FieldError{Field: "Message.To", Reason: "is empty", Err: ErrInvalidField}
	}
	to := make([]string, 0, len(msg.To))
	for i, r := range msg.To {
		addr, err := parseAddress(fmt.Sprintf("Message.To[%d]", i), r)
		if err != nil {
			return nil, err
		}
		to = append(to, addr)
	}
	if err := checkLine("Message.Subject", msg.Subject); err != nil {
		return nil, err
	}
	if strings.TrimSpace(msg.Subject) == "" {
		return nil, &FieldError{Field: "Message.Subject", Reason: "is empty (was the message rendered?)", Err: ErrInvalidField}
	}
	if len(msg.Subject) > maxSubjectLen {
		return nil, &FieldError{Field: "Message.Subject", Value: msg.Subject, Reason: fmt.Sprintf("is longer than %d bytes", maxSubjectLen), Err: ErrInvalidField}
	}
	if msg.Text == "" && msg.HTML == "" {
		return nil, &FieldError{Field: "Message.Text", Reason: "and Message.HTML are empty (was the message rendered?)", Err: ErrInvalidField}
	}
	if err := checkMessageID("Message.ID", msg.ID); err != nil {
		return nil, err
	}
	fromDomain := fromAddr[strings.LastIndexByte(fromAddr, '@')+1:]
	idDomain := cmp.Or(s.MessageIDDomain, fromDomain)
	if msg.DKIMDomain != "" {
		if err := checkDomain("Message.DKIMDomain", msg.DKIMDomain); err != nil {
			return nil, err
		}
	}
	when := msg.Time
	if when.IsZero() {
		when = s.Clock.Now()
	}

	e := email.NewEmail()
	e.From = from
	e.To = to
	if replyTo != "" {
		e.ReplyTo = []string{replyTo}
	}
	e.Subject = msg.Subject
	e.Text = []byte(msg.Text)
	e.HTML = []byte(msg.HTML)
	id := "<" + msg.ID + "@" + idDomain + ">"
	e.Headers.Set("Message-Id", id)
	e.Headers.Set("Date", when.Format(time.RFC1123Z))
	for k, v := range s.Headers {
		e.Headers.Set(k, v)
	}
	for _, a := range s.Attachments {
		at, err := e.Attach(bytes.NewReader(a.Content), a.Filename, a.ContentType)
		if err != nil {
			return nil, fmt.Errorf("smtpnotify: attaching %s: %w", a.Filename, err)
		}
		at.HTMLRelated = a.Inline
	}
	data, err := e.Bytes()
	if err != nil {
		return nil, fmt.Errorf("smtpnotify: composing message %s: %w", id, err)
	}
	if s.DKIM != nil {
		if data, err = s.sign(data, cmp.Or(msg.DKIMDomain, fromDomain), id); err != nil {
			return nil, err
		}
	}
	envFrom := s.EnvelopeFrom
	if envFrom == "" {
		envFrom = fromAddr
	}
	return &envelope{id: id, from: envFrom, to: to, data: data}, nil
}

// sign prepends a DKIM-Signature header for domain to data, the message
// whose Message-ID is id.
func (s *settings) sign(data []byte, domain, id string) ([]byte, error) {
	var signed bytes.Buffer
	signed.Grow(len(data) + 1024)
	if err := s.DKIM.SignAs(&signed, bytes.NewReader(data), domain); err != nil {
		// A signer's error names no key material.
		return nil, fmt.Errorf("smtpnotify: DKIM signing message %s as %s: %w", id, domain, err)
	}
	return signed.Bytes(), nil
}

// checkLine refuses CR, LF and NUL (header injection) and the other
// control characters.
func checkLine(field, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return &FieldError{Field: field, Value: v, Err: ErrHeaderInjection}
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return &FieldError{Field: field, Value: v, Reason: fmt.Sprintf("holds control character %U", r), Err: ErrInvalidField}
		}
	}
	return nil
}

// parseAddress validates a bare recipient address as the settings do.
func parseAddress(field, v string) (string, error) {
	// Checked first: ParseRecipient trims white space, CR and LF included.
	if err := checkLine(field, v); err != nil {
		return "", err
	}
	addr, err := alerts.ParseRecipient(v)
	if err != nil {
		return "", &FieldError{Field: field, Value: v, Err: err}
	}
	return addr, nil
}

// parseFrom validates a mailbox with an optional display name, as in
// "Security Alerts <alerts@platform.example>", and returns it formatted
// for a header (the name encoded as RFC 2047 if needed) and its address.
func parseFrom(field, v string) (formatted, addr string, err error) {
	if err := checkLine(field, v); err != nil {
		return "", "", err
	}
	a, perr := mail.ParseAddress(v)
	if perr != nil {
		return "", "", &FieldError{Field: field, Value: v, Reason: "is not an RFC 5322 mailbox", Err: ErrInvalidField}
	}
	if strings.ContainsAny(a.Name, ",\r\n\x00") {
		// The composer splits address headers at commas.
		return "", "", &FieldError{Field: field, Value: v, Reason: "display name holds a comma", Err: ErrInvalidField}
	}
	if err := checkLine(field, a.Name); err != nil {
		return "", "", err
	}
	norm, err := alerts.ParseRecipient(a.Address)
	if err != nil {
		return "", "", &FieldError{Field: field, Value: v, Err: err}
	}
	a.Address = norm
	return a.String(), norm, nil
}

// checkMessageID checks that id can be the left-hand side of a Message-ID:
// dot-atom text (RFC 5322 section 3.6.4).
func checkMessageID(field, id string) error {
	if id == "" {
		return &FieldError{Field: field, Reason: "is empty; it gives the Message-ID", Err: ErrInvalidField}
	}
	if err := checkLine(field, id); err != nil {
		return err
	}
	if len(id) > 200 || id[0] == '.' || id[len(id)-1] == '.' || strings.Contains(id, "..") {
		return &FieldError{Field: field, Value: id, Reason: "is not a valid Message-ID left-hand side", Err: ErrInvalidField}
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAtext(c) && c != '.' {
			return &FieldError{Field: field, Value: id, Reason: fmt.Sprintf("holds %q, not allowed in a Message-ID", c), Err: ErrInvalidField}
		}
	}
	return nil
}

func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// checkDomain checks a host name: labels of letters, digits, '-' and '_'.
func checkDomain(field, v string) error {
	if err := checkLine(field, v); err != nil {
		return err
	}
	if v == "" || len(v) > 253 {
		return &FieldError{Field: field, Value: v, Reason: "is not a domain name", Err: ErrInvalidField}
	}
	for _, label := range strings.Split(v, ".") {
		if label == "" || len(label) > 63 {
			return &FieldError{Field: field, Value: v, Reason: "is not a domain name", Err: ErrInvalidField}
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return &FieldError{Field: field, Value: v, Reason: "is not a domain name", Err: ErrInvalidField}
			}
		}
	}
	return nil
}

// validFieldName reports whether s is a header field name: printable ASCII
// without ':' (RFC 5322 section 2.2).
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 || s[i] == ':' {
			return false
		}
	}
	return true
}
