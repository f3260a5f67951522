package filter

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that its errors are
// *SyntaxError values pointing inside the input, and that the canonical
// text of a parsed query parses again to the same canonical text. The seed
// corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(`salary>20000 AND employer.name!=acme`)
	f.Add(`"lastName begin j"`)
	f.Add(`lastName=\u0022O\u0027Reilly\u0022 OR name=O'Brien`)
	f.Add(`\u0022a = 'say \u0022hi\u0022'\u0022`)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error %T %v, want *SyntaxError", s, err, err)
			}
			if se.Pos < 0 || se.Pos > len(s) || se.Column < 1 || se.Column > len(s)+1 {
				t.Fatalf("Parse(%q): error position %d, column %d, out of the input", s, se.Pos, se.Column)
			}
		} else {
			out := q.String()
			if len(out) <= MaxLength { // the canonical text can be longer than the input
				q2, err := Parse(out)
				if err != nil {
					t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, out, err)
				}
				if got := q2.String(); got != out {
					t.Fatalf("Parse(%q) = %q, which parses to %q", s, out, got)
				}
			}
			// Binding must not panic whatever the placeholders ask for.
			_, _ = q.Bind([]any{"A@", 2.5, true, []any{"x", 1.0}, nil, map[string]any{"vector": []any{1.0}}})
		}
		if ob, err := ParseOrderBy(s); err == nil {
			out := ob.String()
			ob2, err := ParseOrderBy(out)
			if err != nil || ob2.String() != out {
				t.Fatalf("ParseOrderBy(%q) = %q, which parses to %v, %v", s, out, ob2, err)
			}
		}
	})
}
