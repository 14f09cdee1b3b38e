package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/alertmail/alertmail/alerts"
)

// An email is one message the outbox received: what the SDK composed
// (alerts.Message) and what arrived over SMTP.
type email struct {
	N          int // 1, 2, ... in the order received
	Time       time.Time
	Tenant     string
	Kind       string // the category's name, or "Daily digest"
	Subject    string
	From       string
	To         []string
	MessageID  string   // the Message-ID header
	Events     int      // the events the email covers
	Carried    int      // of them, the ones the frequency limit held back
	Header     []header // as received, in order
	Text, HTML string   // the rendered bodies
	Raw        []byte   // the message as received
}

// A header is one header field as received, unfolded.
type header struct{ Name, Value string }

// outbox is the console's mail relay: an SMTP server on loopback that
// keeps what it receives, and the notifier wrapper that pairs each
// received message with the alerts.Message it came from.
type outbox struct {
	server   *smtp.Server
	listener net.Listener
	catalog  *alerts.Catalog
	clock    alerts.Clock

	mu       sync.Mutex
	received map[string][]byte // raw messages by the local part of their Message-ID, until recorded
	emails   []*email
}

// newOutbox starts the SMTP server on a free loopback port.
func newOutbox(catalog *alerts.Catalog, clock alerts.Clock) (*outbox, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("console: the outbox's SMTP server: %w", err)
	}
	o := &outbox{listener: ln, catalog: catalog, clock: clock, received: map[string][]byte{}}
	o.server = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{o: o}, nil }))
	o.server.Domain = "outbox.console.localhost"
	o.server.ReadTimeout = 30 * time.Second
	o.server.WriteTimeout = 30 * time.Second
	go o.server.Serve(ln)
	return o, nil
}

// Port is the SMTP server's port.
func (o *outbox) Port() int { return o.listener.Addr().(*net.TCPAddr).Port }

// Close stops the SMTP server.
func (o *outbox) Close() error { return o.server.Close() }

// session is one SMTP connection; it keeps the messages' data.
type session struct{ o *outbox }

func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Data(r io.Reader) error               { return s.o.receive(r) }
func (o *outbox) receive(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unparsable message: " + err.Error()}
	}
	id, _, _ := strings.Cut(strings.Trim(m.Header.Get("Message-Id"), "<>"), "@")
	o.mu.Lock()
	defer o.mu.Unlock()
	o.received[id] = raw
	return nil
}

// notifier wraps the SMTP backend: once it has sent a message, the outbox
// records it with what the SDK knew of it.
func (o *outbox) notifier(next alerts.Notifier) alerts.Notifier {
	return alerts.NotifierFunc(func(ctx context.Context, msg *alerts.Message) error {
		if err := next.Notify(ctx, msg); err != nil {
			return err
		}
		return o.record(msg)
	})
}

// record pairs msg with the raw message the server received for it.
func (o *outbox) record(msg *alerts.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	raw, ok := o.received[msg.ID]
	if !ok {
		return errors.New("console: the outbox received nothing for message " + msg.ID)
	}
	delete(o.received, msg.ID)
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil { // receive parsed it already
		return err
	}
	e := &email{
		N:         len(o.emails) + 1,
		Time:      o.clock.Now(),
		Tenant:    msg.Tenant,
		Kind:      "Daily digest",
		Subject:   msg.Subject,
		From:      m.Header.Get("From"),
		To:        slices.Clone(msg.To),
		MessageID: m.Header.Get("Message-Id"),
		Events:    len(msg.Events),
		Carried:   msg.Carried,
		Header:    headers(raw),
		Text:      msg.Text,
		HTML:      msg.HTML,
		Raw:       raw,
	}
	if msg.Category != "" {
		e.Kind = string(msg.Category)
		if c, ok := o.catalog.Lookup(msg.Category); ok {
			e.Kind = c.Name
		}
	}
	o.emails = append(o.emails, e)
	return nil
}

// headers returns the header fields of raw in their order, unfolded.
func headers(raw []byte) []header {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var hs []header
	for line := range strings.SplitSeq(string(head), "\r\n") {
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(hs) > 0 {
			hs[len(hs)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		hs = append(hs, header{Name: name, Value: strings.TrimSpace(value)})
	}
	return hs
}

// Emails returns the emails received, newest first.
func (o *outbox) Emails() []*email {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := slices.Clone(o.emails)
	slices.Reverse(out)
	return out
}

// Email returns email number n.
func (o *outbox) Email(n int) (*email, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n < 1 || n > len(o.emails) {
		return nil, false
	}
	return o.emails[n-1], true
}
