package alerts_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// TestResultJSON checks the documented JSON form of a Result for each
// outcome, and the round trip: equal, but for Err, which comes back as an
// error with the same text.
func TestResultJSON(t *testing.T) {
	t.Parallel()
	next := time.Date(2026, 3, 2, 13, 50, 0, 0, time.UTC)
	tests := []struct {
		res  alerts.Result
		want string
	}{
		{alerts.Result{}, `{"pending":0}`},
		{alerts.Result{Outcome: alerts.Sent, MessageID: "alert-0123", Events: 3}, `{"outcome":"sent","message_id":"alert-0123","events":3,"pending":0}`},
		{alerts.Result{Outcome: alerts.Suppressed, Pending: 2, Next: next}, `{"outcome":"suppressed","pending":2,"next":"2026-03-02T13:50:00Z"}`},
		{alerts.Result{Outcome: alerts.BelowThreshold}, `{"outcome":"below-threshold","pending":0}`},
		{alerts.Result{Outcome: alerts.CategoryDisabled, Dropped: 4}, `{"outcome":"category-disabled","pending":0,"dropped":4}`},
		{alerts.Result{Outcome: alerts.NoRecipients, Pending: 1}, `{"outcome":"no-recipients","pending":1}`},
		{
			alerts.Result{Outcome: alerts.SendFailed, MessageID: "alert-0123", Events: 1, Pending: 1, Err: fmt.Errorf("relay: %w", errors.New(`451 "try later"`))},
			`{"outcome":"send-failed","message_id":"alert-0123","events":1,"pending":1,"error":"relay: 451 \"try later\""}`,
		},
		{alerts.Result{Outcome: alerts.NothingPending}, `{"outcome":"nothing-pending","pending":0}`},
		{alerts.Result{Outcome: alerts.Queued, Pending: 3, Next: next}, `{"outcome":"queued","pending":3,"next":"2026-03-02T13:50:00Z"}`},
		{alerts.Result{Outcome: alerts.Duplicate, Pending: 1}, `{"outcome":"duplicate","pending":1}`},
		{
			alerts.Result{Outcome: alerts.Sent, MessageID: "alert-0123", Events: 1, Refused: []alerts.Refusal{{Recipient: "gone@acme.example", Code: 550, Status: "5.1.1", Text: "no such user"}}},
			`{"outcome":"sent","message_id":"alert-0123","events":1,"pending":0,"refused":[{"recipient":"gone@acme.example","code":550,"status":"5.1.1","text":"no such user"}]}`,
		},
		{
			alerts.Result{Outcome: alerts.Undeliverable, MessageID: "alert-0123", Events: 2, Dropped: 1, Refused: []alerts.Refusal{{Recipient: "soc@acme.example"}}, Err: errors.New("alerts: 1 recipient(s) refused")},
			`{"outcome":"undeliverable","message_id":"alert-0123","events":2,"pending":0,"dropped":1,"refused":[{"recipient":"soc@acme.example"}],"error":"alerts: 1 recipient(s) refused"}`,
		},
	}
	for _, tt := range tests {
		t.Run(string(tt.res.Outcome), func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.res)
			require.NoError(t, err, "json.Marshal")
			assert.Equalf(t, tt.want, string(b), "json.Marshal(%+v)", tt.res)
			// A pointer marshals the same.
			bp, err := json.Marshal(&tt.res)
			require.NoError(t, err, "json.Marshal(pointer)")
			assert.Equal(t, string(b), string(bp), "json.Marshal(&Result)")

			// Decoding into a used Result leaves nothing of it behind.
			back := alerts.Result{Outcome: alerts.Sent, Events: 9, Err: errors.New("stale")}
			require.NoError(t, json.Unmarshal(b, &back), "json.Unmarshal")
			if tt.res.Err == nil {
				assert.NoErrorf(t, back.Err, "json.Unmarshal(%s): Err", b)
			} else {
				assert.EqualErrorf(t, back.Err, tt.res.Err.Error(), "json.Unmarshal(%s): Err", b)
			}
			back.Err, tt.res.Err = nil, nil
			assert.Equalf(t, tt.res, back, "json.Unmarshal(%s)", b)
		})
	}
}

// TestOutcomeJSON: an Outcome is its string in JSON, alone or in a map.
func TestOutcomeJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(map[string]alerts.Outcome{"ev-1": alerts.BelowThreshold, "ev-2": alerts.Suppressed})
	require.NoError(t, err, "json.Marshal")
	assert.Equal(t, `{"ev-1":"below-threshold","ev-2":"suppressed"}`, string(b), "json.Marshal(map of outcomes)")
	var o alerts.Outcome
	require.NoError(t, json.Unmarshal([]byte(`"send-failed"`), &o), "json.Unmarshal")
	assert.Equal(t, alerts.SendFailed, o, `json.Unmarshal("send-failed")`)
}

// TestResultJSONInvalid: JSON of the wrong shape is an error.
func TestResultJSONInvalid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"outcome":5}`, `{"error":false}`, `[]`, `{"next":"yesterday"}`} {
		var r alerts.Result
		assert.Errorf(t, json.Unmarshal([]byte(in), &r), "json.Unmarshal(%s) = nil; want an error", in)
	}
}
