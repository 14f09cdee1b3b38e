package render

import (
	"testing"
	"time"
)

func TestDateTime(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatalf("LoadLocation: %v", err)
	}
	saoPaulo, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		t.Fatalf("LoadLocation: %v", err)
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatalf("LoadLocation: %v", err)
	}
	// 01:15 UTC on the day Paris moves to summer time (at 01:00 UTC).
	instant := time.Date(2026, 3, 29, 1, 15, 0, 0, time.UTC)
	tests := []struct {
		name     string
		loc      *time.Location
		want     string
		wantDate string
	}{
		{"nil", nil, "2026-03-29 01:15:00 UTC", "2026-03-29 (UTC)"},
		{"utc", time.UTC, "2026-03-29 01:15:00 UTC", "2026-03-29 (UTC)"},
		{"paris dst", paris, "2026-03-29 03:15:00 CEST (UTC+02:00)", "2026-03-29 (UTC+02:00)"},
		{"sao paulo numeric abbr", saoPaulo, "2026-03-28 22:15:00 UTC-03:00", "2026-03-28 (UTC-03:00)"},
		{"kolkata half hour", kolkata, "2026-03-29 06:45:00 IST (UTC+05:30)", "2026-03-29 (UTC+05:30)"},
		{"fixed", time.FixedZone("", -90*60), "2026-03-28 23:45:00 UTC-01:30", "2026-03-28 (UTC-01:30)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DateTime(instant, tt.loc); got != tt.want {
				t.Errorf("DateTime(%v, %v) = %q; want %q", instant, tt.loc, got, tt.want)
			}
			if got := Date(instant, tt.loc); got != tt.wantDate {
				t.Errorf("Date(%v, %v) = %q; want %q", instant, tt.loc, got, tt.wantDate)
			}
		})
	}
}
