package render

import (
	"fmt"
	"slices"
	"testing"
)

func TestCut(t *testing.T) {
	t.Parallel()
	s := []int{1, 2, 3, 4, 5}
	tests := []struct {
		max      int
		want     []int
		wantMore int
	}{
		{0, s, 0},
		{-1, s, 0},
		{1, s[:1], 4},
		{4, s[:4], 1},
		{5, s, 0},
		{9, s, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			got, more := Cut(s, tt.max)
			if !slices.Equal(got, tt.want) || more != tt.wantMore {
				t.Errorf("Cut(%v, %d) = %v, %d; want %v, %d", s, tt.max, got, more, tt.want, tt.wantMore)
			}
			// Appending to the shown items must not overwrite the rest.
			_ = append(got, 99)
			if s[len(s)-1] != 5 {
				t.Fatalf("append after Cut(%v, %d) overwrote the input", s, tt.max)
			}
		})
	}
}
