package smtpnotify

import "bytes"

// HeaderLineErrors is headerLineErrors, for the external tests.
var HeaderLineErrors = headerLineErrors

// bytes is the message of e, whole.
func (e *envelope) bytes() []byte { return bytes.Join(e.data, nil) }
