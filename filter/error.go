package filter

import "fmt"

// SyntaxError reports text that Parse or ParseOrderBy cannot read. Its
// message says where the problem is and what was expected there, and quotes
// only a short piece of the input, so it is safe to show to the client that
// sent the filter.
type SyntaxError struct {
	// Pos is the 0-based byte offset of the problem in the text given to
	// Parse or ParseOrderBy (enclosing double quotes included).
	Pos int
	// Column is the 1-based position of the problem in characters, as a
	// person counts it.
	Column int
	// Msg says what was expected and what was found, without the position.
	Msg string

	orderBy bool // the text was an $orderby value, not a $filter
}

// Error returns the message with its position, for example
// `filter: at column 14: expected a value after ">=", found end of input`.
// Errors from ParseOrderBy start with "orderby:" instead of "filter:".
func (e *SyntaxError) Error() string {
	what := "filter"
	if e.orderBy {
		what = "orderby"
	}
	return fmt.Sprintf("%s: at column %d: %s", what, e.Column, e.Msg)
}

// ParamError reports a placeholder that Query.Bind cannot fill from the
// $params values: a missing value, or one whose type does not fit the
// comparison. Its message is safe to show to the client.
type ParamError struct {
	// Index is the placeholder's number: 2 for :2.
	Index int
	// Msg says what is wrong with the value.
	Msg string
}

// Error returns the message, for example
// `filter: placeholder :2: no value in $params (1 given)`.
func (e *ParamError) Error() string {
	return fmt.Sprintf("filter: placeholder :%d: %s", e.Index, e.Msg)
}
