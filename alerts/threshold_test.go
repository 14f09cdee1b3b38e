package alerts_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		assert.Equalf(t, tc.want, got, "Threshold(%v).Fires(%v)", tc.th, tc.score)
		if !tc.wantErr {
			assert.NoErrorf(t, err, "Threshold(%v).Fires(%v)", tc.th, tc.score)
			continue
		}
		assert.ErrorIsf(t, err, alerts.ErrInvalidScore, "Threshold(%v).Fires(%v)", tc.th, tc.score)
		var se *alerts.ScoreError
		if assert.ErrorAsf(t, err, &se, "Threshold(%v).Fires(%v)", tc.th, tc.score) {
			assert.Truef(t, sameFloat(se.Score, tc.score), "ScoreError.Score = %v; want %v", se.Score, tc.score)
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
		assert.Equalf(t, tc.want, errString(tc.th.Validate()), "Threshold(%v).Validate()", tc.th)
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
		require.Equalf(t, valid, err == nil, "Threshold(%v).Fires(%v) error = %v", th, score, err)
		if valid {
			require.Equalf(t, score >= th, got, "Threshold(%v).Fires(%v)", th, score)
		}
	})
}
