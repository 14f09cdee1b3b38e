package alerts_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/alertmail/alertmail/alerts"
)

// TestEventJSON checks the documented JSON form of an Event, and that it
// decodes back to the same event.
func TestEventJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 9, 10, 0, 123, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		ev   alerts.Event
		want string
	}{
		{
			"full",
			alerts.Event{ID: "det-1", Tenant: "acme", Category: alerts.ActiveThreat, Score: 8.5, Asset: "laptop-42", Fingerprint: "rule-7:abc", Summary: "Credential dumping", Time: at},
			`{"id":"det-1","tenant":"acme","category":"active-threat","score":8.5,"asset":"laptop-42","fingerprint":"rule-7:abc","summary":"Credential dumping","time":"2026-03-02T09:10:00.000000123+01:00"}`,
		},
		{
			"minimal: a zero score stays, empty strings and a zero time go",
			alerts.Event{Tenant: "acme", Category: alerts.SystemStatus},
			`{"tenant":"acme","category":"system-status","score":0}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.ev)
			require.NoError(t, err, "json.Marshal")
			assert.JSONEqf(t, tt.want, string(b), "json.Marshal(%+v)", tt.ev)
			assert.Equalf(t, tt.want, string(b), "json.Marshal(%+v): the members in the documented order", tt.ev)
			var back alerts.Event
			require.NoError(t, json.Unmarshal(b, &back), "json.Unmarshal")
			assert.Truef(t, back.Time.Equal(tt.ev.Time), "round trip: Time = %v; want %v", back.Time, tt.ev.Time)
			back.Time = tt.ev.Time // same instant; the zone pointer may differ
			assert.Equalf(t, tt.ev, back, "json.Unmarshal(%s)", b)
		})
	}
}
