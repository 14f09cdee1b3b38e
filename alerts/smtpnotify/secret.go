package smtpnotify

import (
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[redacted]"

// A Secret is a string that must not be shown: an SMTP password. It
// formats as "[redacted]" with every fmt verb, in logs and in JSON, so a
// [Config] can be printed or logged safely. Convert it with string(s) where
// the value itself is needed.
type Secret string

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return redacted }

// Format writes "[redacted]" whatever the verb, so that %x or %q cannot
// reveal the value either.
func (Secret) Format(f fmt.State, _ rune) { io.WriteString(f, redacted) }

// LogValue returns "[redacted]", for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText returns "[redacted]", for encoding/json and others.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
