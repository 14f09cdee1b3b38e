package render

// Cut returns the first max items of s and how many it left out, for a
// list followed by a "View more" line. A max of zero or less keeps every
// item. The returned slice shares s's backing array.
func Cut[T any](s []T, max int) (shown []T, more int) {
	if max <= 0 || len(s) <= max {
		return s, 0
	}
	return s[:max:max], len(s) - max
}
