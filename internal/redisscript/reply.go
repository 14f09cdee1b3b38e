package redisscript

import "fmt"

// A Reply is the reply of one script call. Its methods return it as the
// type the caller expects, or an error naming what was expected when it has
// another shape: the store and its scripts are out of step, and nothing is
// silently read as a zero. A Reply is a value that is not changed after it
// is made; the zero Reply is a nil reply of no operation.
type Reply struct {
	op string // the store operation, for errors
	v  any
}

// NewReply returns v, a reply of the script of the store operation op, as
// a Reply. [Run] makes Replies; tests make their own.
func NewReply(op string, v any) Reply { return Reply{op: op, v: v} }

// Int returns the reply as an integer.
func (r Reply) Int() (int64, error) {
	n, ok := r.v.(int64)
	if !ok {
		return 0, shapeError(r.op, "the reply", r.v, "an integer")
	}
	return n, nil
}

// Array returns the reply as an array of at least min elements.
func (r Reply) Array(min int) (Array, error) {
	elems, ok := r.v.([]any)
	if !ok {
		return Array{}, shapeError(r.op, "the reply", r.v, "an array")
	}
	if len(elems) < min {
		return Array{}, fmt.Errorf("redisstore: %s: the reply has %d elements; want at least %d", r.op, len(elems), min)
	}
	return Array{op: r.op, elems: elems}, nil
}

// An Array is a Reply that is an array, read element by element: each
// method reads element i (which must be less than Len), named what in
// errors ("the lease deadline"). The first element of another type than
// the method's sets Err, and from then on every method returns zero values,
// so that a decoder reads all it needs and checks Err once. Its methods
// take a pointer: read an Array held in a variable, in one goroutine.
type Array struct {
	op    string
	elems []any
	err   error
}

// Len returns the number of elements.
func (a *Array) Len() int { return len(a.elems) }

// Err returns the first error of the methods, or nil.
func (a *Array) Err() error { return a.err }

// Int returns element i as an integer.
func (a *Array) Int(i int, what string) int64 {
	if a.err != nil {
		return 0
	}
	n, ok := a.elems[i].(int64)
	if !ok {
		a.err = shapeError(a.op, what, a.elems[i], "an integer")
	}
	return n
}

// Text returns element i as a string.
func (a *Array) Text(i int, what string) string {
	if a.err != nil {
		return ""
	}
	s, ok := a.elems[i].(string)
	if !ok {
		a.err = shapeError(a.op, what, a.elems[i], "a string")
	}
	return s
}

// OptionalText returns element i as a string, or ok false when it is nil
// (a Lua false: a key, field or member that does not exist).
func (a *Array) OptionalText(i int, what string) (s string, ok bool) {
	if a.err != nil || a.elems[i] == nil {
		return "", false
	}
	s = a.Text(i, what)
	return s, a.err == nil
}

// Texts returns the elements from i on as strings, or nil when there are
// none.
func (a *Array) Texts(i int, what string) []string {
	if a.err != nil || i >= len(a.elems) {
		return nil
	}
	out := make([]string, len(a.elems)-i)
	for j := range out {
		out[j] = a.Text(i+j, what)
	}
	if a.err != nil {
		return nil
	}
	return out
}

// shapeError reports a reply (or element) of the store operation op, named
// what, that is not of the type want.
func shapeError(op, what string, v any, want string) error {
	return fmt.Errorf("redisstore: %s: %s is %T %v; want %s", op, what, v, v, want)
}
