package smtpnotify

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/jordan-wright/email"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/domain"
)

// maxSubjectLen bounds the subject, so that a word of it without white
// space still fits a header line of 998 octets (RFC 5322 section 2.1.1).
const maxSubjectLen = 900

// envelope is a composed message ready for the SMTP transactions.
type envelope struct {
	id   string // the Message-ID, for logs
	from string
	to   []string
	// data is the message: its parts, written one after the other (the
	// header smtpnotify writes and the rest, or the signed whole), so
	// that composing copies the body once at most.
	data [][]byte
	// utf8 says the header holds a non-ASCII address (RFC 6532), which
	// asks for SMTPUTF8 where the relay offers it.
	utf8 bool
}

// header is what compose puts in a message's header, checked.
type header struct {
	from, fromAddr string   // the From mailbox, formatted, and its address
	replyTo        string   // the Reply-To mailbox, formatted, or ""
	to             []string // the recipients' addresses, each once
	id             string   // the Message-ID, with its angle brackets
	date           time.Time
	dkimDomain     string // d=, when the message is signed
}

// compose validates every field of msg that reaches the wire and returns
// the finished (and, if configured, DKIM-signed) message. Nothing is
// composed unless every field is valid: the composition library copies
// some values into headers as they are.
func (s *settings) compose(msg *alerts.Message) (*envelope, error) {
	if msg == nil {
		return nil, invalid("Message", "", "is nil")
	}
	h, err := s.addresses(msg)
	if err != nil {
		return nil, err
	}
	if err := checkContent(msg); err != nil {
		return nil, err
	}
	if err := s.identify(msg, &h); err != nil {
		return nil, err
	}
	data, utf8, err := s.mime(msg, &h)
	if err != nil {
		return nil, err
	}
	if s.DKIM != nil {
		signed, err := s.sign(data, h.dkimDomain, h.id)
		if err != nil {
			return nil, err
		}
		data = [][]byte{signed}
	}
	return &envelope{id: h.id, from: cmp.Or(s.EnvelopeFrom, h.fromAddr), to: h.to, data: data, utf8: utf8}, nil
}

// size is the length of the message in octets.
func (e *envelope) size() int {
	n := 0
	for _, p := range e.data {
		n += len(p)
	}
	return n
}

// addresses checks the addresses of msg: From (or Config.From), Reply-To
// and To.
func (s *settings) addresses(msg *alerts.Message) (header, error) {
	h := header{from: s.from, fromAddr: s.fromAddr}
	var err error
	if msg.From != "" {
		if h.from, h.fromAddr, err = parseFrom("Message.From", msg.From); err != nil {
			return header{}, err
		}
	}
	if h.from == "" {
		return header{}, invalid("Message.From", "", "is empty and Config.From is not set")
	}
	if msg.ReplyTo != "" {
		if h.replyTo, _, err = parseFrom("Message.ReplyTo", msg.ReplyTo); err != nil {
			return header{}, err
		}
	}
	if h.to, err = parseTo(msg.To); err != nil {
		return header{}, err
	}
	return h, nil
}

// identify checks the ID and DKIMDomain of msg and sets the Message-ID,
// the Date and the signing domain of h, whose addresses are set.
func (s *settings) identify(msg *alerts.Message, h *header) error {
	if err := checkMessageID("Message.ID", msg.ID); err != nil {
		return err
	}
	if msg.DKIMDomain != "" {
		if err := checkDomain("Message.DKIMDomain", msg.DKIMDomain, domain.Host); err != nil {
			return err
		}
	}
	fromDomain := h.fromAddr[strings.LastIndexByte(h.fromAddr, '@')+1:]
	h.id = "<" + msg.ID + "@" + cmp.Or(s.MessageIDDomain, fromDomain) + ">"
	h.dkimDomain = cmp.Or(msg.DKIMDomain, fromDomain)
	h.date = msg.Time
	if h.date.IsZero() {
		h.date = s.Clock.Now()
	}
	return nil
}

// parseTo checks the recipients, bare addresses, and returns them
// normalised, each once.
func parseTo(rcpts []string) ([]string, error) {
	if len(rcpts) == 0 {
		return nil, invalid("Message.To", "", "is empty")
	}
	to := make([]string, 0, len(rcpts))
	var seen map[string]bool // for long lists only
	if len(rcpts) > 16 {
		seen = make(map[string]bool, len(rcpts))
	}
	for i, r := range rcpts {
		addr, err := parseAddress(fmt.Sprintf("Message.To[%d]", i), r)
		if err != nil {
			return nil, err
		}
		if seen[addr] || seen == nil && slices.Contains(to, addr) {
			continue
		}
		if seen != nil {
			seen[addr] = true
		}
		to = append(to, addr)
	}
	return to, nil
}

// checkContent checks that msg was rendered: a subject on one line and a
// body.
func checkContent(msg *alerts.Message) error {
	if err := checkLine("Message.Subject", msg.Subject); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(msg.Subject) == "":
		return invalid("Message.Subject", "", "is empty (was the message rendered?)")
	case len(msg.Subject) > maxSubjectLen:
		return invalid("Message.Subject", msg.Subject, fmt.Sprintf("is longer than %d bytes", maxSubjectLen))
	case msg.Text == "" && msg.HTML == "":
		return invalid("Message.Text", "", "and Message.HTML are empty (was the message rendered?)")
	}
	return nil
}

