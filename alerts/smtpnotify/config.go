package smtpnotify

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/alertmail/alertmail/alerts"
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
	DefaultDialTimeout    = 10 * time.Second
	DefaultCommandTimeout = 30 * time.Second
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = time.Minute
	DefaultHelloName      = "localhost"
)

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
	// "alerts@platform.example" or "Security Alerts <alerts@platform.example>".
	// Default: none; a message without From is then an error.
	From string
	// EnvelopeFrom is the SMTP return path (MAIL FROM). Default: the
	// address of the message's From.
	EnvelopeFrom string
	// MessageIDDomain is the right-hand side of Message-ID headers,
	// "<Message.ID@MessageIDDomain>". Default: the domain of the From
	// address.
	MessageIDDomain string
	// HelloName is the name sent with EHLO. Default: DefaultHelloName.
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

	// DialTimeout bounds connecting, TLS handshake included. Default:
	// DefaultDialTimeout. The context's deadline applies too.
	DialTimeout time.Duration
	// CommandTimeout bounds each SMTP command and its reply, the whole
	// message data counting as one command. Default: DefaultCommandTimeout.
	CommandTimeout time.Duration
	// Retry says whether and how failed sends are retried. Default: no
	// retry.
	Retry Retry

	// Clock gives the Date header of messages without a Time. Default:
	// alerts.SystemClock.
	Clock alerts.Clock
	// Logger receives one record per failed attempt and retry; never a
	// secret. Default: nil, quiet.
	Logger *slog.Logger
}

// Retry configures retries of failed sends. Only temporary failures are
// retried: a 4xx reply, a network error or a timeout of the notifier's own.
// A 5xx reply, invalid input and the context's end are returned at once.
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

func (cfg Config) validate() (*settings, error) {
	// Deep enough a copy that changing the caller's slice or map after New cannot bypass the checks below.
	cfg.Headers = maps.Clone(cfg.Headers)
	cfg.Attachments = slices.Clone(cfg.Attachments)
	s := &settings{Config: cfg}
	bad := func(field, value, reason string, err error) (*settings, error) {
		return nil, &FieldError{Field: field, Value: value, Reason: reason, Err: err}
	}
	if cfg.Host == "" {
		return bad("Config.Host", "", "is required", ErrInvalidField)
	}
	if err := checkLine("Config.Host", cfg.Host); err != nil {
		return nil, err
	}
	if strings.ContainsAny(cfg.Host, " /@:") && net.ParseIP(cfg.Host) == nil {
		return bad("Config.Host", cfg.Host, "is not a host name or IP address", ErrInvalidField)
	}
	switch s.Security {
	case "":
		s.Security = StartTLS
	case StartTLS, ImplicitTLS, Plaintext:
	default:
		return bad("Config.Security", string(cfg.Security), `want "starttls", "tls" or "none"`, ErrInvalidField)
	}
	if s.Port == 0 {
		s.Port = map[Security]int{StartTLS: 587, ImplicitTLS: 465, Plaintext: 25}[s.Security]
	}
	if s.Port < 1 || s.Port > 65535 {
		return bad("Config.Port", fmt.Sprint(cfg.Port), "is out of range", ErrInvalidField)
	}
	s.addr = net.JoinHostPort(s.Host, fmt.Sprint(s.Port))
	if cfg.TLSConfig != nil {
		s.tls = cfg.TLSConfig.Clone()
	} else {
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = s.Host
	}
	ip := net.ParseIP(s.Host)
	s.loopback = strings.EqualFold(s.Host, "localhost") || (ip != nil && ip.IsLoopback())
	if err := checkLine("Config.Username", cfg.Username); err != nil {
		return nil, err
	}
	if strings.ContainsAny(string(cfg.Password), "\r\n\x00") {
		// Never echo the value of a secret.
		return bad("Config.Password", "", "holds CR, LF or NUL", ErrHeaderInjection)
	}
	if cfg.Username == "" && cfg.Password != "" {
		return bad("Config.Username", "", "is required with a Password", ErrInvalidField)
	}
	if cfg.AllowInsecureAuth && !s.loopback {
		return bad("Config.AllowInsecureAuth", cfg.Host, "is allowed only for a loopback Host", ErrInvalidField)
	}
	if cfg.From != "" {
		from, addr, err := parseFrom("Config.From", cfg.From)
		if err != nil {
			return nil, err
		}
		s.from, s.fromAddr = from, addr
	}
	if cfg.EnvelopeFrom != "" {
		addr, err := parseAddress("Config.EnvelopeFrom", cfg.EnvelopeFrom)
		if err != nil {
			return nil, err
		}
		s.EnvelopeFrom = addr
	}
	if cfg.MessageIDDomain != "" {
		if err := checkDomain("Config.MessageIDDomain", cfg.MessageIDDomain); err != nil {
			return nil, err
		}
	}
	if s.HelloName == "" {
		s.HelloName = DefaultHelloName
	} else if err := checkDomain("Config.HelloName", cfg.HelloName); err != nil {
		return nil, err
	}
	for name, value := range cfg.Headers {
		field := "Config.Headers[" + name + "]"
		if !validFieldName(name) {
			return bad(field, name, "is not a valid header field name", ErrInvalidField)
		}
		lower := strings.ToLower(name)
		for _, r := range reservedHeaders {
			if lower == r {
				return bad(field, name, "is set by the notifier", ErrInvalidField)
			}
		}
		if strings.HasPrefix(lower, "content-") {
			return bad(field, name, "is set by the notifier", ErrInvalidField)
		}
		if err := checkLine(field, value); err != nil {
			return nil, err
		}
	}
	for i, a := range cfg.Attachments {
		if err := a.validate(fmt.Sprintf("Config.Attachments[%d]", i)); err != nil {
			return nil, err
		}
	}
	if cfg.DialTimeout < 0 || cfg.CommandTimeout < 0 {
		return bad("Config.DialTimeout", fmt.Sprint(cfg.DialTimeout, cfg.CommandTimeout), "timeouts may not be negative", ErrInvalidField)
	}
	if s.DialTimeout == 0 {
		s.DialTimeout = DefaultDialTimeout
	}
	if s.CommandTimeout == 0 {
		s.CommandTimeout = DefaultCommandTimeout
	}
	r := cfg.Retry
	if r.MaxAttempts < 0 || r.InitialBackoff < 0 || r.MaxBackoff < 0 {
		return bad("Config.Retry", fmt.Sprintf("%+v", r), "may not be negative", ErrInvalidField)
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = 1
	}
	if r.InitialBackoff == 0 {
		r.InitialBackoff = DefaultInitialBackoff
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = max(DefaultMaxBackoff, r.InitialBackoff)
	}
	if r.MaxBackoff < r.InitialBackoff {
		return bad("Config.Retry.MaxBackoff", r.MaxBackoff.String(), "is less than InitialBackoff", ErrInvalidField)
	}
	s.backoff = r
	if s.Clock == nil {
		s.Clock = alerts.SystemClock{}
	}
	return s, nil
}

