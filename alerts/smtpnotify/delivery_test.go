package smtpnotify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/smtpnotify"
)

var (
	noSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	ciso       = "ciso@acme.example"
	ops        = "ops@acme.example"
)

// refuse returns a RCPT hook refusing the given recipients with 550.
func refuse(rcpts ...string) func(int, string, int) error {
	return func(_ int, to string, _ int) error {
		if slices.Contains(rcpts, to) {
			return noSuchUser
		}
		return nil
	}
}

// TestNotifyRefusals: a permanent refusal of some recipients, of all, or
// of the message, through a real go-smtp server.
func TestNotifyRefusals(t *testing.T) {
	t.Parallel()
	permanent := func(code int, text string) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			require.ErrorIsf(t, err, alerts.ErrPermanent, "Notify() = %v; want a permanent error", err)
			var se *smtp.SMTPError
			require.ErrorAsf(t, err, &se, "Notify() = %v; want the relay's reply", err)
			assert.Equalf(t, code, se.Code, "reply code of %v", err)
			assert.ErrorContainsf(t, err, text, "Notify() = %v", err)
			assert.Falsef(t, errors.As(err, new(*alerts.RefusedError)), "Notify() = %v; want no RefusedError", err)
		}
	}
	tests := []struct {
		name     string
		opts     serverOptions
		check    func(*testing.T, error)
		wantTo   [][]string // the recipients of each message stored
		wantTxns int32
	}{
		{"one of two refused", serverOptions{rcpt: refuse(ciso)}, func(t *testing.T, err error) {
			var re *alerts.RefusedError
			require.ErrorAsf(t, err, &re, "Notify() = %v; want a RefusedError", err)
			assert.Truef(t, re.Delivered, "RefusedError.Delivered = false; want true")
			assert.Equal(t, []alerts.Refusal{{Recipient: ciso, Code: 550, Status: "5.1.1", Text: "no such user"}}, re.Refused, "RefusedError.Refused")
			assert.NotErrorIsf(t, err, alerts.ErrPermanent, "Notify() = %v; want it counted as sent", err)
		}, [][]string{{ops}}, 1},
		{"all refused", serverOptions{rcpt: refuse(ops, ciso)}, func(t *testing.T, err error) {
			var re *alerts.RefusedError
			require.ErrorAsf(t, err, &re, "Notify() = %v; want a RefusedError", err)
			assert.Falsef(t, re.Delivered, "RefusedError.Delivered = true; want false")
			assert.Equal(t, []alerts.Refusal{
				{Recipient: ops, Code: 550, Status: "5.1.1", Text: "no such user"},
				{Recipient: ciso, Code: 550, Status: "5.1.1", Text: "no such user"},
			}, re.Refused, "RefusedError.Refused")
			assert.ErrorIsf(t, err, alerts.ErrPermanent, "Notify() = %v; want a permanent error", err)
		}, nil, 1},
		{"data refused", serverOptions{data: func(int, []byte) error {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}
		}}, permanent(554, "end of data: 554 5.6.0 content rejected"), nil, 1},
		{"sender refused", serverOptions{mail: func(int, string) error {
			return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender not allowed"}
		}}, permanent(553, "MAIL: 553 5.7.1 sender not allowed"), nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, tt.opts)
			cfg := config(ts, smtpnotify.Plaintext)
			cfg.Retry = smtpnotify.Retry{MaxAttempts: 3, InitialBackoff: time.Millisecond}
			err := mustNew(t, cfg).Notify(context.Background(), testMessage(t))
			tt.check(t, err)
			assert.Equalf(t, tt.wantTxns, ts.txns.Load(), "server saw %d transactions; want %d (no retry)", ts.txns.Load(), tt.wantTxns)
			got := ts.messages()
			var gotTo [][]string
			for _, m := range got {
				gotTo = append(gotTo, m.To)
			}
			require.Equalf(t, tt.wantTo, gotTo, "server stored messages to %q; want %q", gotTo, tt.wantTo)
			if len(got) > 0 {
				h, _ := parts(t, got[0].Data)
				assert.Equal(t, "<ops@acme.example>, <ciso@acme.example>", h.Get("To"), "To of the message delivered")
			}
		})
	}
}