// mime composes the MIME message of msg under header h, with the
// configured header fields and attachments, and reports whether its
// header holds a non-ASCII address.
//
// The address fields, the Subject and the configured fields are written
// folded by a headerWriter; github.com/jordan-wright/email, which cannot
// fold them, writes the MIME structure, Date and Message-Id. It is given
// no To, Reply-To or Subject, and a From field present without a value,
// which it then leaves out rather than writing its own.
func (s *settings) mime(msg *alerts.Message, h *header) ([][]byte, bool, error) {
	w := headerWriter{b: make([]byte, 0, 256+len(h.to)*(len(h.to[0])+4))}
	w.addresses("From", h.from)
	to := make([]string, len(h.to))
	for i, a := range h.to {
		to[i] = (&mail.Address{Address: a}).String()
	}
	w.addresses("To", to...)
	if h.replyTo != "" {
		w.addresses("Reply-To", h.replyTo)
	}
	w.text("Subject", msg.Subject)
	utf8 := !isASCII(w.b)
	for _, k := range slices.Sorted(maps.Keys(s.Headers)) {
		w.text(textproto.CanonicalMIMEHeaderKey(k), s.Headers[k])
	}

	e := email.NewEmail()
	e.Headers["From"] = []string{}
	e.Text = []byte(msg.Text)
	e.HTML = []byte(msg.HTML)
	e.Headers.Set("Message-Id", h.id)
	e.Headers.Set("Date", h.date.Format(time.RFC1123Z))
	for _, a := range s.Attachments {
		at, err := e.Attach(bytes.NewReader(a.Content), a.Filename, a.ContentType)
		if err != nil {
			return nil, false, fmt.Errorf("smtpnotify: attaching %s: %w", a.Filename, err)
		}
		at.HTMLRelated = a.Inline
	}
	body, err := e.Bytes()
	if err != nil {
		return nil, false, fmt.Errorf("smtpnotify: composing message %s: %w", h.id, err)
	}
	return [][]byte{w.b, body}, utf8, nil
}

// sign prepends a DKIM-Signature header for domain to the message of
// parts data, whose Message-ID is id.
func (s *settings) sign(data [][]byte, domain, id string) ([]byte, error) {
	var signed bytes.Buffer
	signed.Grow((&envelope{data: data}).size() + 1024)
	if err := s.DKIM.SignAs(&signed, &partsReader{parts: slices.Clone(data)}, domain); err != nil {
		// A signer's error names no key material.
		return nil, fmt.Errorf("smtpnotify: DKIM signing message %s as %s: %w", id, domain, err)
	}
	return signed.Bytes(), nil
}

// partsReader reads the parts of a message as one. Its WriteTo, which
// io.Copy prefers, writes them as they are, without a buffer of its own
// (io.MultiReader's takes 32 KiB).
type partsReader struct{ parts [][]byte }

func (r *partsReader) Read(b []byte) (int, error) {
	for len(r.parts) > 0 && len(r.parts[0]) == 0 {
		r.parts = r.parts[1:]
	}
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(b, r.parts[0])
	r.parts[0] = r.parts[0][n:]
	return n, nil
}

func (r *partsReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for len(r.parts) > 0 {
		n, err := w.Write(r.parts[0])
		total += int64(n)
		r.parts[0] = r.parts[0][n:]
		if err != nil {
			return total, err
		}
		r.parts = r.parts[1:]
	}
	return total, nil
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
// "Security Alerts <alerts@platform.example>" or `"Acme, Inc. Security"
// <alerts@platform.example>`, and returns it formatted for a header by
// net/mail (the name quoted, or RFC 2047 encoded when not ASCII) and its
// address.
func parseFrom(field, v string) (formatted, addr string, err error) {
	if err := checkLine(field, v); err != nil {
		return "", "", err
	}
	a, perr := mail.ParseAddress(v)
	if perr != nil {
		return "", "", &FieldError{Field: field, Value: v, Reason: "is not an RFC 5322 mailbox", Err: ErrInvalidField}
	}
	// The name may have been RFC 2047 encoded: check what it decodes to.
	if err := checkLine(field, a.Name); err != nil {
		return "", "", err
	}
	if len(a.Name) > maxNameLen {
		return "", "", &FieldError{Field: field, Value: v, Reason: fmt.Sprintf("display name is longer than %d octets", maxNameLen), Err: ErrInvalidField}
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

// checkDomain checks a name of syntax s that is sent as it is given: in
// ASCII (A-labels), without a trailing dot.
func checkDomain(field, v string, s domain.Syntax) error {
	if err := checkLine(field, v); err != nil {
		return err
	}
	if err := domain.Check(v, s); err != nil {
		return &FieldError{Field: field, Value: v, Reason: "is not a " + s.String() + " name (" + err.Error() + ")", Err: ErrInvalidField}
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
