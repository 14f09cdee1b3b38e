package alertstest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

var (
	_ alerts.Notifier = (*alertstest.Recorder)(nil)
	_ alerts.Notifier = (*alertstest.FailingNotifier)(nil)
)

func msg(id string) *alerts.Message {
	return &alerts.Message{ID: id, To: []string{"a@example.com"}, Events: []alerts.Event{{ID: "e-" + id}}}
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	r := alertstest.NewRecorder()
	m := msg("1")
	if err := r.Notify(context.Background(), m); err != nil {
		t.Fatalf("Notify = %v; want nil", err)
	}
	// The caller may reuse its message: the recorder kept a copy.
	m.To[0], m.Events[0].ID = "changed", "changed"
	if err := r.Notify(context.Background(), msg("2")); err != nil {
		t.Fatal(err)
	}
	got := r.Messages()
	if r.Len() != 2 || len(got) != 2 || got[0].ID != "1" || got[0].To[0] != "a@example.com" || got[0].Events[0].ID != "e-1" || got[1].ID != "2" {
		t.Fatalf("Messages() = %+v; want copies of messages 1 and 2", got)
	}
	// Nor can the test change what was recorded.
	got[0].Events[0].ID = "changed"
	if again := r.Messages(); again[0].Events[0].ID != "e-1" {
		t.Errorf("Messages() returned the recorder's own slices")
	}
	r.Reset()
	if r.Len() != 0 {
		t.Errorf("Len() after Reset = %d; want 0", r.Len())
	}
}

func TestRecorderCanceled(t *testing.T) {
	t.Parallel()
	var r alertstest.Recorder // the zero value works
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Notify(ctx, msg("1")); !errors.Is(err, context.Canceled) {
		t.Errorf("Notify(canceled) = %v; want context.Canceled", err)
	}
	if r.Len() != 0 {
		t.Errorf("Len() = %d; want 0", r.Len())
	}
}

func TestFailingNotifier(t *testing.T) {
	t.Parallel()
	errDown := errors.New("down")
	for _, tc := range []struct {
		name     string
		n        int
		next     bool
		calls    int
		wantErrs int
	}{
		{"fails twice then delivers", 2, true, 5, 2},
		{"never fails", 0, true, 3, 0},
		{"fails forever", -1, true, 4, 4},
		{"fails once then accepts without next", 1, false, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := alertstest.NewRecorder()
			var next alerts.Notifier
			if tc.next {
				next = rec
			}
			f := alertstest.NewFailingNotifier(errDown, tc.n, next)
			errs := 0
			for i := range tc.calls {
				err := f.Notify(context.Background(), msg(string(rune('a'+i))))
				wantErr := tc.n < 0 || i < tc.n
				if (err != nil) != wantErr || (err != nil && !errors.Is(err, errDown)) {
					t.Fatalf("call %d: Notify = %v; want error %v", i, err, wantErr)
				}
				if err != nil {
					errs++
				}
			}
			if errs != tc.wantErrs || len(f.Refused()) != tc.wantErrs {
				t.Errorf("%d errors, %d refused; want %d", errs, len(f.Refused()), tc.wantErrs)
			}
			if want := 0; tc.next {
				want = tc.calls - tc.wantErrs
				if rec.Len() != want {
					t.Errorf("next got %d messages; want %d", rec.Len(), want)
				}
			}
			if tc.wantErrs > 0 && f.Refused()[0].ID != "a" {
				t.Errorf("first refused = %q; want %q", f.Refused()[0].ID, "a")
			}
		})
	}
}