// TestNotifyTemporaryFailure: a 451 to the data is temporary, and the
// message sent again, by the notifier's retry or by a later Notify, has
// the same bytes and Message-ID.
func TestNotifyTemporaryFailure(t *testing.T) {
	t.Parallel()
	for _, attempts := range []int{1, 2} {
		t.Run(fmt.Sprintf("attempts=%d", attempts), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var seen [][]byte // the data of every transaction
			ts := startServer(t, serverOptions{data: func(n int, msg []byte) error {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, msg)
				if n == 1 {
					return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
				}
				return nil
			}})
			cfg := config(ts, smtpnotify.Plaintext)
			cfg.Retry = smtpnotify.Retry{MaxAttempts: attempts, InitialBackoff: time.Millisecond}
			n := mustNew(t, cfg)
			msg := testMessage(t)
			err := n.Notify(context.Background(), msg)
			if attempts == 1 {
				var se *smtp.SMTPError
				require.ErrorAsf(t, err, &se, "Notify() = %v; want the 451", err)
				assert.Equalf(t, 451, se.Code, "Notify() = %v; want the 451", err)
				assert.NotErrorIsf(t, err, alerts.ErrPermanent, "Notify() = %v; want a temporary error", err)
				// What the dispatcher does later: the same message again.
				err = n.Notify(context.Background(), msg)
			}
			require.NoError(t, err, "Notify() after a 451")
			require.Lenf(t, seen, 2, "server saw %d messages; want 2", len(seen))
			ids := make([]string, len(seen))
			for i, data := range seen {
				m, err := mail.ReadMessage(bytes.NewReader(data))
				require.NoError(t, err, "mail.ReadMessage")
				ids[i] = m.Header.Get("Message-Id")
			}
			assert.Equal(t, []string{"<alert-acme-active-threat-42@platform.example>", "<alert-acme-active-threat-42@platform.example>"}, ids, "Message-Ids sent")
			if attempts > 1 {
				assert.Equal(t, string(seen[0]), string(seen[1]), "a retry within Notify sends the same bytes")
			}
		})
	}
}

// TestNotifyManyRecipients sends one email to 1,000 recipients with
// 64-octet local parts through a relay that takes 100 per transaction.
func TestNotifyManyRecipients(t *testing.T) {
	t.Parallel()
	var all []string
	for i := range 1000 {
		all = append(all, fmt.Sprintf("%s%04d@recipients.acme.example", strings.Repeat("r", 60), i))
	}
	gone := all[250]
	tooMany := &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3}, Message: "too many recipients"}
	tests := []struct {
		name          string
		opts          serverOptions
		maxRecipients int // Config.MaxRecipients
	}{
		// The server announces LIMITS RCPTMAX=100 and enforces it.
		{"default", serverOptions{maxRecipients: 100}, 0},
		{"relay's limit lower", serverOptions{maxRecipients: 100}, 250},
		// No announcement: the client learns the limit from the 452.
		{"452 after 100", serverOptions{rcpt: func(_ int, to string, accepted int) error {
			if accepted >= 100 {
				return tooMany
			}
			return nil
		}}, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcpt := tt.opts.rcpt
			tt.opts.rcpt = func(n int, to string, accepted int) error {
				if to == gone {
					return noSuchUser
				}
				if rcpt != nil {
					return rcpt(n, to, accepted)
				}
				return nil
			}
			ts := startServer(t, tt.opts)
			cfg := config(ts, smtpnotify.Plaintext)
			cfg.MaxRecipients = tt.maxRecipients
			msg := testMessage(t)
			msg.To = all
			err := mustNew(t, cfg).Notify(context.Background(), msg)
			var re *alerts.RefusedError
			require.ErrorAsf(t, err, &re, "Notify() = %v; want the refusal of %s", err, gone)
			assert.Truef(t, re.Delivered, "RefusedError.Delivered = false; want true")
			assert.Equal(t, []alerts.Refusal{{Recipient: gone, Code: 550, Status: "5.1.1", Text: "no such user"}}, re.Refused, "RefusedError.Refused")

			got := ts.messages()
			require.Lenf(t, got, 10, "server stored %d messages; want 10 transactions of 100 recipients", len(got))
			var to []string
			for i, m := range got {
				assert.LessOrEqualf(t, len(m.To), 100, "transaction %d has %d recipients; want at most 100", i+1, len(m.To))
				assert.Equalf(t, string(got[0].Data), string(m.Data), "transaction %d sent other bytes than the first", i+1)
				to = append(to, m.To...)
			}
			want := slices.Delete(slices.Clone(all), 250, 251)
			assert.ElementsMatch(t, want, to, "recipients that received the message")

			data := got[0].Data
			assert.Empty(t, smtpnotify.HeaderLineErrors(data), "header lines")
			m, err := mail.ReadMessage(bytes.NewReader(data))
			require.NoError(t, err, "mail.ReadMessage")
			list, err := m.Header.AddressList("To")
			require.NoError(t, err, "To does not parse")
			addrs := make([]string, len(list))
			for i, a := range list {
				addrs[i] = a.Address
			}
			assert.Equal(t, all, addrs, "To read back by net/mail")
		})
	}
}

