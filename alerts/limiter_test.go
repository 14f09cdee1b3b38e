package alerts_test

import (
	"errors"
	"testing"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

var t0 = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

func TestFrequencyLimitValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    alerts.FrequencyLimit
		want string // "" for valid
	}{
		{alerts.FrequencyLimit{}, ""},
		{alerts.FrequencyLimit{Mode: alerts.Cooldown, Max: 1, Period: time.Second}, ""},
		{alerts.FrequencyLimit{Mode: alerts.SlidingWindow, Max: 10, Period: time.Hour}, ""},
		{alerts.FrequencyLimit{Mode: "hourly"}, `alerts: invalid frequency limit: Mode "hourly" is neither "cooldown" nor "window"`},
		{alerts.FrequencyLimit{Max: -1}, "alerts: invalid frequency limit: Max -1 is negative"},
		{alerts.FrequencyLimit{Period: -time.Second}, "alerts: invalid frequency limit: Period -1s is negative"},
	} {
		t.Run(tc.p.String(), func(t *testing.T) {
			err := tc.p.Validate()
			if tc.want == "" {
				if err != nil {
					t.Errorf("Validate(%+v) = %v; want nil", tc.p, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want || !errors.Is(err, alerts.ErrInvalidLimit) {
				t.Errorf("Validate(%+v) = %v; want %q wrapping ErrInvalidLimit", tc.p, err, tc.want)
			}
			if l, err := alerts.NewLimiter(tc.p); l != nil || !errors.Is(err, alerts.ErrInvalidLimit) {
				t.Errorf("NewLimiter(%+v) = %v, %v; want nil, ErrInvalidLimit", tc.p, l, err)
			}
		})
	}
}

func TestFrequencyLimitString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    alerts.FrequencyLimit
		want string
	}{
		{alerts.FrequencyLimit{}, "5 then 4h0m0s cooling"},
		{alerts.FrequencyLimit{Max: 3, Period: time.Minute}, "3 then 1m0s cooling"},
		{alerts.FrequencyLimit{Mode: alerts.SlidingWindow, Max: 10, Period: time.Hour}, "10 per 1h0m0s window"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("FrequencyLimit%+v.String() = %q; want %q", tc.p, got, tc.want)
		}
	}
}

// send reserves and commits one send at t, failing the test if not allowed.
func send(t *testing.T, l *alerts.Limiter, at time.Time) {
	t.Helper()
	if !l.ReserveAt(at) {
		t.Fatalf("ReserveAt(%v) = false; want true", at)
	}
	l.CommitAt(at)
}

func TestLimiterCooldown(t *testing.T) {
	t.Parallel()
	var l alerts.Limiter // the zero value: 5 then 4 hours
	if got := l.Limit(); got != (alerts.FrequencyLimit{Mode: alerts.Cooldown, Max: 5, Period: 4 * time.Hour}) {
		t.Fatalf("zero Limiter.Limit() = %+v; want the defaults", got)
	}
	for i := range 5 {
		send(t, &l, t0.Add(time.Duration(i)*time.Minute))
	}
	// The fifth send, at t0+4m, starts the cooling period.
	end := t0.Add(4*time.Minute + 4*time.Hour)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{t0.Add(5 * time.Minute), false},
		{end.Add(-time.Nanosecond), false},
		{end, true},
		{end.Add(time.Hour), true},
	} {
		if got := l.AllowAt(tc.at); got != tc.want {
			t.Errorf("AllowAt(%v) = %v; want %v", tc.at, got, tc.want)
		}
	}
	if got := l.NextAt(t0.Add(time.Hour)); !got.Equal(end) {
		t.Errorf("NextAt(t0+1h) = %v; want %v", got, end)
	}
	if got := l.NextAt(end); !got.Equal(end) {
		t.Errorf("NextAt(end) = %v; want %v", got, end)
	}
	// The count starts again: five more.
	for range 5 {
		send(t, &l, end)
	}
	if l.AllowAt(end) {
		t.Errorf("AllowAt(end) after five more sends = true; want false")
	}
}

