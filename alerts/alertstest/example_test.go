package alertstest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/alertstest"
)

// A test drives time by hand and reads what would have been emailed.
func Example() {
	clock := alertstest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	outbox := alertstest.NewRecorder()
	// The backend is down for the first attempt.
	notifier := alertstest.NewFailingNotifier(errors.New("smtp: 421 try again later"), 1, outbox)

	msg := &alerts.Message{ID: "alert-1", Subject: "1 high-risk threat event", Time: clock.Now()}
	fmt.Println("first attempt:", notifier.Notify(context.Background(), msg))
	clock.Advance(time.Minute)
	msg.Time = clock.Now()
	fmt.Println("retry:", notifier.Notify(context.Background(), msg))

	for _, m := range outbox.Messages() {
		fmt.Println("sent", m.ID, "at", m.Time.Format(time.TimeOnly))
	}
	// Output:
	// first attempt: smtp: 421 try again later
	// retry: <nil>
	// sent alert-1 at 09:01:00
}
