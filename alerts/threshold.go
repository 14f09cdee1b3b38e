package alerts

import (
	"errors"
	"fmt"
)

// The valid range of an event's score, inclusive at both ends, and the
// threshold of the Active Threat category.
const (
	MinScore         = 0.0
	MaxScore         = 10.0
	DefaultThreshold = Threshold(4)
)

// ErrInvalidScore is the error that a [ScoreError] wraps.
var ErrInvalidScore = errors.New("alerts: invalid score")

// A ScoreError reports a score (of an event or of a threshold) that is NaN,
// infinite, or outside [MinScore, MaxScore]. Scores are never clamped.
type ScoreError struct {
	Score float64 // the score as given
}

// Error describes the problem, naming the score and the valid range.
func (e *ScoreError) Error() string {
	return fmt.Sprintf("alerts: score %v is outside the valid range [%v, %v]", e.Score, MinScore, MaxScore)
}

// Unwrap returns [ErrInvalidScore].
func (e *ScoreError) Unwrap() error { return ErrInvalidScore }

// A Threshold is the lowest score, inclusive, at which an event fires an
// immediate alert: with the default, 4, a score of 4 fires and 3.99 does not.
// Events below it are left to the daily digest.
//
// Its zero value, 0, lets every valid score fire. A Threshold is a plain
// value, safe for concurrent use.
type Threshold float64

// Validate reports an error (a [*ScoreError]) if t itself is not a valid score.
func (t Threshold) Validate() error { return checkScore(float64(t)) }

// Fires reports whether score reaches t. A score that is NaN, infinite or
// outside [MinScore, MaxScore] is an error (a [*ScoreError]), not a verdict.
func (t Threshold) Fires(score float64) (bool, error) {
	if err := checkScore(score); err != nil {
		return false, err
	}
	return score >= float64(t), nil
}

func checkScore(s float64) error {
	// The negated comparison also catches NaN.
	if !(s >= MinScore && s <= MaxScore) {
		return &ScoreError{Score: s}
	}
	return nil
}
