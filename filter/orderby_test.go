package filter

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseOrderBy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want OrderBy
		str  string
	}{
		{"OKOne", `lastName`, OrderBy{{Path: Path{{Name: "lastName"}}}}, `lastName`},
		{"OKSpec", `"lastName DESC, firstName"`, OrderBy{
			{Path: Path{{Name: "lastName"}}, Desc: true},
			{Path: Path{{Name: "firstName"}}},
		}, `lastName desc, firstName`},
		{"OKSpecNoSpace", `"salary DESC,lastName ASC"`, OrderBy{
			{Path: Path{{Name: "salary"}}, Desc: true},
			{Path: Path{{Name: "lastName"}}},
		}, `salary desc, lastName`},
		{"OKRelationPath", `employer.name desc`, OrderBy{
			{Path: Path{{Name: "employer"}, {Name: "name"}}, Desc: true},
		}, `employer.name desc`},
		{"OKMixedCase", `a Asc, b dEsC`, OrderBy{
			{Path: Path{{Name: "a"}}},
			{Path: Path{{Name: "b"}}, Desc: true},
		}, `a, b desc`},
		{"OKSpaces", "  a ,\tb  ", OrderBy{{Path: Path{{Name: "a"}}}, {Path: Path{{Name: "b"}}}}, `a, b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOrderBy(tt.in)
			if err != nil {
				t.Fatalf("ParseOrderBy(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseOrderBy(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
			if got.String() != tt.str {
				t.Fatalf("String() = %q, want %q", got.String(), tt.str)
			}
		})
	}
}

func TestParseOrderByErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"ErrEmpty", ``, `orderby: at column 1: expected an attribute path, found end of input`},
		{"ErrEmptyQuoted", `""`, `orderby: at column 2: expected an attribute path, found end of input`},
		{"ErrTrailingComma", `a,`, `orderby: at column 3: expected an attribute path after ",", found end of input`},
		{"ErrDoubleComma", `a,,b`, `orderby: at column 3: expected an attribute path after ",", found ","`},
		{"ErrUnknownDirection", `a up`, `orderby: at column 3: expected asc, desc, "," or end of input after "a", found "up"`},
		{"ErrTwoDirections", `a desc asc`, `orderby: at column 8: expected "," or end of input, found "asc"`},
		{"ErrBadPath", `a.`, `orderby: at column 3: expected an attribute name after "a.", found end of input`},
		{"ErrUnclosedQuote", `"a`, `orderby: at column 1: the text starts with a double quote but does not end with one`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOrderBy(tt.in)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseOrderBy(%q): error %v, want *SyntaxError", tt.in, err)
			}
			if err.Error() != tt.want {
				t.Fatalf("ParseOrderBy(%q) error\n got %s\nwant %s", tt.in, err, tt.want)
			}
		})
	}
}
