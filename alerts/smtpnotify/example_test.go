package smtpnotify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/smtpnotify"
)

// relay is a minimal go-smtp backend that prints what it receives; it
// refuses one recipient, if told to.
type relay struct {
	got    chan string
	refuse string
}

func (r relay) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &relaySession{got: r.got, refuse: r.refuse}, nil
}

// listen serves r on a loopback port until stop is called.
func (r relay) listen() (port int, stop func(), err error) {
	srv := smtp.NewServer(r)
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, err
	}
	go srv.Serve(l)
	return l.Addr().(*net.TCPAddr).Port, func() { srv.Close() }, nil
}

type relaySession struct {
	got    chan string
	refuse string
	env    string
}

func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	s.env = "MAIL FROM " + from
	return nil
}
func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == s.refuse {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	s.env += ", RCPT TO " + to
	return nil
}
func (s *relaySession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, m.Body)
	s.got <- fmt.Sprintf("%s\nSubject: %s\nMessage-Id: %s", s.env, m.Header.Get("Subject"), m.Header.Get("Message-Id"))
	return nil
}
func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }

// Sending a rendered alert through a relay. The relay here is an
// in-process go-smtp server on the loopback interface; in production,
// leave Security at its default (STARTTLS) and set Username and Password.
func ExampleNew() {
	got := make(chan string, 1)
	port, stop, err := relay{got: got}.listen()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	n, err := smtpnotify.New(smtpnotify.Config{
		Host:     "127.0.0.1",
		Port:     port,
		Security: smtpnotify.Plaintext,
		From:     "Security Alerts <alerts@platform.example>",
		Retry:    smtpnotify.Retry{MaxAttempts: 3},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := &alerts.Message{
		ID:       "alert-7f3a",
		Tenant:   "acme",
		Category: alerts.ActiveThreat,
		To:       []string{"soc@acme.example"},
		Time:     time.Date(2026, 6, 2, 7, 30, 0, 0, time.UTC),
		Events:   []alerts.Event{{ID: "e1", Score: 9, Asset: "web-01", Summary: "Ransomware behaviour"}},
	}
	if err := new(alerts.Content).Render(msg); err != nil {
		fmt.Println(err)
		return
	}
	if err := n.Notify(context.Background(), msg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-got)
	// Output:
	// MAIL FROM alerts@platform.example, RCPT TO soc@acme.example
	// Subject: Active Threat Alerts: 1 event
	// Message-Id: <alert-7f3a@platform.example>
}

// A recipient the relay refuses does not fail the email for the others:
// Notify returns an *alerts.RefusedError that names it, with the relay's
// reply, and that does not count as a permanent failure.
func ExampleNotifier_Notify_refused() {
	got := make(chan string, 1)
	port, stop, err := relay{got: got, refuse: "gone@acme.example"}.listen()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	n, err := smtpnotify.New(smtpnotify.Config{Host: "127.0.0.1", Port: port, Security: smtpnotify.Plaintext,
		From: `"Acme, Inc. Security" <alerts@platform.example>`})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := &alerts.Message{
		ID:       "alert-7f3b",
		Tenant:   "acme",
		Category: alerts.ActiveThreat,
		To:       []string{"soc@acme.example", "gone@acme.example"},
		Time:     time.Date(2026, 6, 2, 7, 30, 0, 0, time.UTC),
		Events:   []alerts.Event{{ID: "e1", Score: 9, Asset: "web-01", Summary: "Ransomware behaviour"}},
	}
	if err := new(alerts.Content).Render(msg); err != nil {
		fmt.Println(err)
		return
	}
	err = n.Notify(context.Background(), msg)
	var refused *alerts.RefusedError
	if errors.As(err, &refused) {
		fmt.Println("delivered to the others:", refused.Delivered)
		for _, r := range refused.Refused {
			fmt.Println("refused:", r)
		}
	}
	fmt.Println("permanent:", errors.Is(err, alerts.ErrPermanent))
	fmt.Println(<-got)
	// Output:
	// delivered to the others: true
	// refused: gone@acme.example: 550 5.1.1 No such user
	// permanent: false
	// MAIL FROM alerts@platform.example, RCPT TO soc@acme.example
	// Subject: Active Threat Alerts: 1 event
	// Message-Id: <alert-7f3b@platform.example>
}

// Header injection is refused before anything is sent, with an error that
// names the field; secrets never show in a printed configuration.
func ExampleNotifier_Notify_headerInjection() {
	cfg := smtpnotify.Config{
		Host:     "smtp.platform.example",
		Username: "alerts",
		Password: "correct horse battery staple",
		From:     "alerts@platform.example",
	}
	n, err := smtpnotify.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = n.Notify(context.Background(), &alerts.Message{
		ID:      "alert-1",
		To:      []string{"soc@acme.example\r\nBcc: spy@evil.example"},
		Subject: "Active Threat Alerts: 1 event",
		Text:    "…",
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, smtpnotify.ErrHeaderInjection))
	fmt.Println(strings.Contains(fmt.Sprintf("%+v", cfg), "Password:[redacted]"))
	// Output:
	// smtpnotify: Message.To[0] "soc@acme.example\r\nBcc: spy@evil.example": CR, LF or NUL in a header field
	// true
	// true
}
