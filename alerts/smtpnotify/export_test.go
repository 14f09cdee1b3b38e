package smtpnotify

// HeaderLineErrors is headerLineErrors, for the external tests.
var HeaderLineErrors = headerLineErrors