func TestLimiterHeld(t *testing.T) {
	t.Parallel()
	l, err := alerts.NewLimiter(alerts.FrequencyLimit{Max: 2, Period: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !l.ReserveAt(t0) || !l.ReserveAt(t0) {
		t.Fatal("ReserveAt = false for the first two slots; want true")
	}
	if l.ReserveAt(t0) {
		t.Fatal("ReserveAt with both slots held = true; want false")
	}
	if got := l.NextAt(t0); !got.Equal(t0) {
		t.Errorf("NextAt with held slots = %v; want %v", got, t0)
	}
	l.Release()
	if l.Held() != 1 {
		t.Errorf("Held() = %d; want 1", l.Held())
	}
	// The released slot is free again; a failed send costs nothing.
	if !l.ReserveAt(t0) {
		t.Fatal("ReserveAt after Release = false; want true")
	}
	l.CommitAt(t0)
	l.CommitAt(t0.Add(time.Minute))
	if l.Held() != 0 || l.AllowAt(t0.Add(time.Minute)) {
		t.Errorf("after two commits: Held() = %d, AllowAt = %v; want 0, false", l.Held(), l.AllowAt(t0.Add(time.Minute)))
	}
	if got, want := l.NextAt(t0.Add(time.Minute)), t0.Add(61*time.Minute); !got.Equal(want) {
		t.Errorf("NextAt = %v; want %v", got, want)
	}
}

func TestLimiterWindow(t *testing.T) {
	t.Parallel()
	l, err := alerts.NewLimiter(alerts.FrequencyLimit{Mode: alerts.SlidingWindow, Max: 3, Period: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []int{0, 10, 20} {
		send(t, l, t0.Add(time.Duration(m)*time.Minute))
	}
	for _, tc := range []struct {
		min  int // minutes after t0
		want bool
		next int
	}{
		{30, false, 60},
		{59, false, 60},
		{60, true, 60},
		{65, true, 65},
	} {
		at := t0.Add(time.Duration(tc.min) * time.Minute)
		if got := l.AllowAt(at); got != tc.want {
			t.Errorf("AllowAt(t0+%dm) = %v; want %v", tc.min, got, tc.want)
		}
		if got, want := l.NextAt(at), t0.Add(time.Duration(tc.next)*time.Minute); !got.Equal(want) {
			t.Errorf("NextAt(t0+%dm) = %v; want %v", tc.min, got, want)
		}
	}
	// With one slot held at t0+30m, a send needs two of the three recorded
	// sends to leave: the second leaves at t0+70m.
	at := t0.Add(30 * time.Minute)
	l.Release() // no-op: nothing held
	if l.ReserveAt(at) {
		t.Fatal("ReserveAt(t0+30m) = true; want false")
	}
	at = t0.Add(60 * time.Minute)
	if !l.ReserveAt(at) {
		t.Fatal("ReserveAt(t0+60m) = false; want true")
	}
	if got, want := l.NextAt(at), t0.Add(70*time.Minute); !got.Equal(want) {
		t.Errorf("NextAt with a held slot = %v; want %v", got, want)
	}
}

func TestLimiterClockBackwards(t *testing.T) {
	t.Parallel()
	var l alerts.Limiter
	for range 5 {
		send(t, &l, t0)
	}
	back := t0.Add(-time.Hour * 24)
	// Seen from a day earlier the cooling period still lasts 4 hours, not 28.
	if got, want := l.NextAt(back), back.Add(4*time.Hour); !got.Equal(want) {
		t.Errorf("NextAt(t0-24h) = %v; want %v", got, want)
	}
	if l.ReserveAt(back) {
		t.Fatal("ReserveAt(t0-24h) = true; want false")
	}
	// The step is absorbed: an hour later, 3 hours remain.
	if got, want := l.NextAt(back.Add(time.Hour)), back.Add(4*time.Hour); !got.Equal(want) {
		t.Errorf("NextAt(t0-23h) = %v; want %v", got, want)
	}
	if !l.AllowAt(back.Add(4 * time.Hour)) {
		t.Errorf("AllowAt(t0-20h) = false; want true")
	}
}

// BenchmarkLimiter measures the pure decision: ReserveAt then CommitAt on a
// Cooldown limiter, with the time moving so that every fifth send starts a
// cooling period that the next call has passed.
func BenchmarkLimiter(b *testing.B) {
	var l alerts.Limiter
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(4 * time.Hour)
		if !l.ReserveAt(now) {
			b.Fatal("ReserveAt = false")
		}
		l.CommitAt(now)
	}
}

// FuzzLimiter runs random sequences of reservations, commits, releases and
// clock moves through a Limiter and checks its two promises: no window of
// length Period ever holds more than Limit sends (in either mode, since a
// Cooldown cycle of Limit sends is followed by Period of silence), and once
// nothing is held and two periods have passed, a send is allowed again.
func FuzzLimiter(f *testing.F) {
	f.Add(false, uint8(5), uint8(30), []byte{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0x7f, 0})
	f.Add(true, uint8(3), uint8(10), []byte{0, 0, 1, 2, 0, 0x13, 1, 0, 1, 0x2b, 0, 1})
	f.Fuzz(func(t *testing.T, window bool, limit, period uint8, ops []byte) {
		p := alerts.FrequencyLimit{Max: int(limit%8) + 1, Period: time.Duration(period%60+1) * time.Minute}
		if window {
			p.Mode = alerts.SlidingWindow
		}
		l, err := alerts.NewLimiter(p)
		if err != nil {
			t.Fatal(err)
		}
		now, held := t0, 0
		var sends []time.Time
		for _, op := range ops {
			switch op & 3 {
			case 0:
				if l.ReserveAt(now) {
					held++
				}
			case 1:
				if held > 0 {
					held--
					l.CommitAt(now)
					sends = append(sends, now)
					n := 0
					for _, s := range sends {
						if now.Sub(s) < p.Period {
							n++
						}
					}
					if n > p.Max {
						t.Fatalf("%v: %d sends within %v up to %v; want at most %d", p, n, p.Period, now, p.Max)
					}
				}
			case 2:
				if held > 0 {
					held--
					l.Release()
				}
			case 3:
				now = now.Add(time.Duration(op>>2) * time.Minute)
			}
			if l.Held() != held {
				t.Fatalf("Held() = %d; want %d", l.Held(), held)
			}
			next := l.NextAt(now)
			if next.Before(now) {
				t.Fatalf("NextAt(%v) = %v, in the past", now, next)
			}
			if held == 0 && !l.AllowAt(now) && (!next.After(now) || !l.AllowAt(next)) {
				t.Fatalf("%v: AllowAt(%v) = false, NextAt = %v, AllowAt(NextAt) = %v; want a later time that allows", p, now, next, l.AllowAt(next))
			}
		}
		for range held {
			l.Release()
		}
		if later := now.Add(2 * p.Period); !l.AllowAt(later) {
			t.Fatalf("%v: AllowAt(%v) = false with nothing held two periods after the last call", p, later)
		}
	})
}
