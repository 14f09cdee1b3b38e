package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// TestRun checks the program's story: the first post fails and its event
// is kept, the next email carries it, and the receiver gets both events.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("run() error = %v", err)
	}
	got := out.String()
	for _, want := range []string{
		"dispatch det-1: send-failed, pending 1\n",
		"503 Service Unavailable\n",
		"dispatch det-2: sent, pending 0\n",
		`webhook got active-threat "Active Threat Alerts: 2 events": 2 events, 1 carried` + "\n",
		"  det-1 score 8.5 on web-01: Ransomware behaviour\n",
		"  det-2 score 8.5 on web-01: Credential dumping\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("run() output lacks %q; output:\n%s", want, got)
		}
	}
}

func TestWebhookNotify(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		wantErr string
	}{
		{"accepted", http.StatusAccepted, ""},
		{"server error", http.StatusInternalServerError, "500 Internal Server Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got payload
			var key string
			srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				key = r.Header.Get("Idempotency-Key")
				json.NewDecoder(r.Body).Decode(&got)
				rw.WriteHeader(tt.status)
			}))
			defer srv.Close()
			msg := &alerts.Message{ID: "m-1", Tenant: "acme", Category: alerts.Threat, Subject: "s", Carried: 1,
				Events: []alerts.Event{{ID: "e", Score: 5, Asset: "a", Summary: "<b>x</b>", Time: time.Unix(0, 0).UTC()}}}
			err := (&Webhook{URL: srv.URL}).Notify(context.Background(), msg)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Notify() = %v; want error containing %q", err, tt.wantErr)
			}
			if key != "m-1" || got.ID != "m-1" || len(got.Events) != 1 || got.Events[0].Text != "<b>x</b>" || got.Carried != 1 {
				t.Errorf("server got key %q and %+v; want the message as JSON", key, got)
			}
		})
	}
}
