package smtpnotify

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/internal/domain"
)

// Security is how a connection to the relay is protected.
type Security string

const (
	// StartTLS connects in plain text and upgrades with STARTTLS before
	// anything else is sent; a relay that does not offer STARTTLS is an
	// error. It is the default, on port 587.
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte, on port 465.
	ImplicitTLS Security = "tls"
	// Plaintext sends everything in the clear, on port 25: for a relay on
	// the same host or a test server only.
	Plaintext Security = "none"
)

// Defaults of [Config].
const (
	DefaultDialTimeout       = 10 * time.Second
	DefaultCommandTimeout    = 30 * time.Second
	DefaultSubmissionTimeout = time.Minute
	DefaultAttemptTimeout    = 90 * time.Second
	DefaultInitialBackoff    = time.Second
	DefaultMaxBackoff        = time.Minute
	DefaultHelloName         = "localhost"
	// DefaultMaxRecipients is the number of recipients every relay must
	// accept in one transaction (RFC 5321 section 4.5.3.1.8).
	DefaultMaxRecipients = 100
)

// maxNameLen bounds a display name, so that its header line stays within
// 998 octets even where it cannot be folded (inside a quoted string).
const maxNameLen = 256

// Config configures [New]. Host is required; every other field has a
// working zero value, stated in its doc. Formatting a Config (%v, %+v, %#v,
// a log attribute) never shows the password or the DKIM signer's key.
type Config struct {
	// Host is the relay's host name or IP address. Required. It is also the
	// name the server certificate is verified against (unless TLSConfig
	// sets ServerName).
	Host string
	// Port is the relay's TCP port. Default: 587 for StartTLS, 465 for
	// ImplicitTLS, 25 for Plaintext.
	Port int
	// Security is how the connection is protected. Default: StartTLS.
	Security Security
	// TLSConfig is the TLS configuration; it is cloned, never modified.
	// Default: the system roots, server name Host, TLS 1.2 or later.
	TLSConfig *tls.Config

	// Username and Password are the AUTH credentials; no AUTH when Username
	// is empty. PLAIN is used when the relay offers it, LOGIN otherwise.
	Username string
	Password Secret
	// AllowInsecureAuth allows AUTH on a connection without TLS, which
	// sends the password in the clear. It is accepted only when Host is a
	// loopback address or "localhost" (a relay on the same machine).
	// Default: false, AUTH without TLS is refused before the credentials
	// are sent.
	AllowInsecureAuth bool

	// From is the sender address used when a message has none, such as
	// "alerts@platform.example", "Security Alerts <alerts@platform.example>"
	// or `"Acme, Inc. Security" <alerts@platform.example>`. The display name
	// (at most 256 octets) is kept: quoted when it holds specials, RFC 2047
	// encoded when it is not ASCII. Default: none; a message without From
	// is then an error.
	From string
	// EnvelopeFrom is the SMTP return path (MAIL FROM). Default: the
	// address of the message's From.
	EnvelopeFrom string
	// MessageIDDomain is the right-hand side of Message-ID headers,
	// "<Message.ID@MessageIDDomain>". Default: the domain of the From
	// address.
	MessageIDDomain string
	// HelloName is the name sent with EHLO. With StartTLS, the EHLO
	// before STARTTLS, which only asks whether the relay offers it, says
	// "localhost" (go-smtp's client does not let it be set); the one over
	// TLS says HelloName. Default: DefaultHelloName.
	HelloName string
	// Headers are extra header fields added to every message (List-Id,
	// X-Mailer...). Names must be valid field names and may not be one the
	// notifier sets (From, To, Cc, Bcc, Reply-To, Subject, Date,
	// Message-Id, MIME-Version, Content-*, DKIM-Signature). Default: none.
	Headers map[string]string
	// Attachments are added to every message, such as a logo the HTML part
	// shows inline (Inline true, referenced as "cid:<Filename>").
	// Default: none.
	Attachments []Attachment
	// DKIM signs every message when not nil, as the message's DKIMDomain
	// (the domain of its From address when empty): a *dkim.Signer of
	// github.com/alertmail/alertmail/mailauth/dkim, whose key must be
	// published under every domain the messages sign as. Default: no
	// signature.
	DKIM Signer

	// MaxRecipients is the most recipients of one SMTP transaction: a
	// message with more goes out in several transactions of the same bytes
	// (same Message-ID), each to a share of them. A relay that announces a
	// lower limit (LIMITS RCPTMAX, RFC 9422) or answers 452 "too many
	// recipients" gets fewer. Default: DefaultMaxRecipients.
	MaxRecipients int

	// DialTimeout bounds connecting, TLS handshake included. Default:
	// DefaultDialTimeout. The context's deadline applies too.
	DialTimeout time.Duration
	// CommandTimeout bounds each SMTP command and its reply, and the
	// writing of the message data. Default: DefaultCommandTimeout.
	CommandTimeout time.Duration
	// SubmissionTimeout bounds the wait for the relay's reply once the
	// message data is sent (RFC 5321 section 4.5.3.2.6 suggests 10
	// minutes; relays that scan content take a while). Default:
	// DefaultSubmissionTimeout.
	SubmissionTimeout time.Duration
	// AttemptTimeout bounds one attempt as a whole: connecting, every
	// transaction and QUIT, whatever the number of recipients. With Retry
	// it bounds Notify (see [Notifier.MaxDuration]). Default:
	// DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Retry says whether and how failed sends are retried. Default: no
	// retry.
	Retry Retry

	// Clock gives the Date header of messages without a Time. Default:
	// alerts.SystemClock.
	Clock alerts.Clock
	// Logger receives one record per failed attempt and retry (Warn), and
	// one per message delivered (Debug); never a secret, never an
	// address. Default: nil, quiet.
	Logger *slog.Logger
	// MeterProvider gives the Notifier's metrics: the duration of each
	// Notify by result and reply-code class, and the recipients refused.
	// Default: none, the no-op provider; never the global one.
	MeterProvider metric.MeterProvider
	// TracerProvider gives each Notify a span (alertmail.smtp.send) when
	// the context carries a recording span, as the Dispatcher's Notify
	// span is. Default: none, the no-op provider; never the global one.
	TracerProvider trace.TracerProvider
}