// TestNotifyDisplayNames: display names with specials or outside ASCII,
// from the configuration or the message, reach the relay as they were.
func TestNotifyDisplayNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		configFrom    string
		msgFrom       string
		replyTo       string
		wantFrom      string // the raw From field
		wantName      string // as net/mail reads it back
		wantReplyName string
	}{
		{"comma", `"Acme, Inc. Security" <alerts@platform.example>`, "", "", `"Acme, Inc. Security" <alerts@platform.example>`, "Acme, Inc. Security", ""},
		{"quote and backslash", "", `"Ops \"Night\" \\ Shift" <alerts@platform.example>`, "", `"Ops \"Night\" \\ Shift" <alerts@platform.example>`, `Ops "Night" \ Shift`, ""},
		{"not ascii", "", "Équipe Sécurité 🚨 <alerts@platform.example>", "Сергей Петров <soc@acme.example>", "", "Équipe Sécurité 🚨", "Сергей Петров"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, serverOptions{})
			cfg := config(ts, smtpnotify.Plaintext)
			cfg.From = tt.configFrom
			msg := testMessage(t)
			msg.From, msg.ReplyTo = tt.msgFrom, tt.replyTo
			require.NoError(t, mustNew(t, cfg).Notify(context.Background(), msg), "Notify()")
			got := ts.messages()
			require.Len(t, got, 1, "messages stored")
			assert.Empty(t, smtpnotify.HeaderLineErrors(got[0].Data), "header lines")
			h, _ := parts(t, got[0].Data)
			if tt.wantFrom != "" {
				assert.Containsf(t, "\r\n"+string(got[0].Data), "\r\nFrom: "+tt.wantFrom+"\r\n", "message lacks From: %s\n%s", tt.wantFrom, got[0].Data)
			}
			from, err := mail.ParseAddress(h.Get("From"))
			require.NoErrorf(t, err, "From %q does not parse", h.Get("From"))
			assert.Equal(t, mail.Address{Name: tt.wantName, Address: "alerts@platform.example"}, *from, "From read back")
			if tt.replyTo != "" {
				r, err := mail.ParseAddress(h.Get("Reply-To"))
				require.NoErrorf(t, err, "Reply-To %q does not parse", h.Get("Reply-To"))
				assert.Equal(t, tt.wantReplyName, r.Name, "Reply-To name read back")
			}
		})
	}
}

