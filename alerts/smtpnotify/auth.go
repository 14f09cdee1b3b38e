package smtpnotify

import (
	"errors"
	"net/smtp"
)

// plainAuth is AUTH PLAIN (RFC 4616). Whether the connection may carry it
// is decided before it is used, so Start does not check again.
type plainAuth struct {
	username string
	password Secret
}

func (a *plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	resp := make([]byte, 0, 2+len(a.username)+len(a.password))
	resp = append(resp, 0)
	resp = append(resp, a.username...)
	resp = append(resp, 0)
	resp = append(resp, a.password...)
	return "PLAIN", resp, nil
}

func (a *plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("smtpnotify: AUTH PLAIN: unexpected challenge")
	}
	return nil, nil
}

// loginAuth is the AUTH LOGIN mechanism (draft-murchison-sasl-login), which
// net/smtp lacks and many relays need: the server asks for the user name,
// then the password.
type loginAuth struct {
	username string
	password Secret
	step     int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	// The prompts vary between servers ("Username:", "User Name"...), so
	// only their order counts.
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, errors.New("smtpnotify: AUTH LOGIN: unexpected challenge")
}