// Retry configures retries of failed sends within one Notify. Only
// temporary failures are retried: a 4xx reply, a network error or a
// timeout of the notifier's own; a retry goes only to the recipients the
// message has not reached yet. A 5xx reply, invalid input and the
// context's end are returned at once.
// Between attempts the notifier waits an exponentially growing backoff
// (InitialBackoff, doubled each time, at most MaxBackoff) with jitter (a
// random part of up to half of it), and gives up early when the context
// ends.
type Retry struct {
	// MaxAttempts is the number of attempts, the first included. Default:
	// 0 or 1, no retry.
	MaxAttempts int
	// InitialBackoff is the wait before the second attempt. Default:
	// DefaultInitialBackoff.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between attempts. Default: DefaultMaxBackoff.
	MaxBackoff time.Duration
}

// An Attachment is a file added to every message.
type Attachment struct {
	// Filename names the file, printable ASCII without quotes, backslashes
	// or angle brackets (it goes into the Content-Disposition and
	// Content-ID headers). Required.
	Filename string
	// ContentType is the media type, such as "image/png". Default:
	// application/octet-stream.
	ContentType string
	// Content is the file's content.
	Content []byte
	// Inline makes the file a part of the HTML body (multipart/related),
	// referenced from the HTML as "cid:" + Filename.
	Inline bool
}

// reservedHeaders are the fields the notifier sets itself.
var reservedHeaders = []string{"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version", "dkim-signature", "sender", "return-path"}

// settings is a validated Config with its defaults applied.
type settings struct {
	Config
	addr     string
	tls      *tls.Config
	from     string // the default From header value, formatted
	fromAddr string
	loopback bool
	backoff  Retry
}

// validate returns cfg checked and with its defaults applied, or a
// *FieldError naming the first bad field.
func (cfg Config) validate() (*settings, error) {
	// Deep enough a copy that changing the caller's slice or map after New
	// cannot bypass the checks below.
	cfg.Headers = maps.Clone(cfg.Headers)
	cfg.Attachments = slices.Clone(cfg.Attachments)
	s := &settings{Config: cfg}
	for _, step := range []func() error{
		s.validateHost, s.validateTransport, s.validateAuth, s.validateSender,
		s.validateHeaders, s.validateAttachments, s.validateRecipients, s.validateTimeouts, s.validateRetry,
	} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if s.Clock == nil {
		s.Clock = alerts.SystemClock{}
	}
	return s, nil
}

