package alerts_test

import (
	"errors"
	"math"
	"testing"

	"github.com/alertmail/alertmail/alerts"
)

func TestThresholdFires(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		th      alerts.Threshold
		score   float64
		want    bool
		wantErr bool
	}{
		{alerts.DefaultThreshold, 4, true, false},
		{alerts.DefaultThreshold, 3.999999, false, false},
		{alerts.DefaultThreshold, 10, true, false},
		{alerts.DefaultThreshold, 0, false, false},
		{alerts.Threshold(7.5), 7.5, true, false},
		{alerts.Threshold(7.5), 7.4, false, false},
		{alerts.Threshold(0), 0, true, false},
		{alerts.DefaultThreshold, -0.1, false, true},
		{alerts.DefaultThreshold, 10.000001, false, true},
		{alerts.DefaultThreshold, math.NaN(), false, true},
		{alerts.DefaultThreshold, math.Inf(1), false, true},
		{alerts.DefaultThreshold, math.Inf(-1), false, true},
	} {
		got, err := tc.th.Fires(tc.score)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Threshold(%v).Fires(%v) = %v, %v; want %v, error %v", tc.th, tc.score, got, err, tc.want, tc.wantErr)
		}
		var se *alerts.ScoreError
		if tc.wantErr && (!errors.Is(err, alerts.ErrInvalidScore) || !errors.As(err, &se) || !sameFloat(se.Score, tc.score)) {
			t.Errorf("Threshold(%v).Fires(%v) error = %v; want a *ScoreError for the score wrapping ErrInvalidScore", tc.th, tc.score, err)
		}
	}
}

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func TestThresholdValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		th   alerts.Threshold
		want string
	}{
		{alerts.DefaultThreshold, ""},
		{0, ""},
		{10, ""},
		{11, "alerts: score 11 is outside the valid range [0, 10]"},
		{alerts.Threshold(math.NaN()), "alerts: score NaN is outside the valid range [0, 10]"},
	} {
		err := tc.th.Validate()
		if got := errString(err); got != tc.want {
			t.Errorf("Threshold(%v).Validate() = %q; want %q", tc.th, got, tc.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// FuzzThresholdFires checks that Fires never panics, errs exactly on the
// scores outside the range, and agrees with a plain comparison otherwise.
func FuzzThresholdFires(f *testing.F) {
	for _, s := range []float64{0, 4, 3.99, 10, -1, 11, math.NaN(), math.Inf(1), math.SmallestNonzeroFloat64} {
		f.Add(4.0, s)
	}
	f.Fuzz(func(t *testing.T, th, score float64) {
		got, err := alerts.Threshold(th).Fires(score)
		valid := score >= alerts.MinScore && score <= alerts.MaxScore
		if valid != (err == nil) {
			t.Fatalf("Threshold(%v).Fires(%v) error = %v; want error %v", th, score, err, !valid)
		}
		if valid && got != (score >= th) {
			t.Fatalf("Threshold(%v).Fires(%v) = %v; want %v", th, score, got, score >= th)
		}
	})
}