func (a Attachment) validate(field string) error {
	name := a.Filename
	if name == "" {
		return &FieldError{Field: field + ".Filename", Reason: "is required", Err: ErrInvalidField}
	}
	if err := checkLine(field+".Filename", name); err != nil {
		return err
	}
	if len(name) > 255 {
		return &FieldError{Field: field + ".Filename", Value: name, Reason: "is longer than 255 bytes", Err: ErrInvalidField}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c > 0x7e || strings.IndexByte(`"\<>`, c) >= 0 {
			return &FieldError{Field: field + ".Filename", Value: name, Reason: fmt.Sprintf("holds %q; want printable ASCII without quotes, backslashes or angle brackets", c), Err: ErrInvalidField}
		}
	}
	if a.ContentType != "" {
		if err := checkLine(field+".ContentType", a.ContentType); err != nil {
			return err
		}
		if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
			return &FieldError{Field: field + ".ContentType", Value: a.ContentType, Reason: "is not a media type", Err: ErrInvalidField}
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
	fmt.Fprintf(f, "smtpnotify.Config{Host:%s Port:%d Security:%s Username:%s Password:%s AllowInsecureAuth:%t From:%s EnvelopeFrom:%s MessageIDDomain:%s HelloName:%s Headers:%v Attachments:%d DKIM:%v DialTimeout:%v CommandTimeout:%v Retry:%+v}",
		cfg.Host, cfg.Port, cfg.Security, cfg.Username, cfg.Password, cfg.AllowInsecureAuth, cfg.From, cfg.EnvelopeFrom, cfg.MessageIDDomain, cfg.HelloName, cfg.Headers, len(cfg.Attachments), dkim, cfg.DialTimeout, cfg.CommandTimeout, cfg.Retry)
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