// invalid is the error about a field that is malformed or missing.
func invalid(field, value, reason string) error {
	return &FieldError{Field: field, Value: value, Reason: reason, Err: ErrInvalidField}
}

// notNegative refuses a negative count or duration.
func notNegative[T int | time.Duration](field string, v T) error {
	if v < 0 {
		return invalid(field, fmt.Sprint(v), "is negative")
	}
	return nil
}

// validateHost checks Host and notes whether the relay is on this
// machine.
func (s *settings) validateHost() error {
	if s.Host == "" {
		return invalid("Config.Host", "", "is required")
	}
	if err := checkLine("Config.Host", s.Host); err != nil {
		return err
	}
	ip := net.ParseIP(s.Host)
	if strings.ContainsAny(s.Host, " /@:") && ip == nil {
		return invalid("Config.Host", s.Host, "is not a host name or IP address")
	}
	s.loopback = strings.EqualFold(s.Host, "localhost") || (ip != nil && ip.IsLoopback())
	return nil
}

// validateTransport checks Security and Port, applies their defaults and
// sets the address and the TLS configuration; validateHost has run.
func (s *settings) validateTransport() error {
	switch s.Security {
	case "":
		s.Security = StartTLS
	case StartTLS, ImplicitTLS, Plaintext:
	default:
		return invalid("Config.Security", string(s.Security), `want "starttls", "tls" or "none"`)
	}
	if s.Port == 0 {
		s.Port = map[Security]int{StartTLS: 587, ImplicitTLS: 465, Plaintext: 25}[s.Security]
	}
	if s.Port < 1 || s.Port > 65535 {
		return invalid("Config.Port", fmt.Sprint(s.Port), "is out of range")
	}
	s.addr = net.JoinHostPort(s.Host, fmt.Sprint(s.Port))
	s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		s.tls = s.TLSConfig.Clone()
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = s.Host
	}
	return nil
}

// validateAuth checks the credentials and whether AUTH may go without
// TLS; validateHost has run.
func (s *settings) validateAuth() error {
	if err := checkLine("Config.Username", s.Username); err != nil {
		return err
	}
	switch {
	case strings.ContainsAny(string(s.Password), "\r\n\x00"):
		// Never echo the value of a secret.
		return &FieldError{Field: "Config.Password", Reason: "holds CR, LF or NUL", Err: ErrHeaderInjection}
	case s.Username == "" && s.Password != "":
		return invalid("Config.Username", "", "is required with a Password")
	case s.AllowInsecureAuth && !s.loopback:
		return invalid("Config.AllowInsecureAuth", s.Host, "is allowed only for a loopback Host")
	}
	return nil
}

// validateSender checks From, EnvelopeFrom, MessageIDDomain and HelloName,
// and sets the default From and the HelloName default.
func (s *settings) validateSender() error {
	var err error
	if s.From != "" {
		if s.from, s.fromAddr, err = parseFrom("Config.From", s.From); err != nil {
			return err
		}
	}
	if s.EnvelopeFrom != "" {
		if s.EnvelopeFrom, err = parseAddress("Config.EnvelopeFrom", s.EnvelopeFrom); err != nil {
			return err
		}
	}
	if s.MessageIDDomain != "" {
		if err := checkDomain("Config.MessageIDDomain", s.MessageIDDomain, domain.Host); err != nil {
			return err
		}
	}
	if s.HelloName == "" {
		s.HelloName = DefaultHelloName
		return nil
	}
	return checkDomain("Config.HelloName", s.HelloName, domain.Host)
}

// validateHeaders checks the extra header fields: valid names, none the
// notifier sets, values on one line.
func (s *settings) validateHeaders() error {
	for name, value := range s.Headers {
		field := "Config.Headers[" + name + "]"
		lower := strings.ToLower(name)
		switch {
		case !validFieldName(name):
			return invalid(field, name, "is not a valid header field name")
		case slices.Contains(reservedHeaders, lower) || strings.HasPrefix(lower, "content-"):
			return invalid(field, name, "is set by the notifier")
		}
		if err := checkLine(field, value); err != nil {
			return err
		}
	}
	return nil
}

