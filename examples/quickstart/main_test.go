package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRun checks what the quickstart prints: the rejected recipient, the
// conflict, the disable that stops a queued alert, and the emails sent.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("run() error = %v", err)
	}
	got := out.String()
	for _, want := range []string{
		"tenant acme, version 0, on by default: [active-threat system-status]\n",
		`rejected: alerts: invalid recipient at position 2, "Bob <bob@acme.example>"`,
		"saved version 1, on: [threat active-threat configuration billing], recipients: [SOC@acme.example oncall@xn--bcher-kva.example]\n",
		"stale save refused: alerts: settings of tenant \"acme\" changed since they were loaded: the save was based on version 0 but version 1 is stored\n",
		"not sent: cfg-2 (configuration is off)\n",
		"not sent: hc-7 (system-status is off)\n",
		"would send acme.det-1\nTo: SOC@acme.example, oncall@xn--bcher-kva.example\nSubject: [Active Threat Alerts] Ransomware behaviour blocked on web-01\n",
		"would send acme.det-2\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("run() output lacks %q; output:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "would send "); n != 2 {
		t.Errorf("run() sent %d emails; want 2", n)
	}
}