// TestNotifySMTPUTF8: a non-ASCII local part goes with SMTPUTF8 where the
// relay offers it, and is refused where it does not; ASCII mail never
// asks for it.
func TestNotifySMTPUTF8(t *testing.T) {
	t.Parallel()
	const jurgen = "jürgen@acme.example"
	tests := []struct {
		name     string
		offered  bool
		to       []string
		wantUTF8 bool
		wantTo   []string
		wantErr  bool // the refusal of jurgen
	}{
		{"offered and needed", true, []string{ops, jurgen}, true, []string{ops, jurgen}, false},
		{"offered, not needed", true, []string{ops, ciso}, false, []string{ops, ciso}, false},
		{"needed, not offered", false, []string{ops, jurgen}, false, []string{ops}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, serverOptions{smtputf8: tt.offered})
			msg := testMessage(t)
			msg.To = tt.to
			err := mustNew(t, config(ts, smtpnotify.Plaintext)).Notify(context.Background(), msg)
			if tt.wantErr {
				var re *alerts.RefusedError
				require.ErrorAsf(t, err, &re, "Notify() = %v; want the refusal of %s", err, jurgen)
				require.Lenf(t, re.Refused, 1, "RefusedError.Refused = %v; want %s", re.Refused, jurgen)
				assert.Equal(t, jurgen, re.Refused[0].Recipient, "recipient refused")
				assert.Contains(t, re.Refused[0].Text, "SMTPUTF8", "refusal text")
				assert.True(t, re.Delivered, "RefusedError.Delivered")
			} else {
				require.NoError(t, err, "Notify()")
			}
			got := ts.messages()
			require.Len(t, got, 1, "messages stored")
			assert.Equal(t, tt.wantTo, got[0].To, "envelope recipients")
			assert.Equalf(t, tt.wantUTF8, got[0].UTF8, "MAIL asked for SMTPUTF8 = %v; want %v", got[0].UTF8, tt.wantUTF8)
		})
	}
}

// TestNotifyAttemptTimeout: AttemptTimeout bounds an attempt whose every
// command would be in time.
func TestNotifyAttemptTimeout(t *testing.T) {
	t.Parallel()
	host, port, conns := hangingServer(t)
	cfg := smtpnotify.Config{Host: host, Port: port, Security: smtpnotify.Plaintext, CommandTimeout: time.Hour,
		AttemptTimeout: 100 * time.Millisecond, Retry: smtpnotify.Retry{MaxAttempts: 2, InitialBackoff: time.Millisecond}}
	n := mustNew(t, cfg)
	start := time.Now()
	err := n.Notify(context.Background(), testMessage(t))
	var ne net.Error
	require.ErrorAsf(t, err, &ne, "Notify() = %v; want a timeout", err)
	assert.Truef(t, ne.Timeout(), "Notify() = %v; want a timeout", err)
	assert.ErrorContainsf(t, err, "attempt 2 of 2", "Notify() = %v; want two attempts", err)
	assert.Lessf(t, time.Since(start), 10*time.Second, "Notify took %v; want about 2 × AttemptTimeout", time.Since(start))
	// On a busy machine an attempt may end before its connection is made.
	assert.LessOrEqualf(t, conns.Load(), int32(2), "server saw %d connections; want at most 2", conns.Load())
}

func TestMaxDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  smtpnotify.Config
		want time.Duration
	}{
		{"defaults", smtpnotify.Config{Host: "h.example"}, smtpnotify.DefaultAttemptTimeout},
		{"three attempts", smtpnotify.Config{Host: "h.example", AttemptTimeout: 10 * time.Second,
			Retry: smtpnotify.Retry{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: 1500 * time.Millisecond}},
			30*time.Second + time.Second + 1500*time.Millisecond},
		{"default backoff", smtpnotify.Config{Host: "h.example", Retry: smtpnotify.Retry{MaxAttempts: 4}},
			4*smtpnotify.DefaultAttemptTimeout + 7*smtpnotify.DefaultInitialBackoff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustNew(t, tt.cfg).MaxDuration()
			assert.Equalf(t, tt.want, got, "MaxDuration() = %v; want %v", got, tt.want)
		})
	}
}
