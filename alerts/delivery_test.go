package alerts_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/alertmail/alertmail/alerts"
)

func TestPermanent(t *testing.T) {
	t.Parallel()
	assert.NoError(t, alerts.Permanent(nil), "Permanent(nil)")

	cause := &alerts.ScoreError{Score: 11}
	err := alerts.Permanent(fmt.Errorf("relay: %w", cause))
	assert.ErrorIs(t, err, alerts.ErrPermanent, "Permanent(err)")
	var se *alerts.ScoreError
	assert.ErrorAs(t, err, &se, "Permanent(err) keeps the cause reachable")
	assert.Equal(t, "relay: "+cause.Error(), err.Error(), "Permanent(err).Error()")

	assert.NotErrorIs(t, errors.New("451 try later"), alerts.ErrPermanent, "an unmarked error is temporary")
}

func TestRefusedError(t *testing.T) {
	t.Parallel()
	refused := []alerts.Refusal{
		{Recipient: "gone@acme.example", Code: 550, Status: "5.1.1", Text: "no such user"},
		{Recipient: "b@acme.example", Code: 553},
		{Recipient: "c@acme.example"},
		{Recipient: "d@acme.example", Text: "mailbox disabled"},
	}
	for _, tt := range []struct {
		name          string
		err           *alerts.RefusedError
		wantPermanent bool
		wantText      string
	}{
		{"some refused", &alerts.RefusedError{Refused: refused[:1], Delivered: true}, false,
			"alerts: delivered, but 1 recipient(s) refused; gone@acme.example: 550 5.1.1 no such user"},
		{"all refused", &alerts.RefusedError{Refused: refused}, true,
			"alerts: 4 recipient(s) refused; gone@acme.example: 550 5.1.1 no such user; b@acme.example: 553; c@acme.example:; and 1 more"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error = fmt.Errorf("smtp: %w", tt.err)
			assert.Equalf(t, tt.wantPermanent, errors.Is(err, alerts.ErrPermanent), "errors.Is(%v, ErrPermanent)", err)
			var re *alerts.RefusedError
			if assert.ErrorAs(t, err, &re) {
				assert.Equal(t, tt.err.Refused, re.Refused)
			}
			assert.Equal(t, tt.wantText, tt.err.Error())
		})
	}
}

// TestReplyClass checks the classes of reply codes the metrics use.
func TestReplyClass(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]string{0: "none", 250: "2xx", 354: "none", 421: "4xx", 452: "4xx", 550: "5xx", 554: "5xx", 999: "none", -550: "none"} {
		assert.Equalf(t, want, alerts.ReplyClass(code), "ReplyClass(%d)", code)
	}
}
