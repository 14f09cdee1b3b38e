package alerts_test

import (
	"fmt"
	"time"

	"github.com/alertmail/alertmail/alerts"
)

// A Limiter evaluates a frequency limit at times given to it: no clock, no
// sleeping.
func ExampleLimiter() {
	l, err := alerts.NewLimiter(alerts.FrequencyLimit{Max: 2, Period: time.Hour})
	if err != nil {
		panic(err)
	}
	t := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if l.ReserveAt(t) {
			// ... send the email; on failure, l.Release() instead.
			l.CommitAt(t)
			fmt.Println("email", i, "sent")
		} else {
			fmt.Println("email", i, "held until", l.NextAt(t).Format(time.TimeOnly))
		}
	}
	fmt.Println("allowed at 10:00:", l.AllowAt(t.Add(time.Hour)))
	// Output:
	// email 0 sent
	// email 1 sent
	// email 2 held until 10:00:00
	// allowed at 10:00: true
}

func ExampleThreshold_Fires() {
	for _, score := range []float64{3.9, 4, 11} {
		fires, err := alerts.DefaultThreshold.Fires(score)
		fmt.Println(score, fires, err)
	}
	// Output:
	// 3.9 false <nil>
	// 4 true <nil>
	// 11 false alerts: score 11 is outside the valid range [0, 10]
}