// validateAttachments checks each attachment.
func (s *settings) validateAttachments() error {
	for i, a := range s.Attachments {
		if err := a.validate(fmt.Sprintf("Config.Attachments[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// validateTimeouts checks the timeouts and applies their defaults.
func (s *settings) validateTimeouts() error {
	for _, t := range []struct {
		field string
		v     *time.Duration
		def   time.Duration
	}{
		{"Config.DialTimeout", &s.DialTimeout, DefaultDialTimeout},
		{"Config.CommandTimeout", &s.CommandTimeout, DefaultCommandTimeout},
		{"Config.SubmissionTimeout", &s.SubmissionTimeout, DefaultSubmissionTimeout},
		{"Config.AttemptTimeout", &s.AttemptTimeout, DefaultAttemptTimeout},
	} {
		if err := notNegative(t.field, *t.v); err != nil {
			return err
		}
		*t.v = cmp.Or(*t.v, t.def)
	}
	return nil
}

// validateRecipients checks MaxRecipients and applies its default.
func (s *settings) validateRecipients() error {
	if err := notNegative("Config.MaxRecipients", s.MaxRecipients); err != nil {
		return err
	}
	s.MaxRecipients = cmp.Or(s.MaxRecipients, DefaultMaxRecipients)
	return nil
}

// validateRetry checks Retry and sets the backoff with its defaults.
func (s *settings) validateRetry() error {
	r := s.Retry
	for _, err := range []error{
		notNegative("Config.Retry.MaxAttempts", r.MaxAttempts),
		notNegative("Config.Retry.InitialBackoff", r.InitialBackoff),
		notNegative("Config.Retry.MaxBackoff", r.MaxBackoff),
	} {
		if err != nil {
			return err
		}
	}
	r.MaxAttempts = max(r.MaxAttempts, 1)
	r.InitialBackoff = cmp.Or(r.InitialBackoff, DefaultInitialBackoff)
	if r.MaxBackoff == 0 {
		r.MaxBackoff = max(DefaultMaxBackoff, r.InitialBackoff)
	}
	if r.MaxBackoff < r.InitialBackoff {
		return invalid("Config.Retry.MaxBackoff", r.MaxBackoff.String(), "is less than InitialBackoff")
	}
	s.backoff = r
	return nil
}

// validate checks the attachment, field naming it in errors.
func (a Attachment) validate(field string) error {
	name := a.Filename
	if name == "" {
		return invalid(field+".Filename", "", "is required")
	}
	if err := checkLine(field+".Filename", name); err != nil {
		return err
	}
	if len(name) > 255 {
		return invalid(field+".Filename", name, "is longer than 255 bytes")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c > 0x7e || strings.IndexByte(`"\<>`, c) >= 0 {
			return invalid(field+".Filename", name, fmt.Sprintf("holds %q; want printable ASCII without quotes, backslashes or angle brackets", c))
		}
	}
	if a.ContentType != "" {
		if err := checkLine(field+".ContentType", a.ContentType); err != nil {
			return err
		}
		if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
			return invalid(field+".ContentType", a.ContentType, "is not a media type")
		}
	}
	return nil
}

// Format writes the configuration with the password redacted and only the
// type of the DKIM signer, whatever the verb.
func (cfg Config) Format(f fmt.State, _ rune) {
	// The signer's type only: its fields may hold the key.
	dkim := "<nil>"
	if cfg.DKIM != nil {
		dkim = fmt.Sprintf("%T", cfg.DKIM)
	}
	fmt.Fprintf(f, "smtpnotify.Config{Host:%s Port:%d Security:%s Username:%s Password:%s AllowInsecureAuth:%t From:%s EnvelopeFrom:%s MessageIDDomain:%s HelloName:%s Headers:%v Attachments:%d DKIM:%v MaxRecipients:%d DialTimeout:%v CommandTimeout:%v SubmissionTimeout:%v AttemptTimeout:%v Retry:%+v}",
		cfg.Host, cfg.Port, cfg.Security, cfg.Username, cfg.Password, cfg.AllowInsecureAuth, cfg.From, cfg.EnvelopeFrom, cfg.MessageIDDomain, cfg.HelloName, cfg.Headers, len(cfg.Attachments), dkim, cfg.MaxRecipients, cfg.DialTimeout, cfg.CommandTimeout, cfg.SubmissionTimeout, cfg.AttemptTimeout, cfg.Retry)
}

// LogValue returns the configuration without its secrets, for log/slog.
func (cfg Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", cfg.Host),
		slog.Int("port", cfg.Port),
		slog.String("security", string(cfg.Security)),
		slog.String("username", cfg.Username),
		slog.String("password", redacted),
	)
}
