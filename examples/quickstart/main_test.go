package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRun checks everything the quickstart prints, line by line: the
// rejected recipient, the pending change, the refused stale save, the
// Active Threat below the threshold, five emails then the cooling period
// with the sixth and seventh events held back, the email Dispatcher.Run
// sends when the cooling period ends covering them, the disable that drops a queued event, which is
// not sent when the category is turned on again, and the next morning's
// digest listing the event that stayed under the threshold.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("run() error = %v", err)
	}
	got := strings.Split(out.String(), "\n")
	want := strings.Split(strings.TrimPrefix(wantOutput, "\n"), "\n")
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("run() output line %d = %q; want %q", i+1, g, w)
		}
	}
	if t.Failed() {
		t.Logf("run() output:\n%s", out.String())
	}
}

// TestRunSendsFiveThenCarries checks the figures of the story independently
// of the wording: six alert emails in all, the last one covering the two
// held back, and one digest with the event under the threshold.
func TestRunSendsFiveThenCarries(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out); err != nil {
		t.Fatalf("run() error = %v", err)
	}
	got := out.String()
	if n := strings.Count(got, "  would send alert-"); n != 6 {
		t.Errorf("run() printed %d emails; want 6 (5 before the cooling period, 1 after)", n)
	}
	if n := strings.Count(got, ": suppressed, "); n != 2 {
		t.Errorf("run() printed %d suppressed events; want 2", n)
	}
	if n := strings.Count(got, "  would send digest."); n != 1 {
		t.Errorf("run() printed %d digests; want 1", n)
	}
	if !strings.Contains(got, "lists web-01: Unsigned driver loaded") {
		t.Errorf("run() output has no digest listing det-0, the event under the threshold:\n%s", got)
	}
	if strings.Contains(got, "cfg-1 to ") || strings.Contains(got, "Configuration Alerts: ") {
		t.Errorf("run() sent the configuration event after Configuration alerts were turned off:\n%s", got)
	}
}

const wantOutput = `
tenant acme, version 0, on by default: [active-threat system-status]
rejected: alerts: invalid recipient at position 2, "Bob <bob@acme.example>": display names and angle brackets are not allowed
pending change: turn on "Threat Alerts"; turn off "System Status Alerts"; turn on "Configuration Alerts"; turn on "Billing Alerts"; add SOC@acme.example; add oncall@xn--bcher-kva.example
saved version 1, on: [threat active-threat configuration billing], recipients: [SOC@acme.example oncall@xn--bcher-kva.example]
stale save refused: alerts: settings of tenant "acme" changed since they were loaded: the save was based on version 0 but version 1 is stored

Active Threat events:
09:00 det-0 (score 3.5): below-threshold, no alert: kept for the daily digest
09:10 det-1 (score 8): sent, one email covering 1 event
  would send alert-caa25f83b84f3f4490b93a0c223780ab to SOC@acme.example, oncall@xn--bcher-kva.example: "Active Threat Alerts: 1 event"
09:20 det-2 (score 8): sent, one email covering 1 event
  would send alert-e81513ba6a31f487895f10759f77444e to SOC@acme.example, oncall@xn--bcher-kva.example: "Active Threat Alerts: 1 event"
09:30 det-3 (score 8): sent, one email covering 1 event
  would send alert-7b034991bb286128858a2d03a834e2b5 to SOC@acme.example, oncall@xn--bcher-kva.example: "Active Threat Alerts: 1 event"
09:40 det-4 (score 8): sent, one email covering 1 event
  would send alert-3e51835fe396bd94a3c76c5d07bdee61 to SOC@acme.example, oncall@xn--bcher-kva.example: "Active Threat Alerts: 1 event"
09:50 det-5 (score 8): sent, one email covering 1 event
  would send alert-709cc39d619072c917528ea05ce33121 to SOC@acme.example, oncall@xn--bcher-kva.example: "Active Threat Alerts: 1 event"
10:00 det-6 (score 8): suppressed, 1 pending until 13:50
10:10 det-7 (score 8): suppressed, 2 pending until 13:50
13:50 cooling period over: Run sent the held-back events
  would send alert-cf5677cf5534aac5e2d3872ebf2f53f3 to SOC@acme.example, oncall@xn--bcher-kva.example: "Active Threat Alerts: 2 events"

    Security alerts
    ACTIVE THREAT ALERT

    2 high-risk threat events detected for tenant acme. The highest score is
    8 (Critical).
    This email includes 2 events held back by the alert frequency limit.

    Each event below scored at or over the Active Threat threshold. Open an
    event to quarantine or delete it, or to kill its process.

    - 2026-03-02 11:00:00 CET (UTC+01:00) | score 8 (Critical)
      web-01: Ransomware behaviour blocked

    - 2026-03-02 11:10:00 CET (UTC+01:00) | score 8 (Critical)
      web-01: Ransomware behaviour blocked

    Times are shown in Europe/Paris.
    You receive this email because Active Threat Alerts are turned on for
    acme.

Configuration events:
13:50 cfg-1: send-failed (relay unavailable), 1 pending
pending change: turn off "Configuration Alerts"
saved version 2
pending change: turn on "Configuration Alerts"
saved version 3
13:51 retry: nothing-pending, 0 events sent

The next morning:
  would send digest.2026-03-03.acme.9db39a692081e3d5 to SOC@acme.example, oncall@xn--bcher-kva.example: "Daily digest 2026-03-03: 1 new notification"
    lists web-01: Unsigned driver loaded
`
