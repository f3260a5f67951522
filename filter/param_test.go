package filter

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{`a = 1`, nil},
		{`a = :1`, []int{1}},
		{`firstName=:1 AND salary>:2`, []int{1, 2}},
		{`a = :3 OR (b = :1 AND NOT(c IN [:2, 4, :3]))`, []int{1, 2, 3}},
		{`a IN :2 AND b = :2`, []int{2}},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.in).Placeholders(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Placeholders(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBind(t *testing.T) {
	day := time.Date(2021, 3, 4, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		in     string
		params []any
		want   string
	}{
		{"OKSpec", `"firstName=:1 AND salary>:2"`, []any{"john", 20000.0}, `firstName = 'john' AND salary > 20000`},
		{"OKQuoteInValue", `"lastName=:1"`, []any{"O'Reilly"}, `lastName = 'O\'Reilly'`},
		{"OKWildcard", `a = :1`, []any{"A@"}, `a = 'A@'`},
		{"OKStrictAtLiteral", `a === :1`, []any{"A@"}, `a === 'A@'`},
		{"OKFloat", `a < :1`, []any{1.5}, `a < 1.5`},
		{"OKJSONNumber", `a = :1 AND b = :2`, []any{json.Number("7"), json.Number("7.25")}, `a = 7 AND b = 7.25`},
		{"OKGoTypes", `a = :1 AND b = :2 AND c = :3`, []any{3, int64(4), day}, `a = 3 AND b = 4 AND c = 2021-03-04`},
		{"OKBool", `a = :1`, []any{false}, `a = false`},
		{"OKList", `a IN :1`, []any{[]any{"x@", 2.0, true}}, `a IN ['x@', 2, true]`},
		{"OKStringList", `a IN :1`, []any{[]string{"x", "y"}}, `a IN ['x', 'y']`},
		{"OKListElements", `a IN [1, :2, :1]`, []any{"b", 3.0}, `a IN [1, 3, 'b']`},
		{"OKExtraParamsIgnored", `a = :1`, []any{1.0, 2.0}, `a = 1`},
		{"OKNestedTree", `NOT(a = :1 OR b = 2) EXCEPT c = :1 order by a`, []any{"z"}, `NOT(a = 'z' OR b = 2) EXCEPT c = 'z' order by a`},
		{"OKVector", `v >= :1`, []any{map[string]any{"vector": []any{1.0, 2.0, 3.0}, "metric": "dot", "threshold": 1.0}},
			`v >= {vector: [1, 2, 3], metric: 'dot', threshold: 1}`},
		{"OKVectorDefaults", `v > :1`, []any{map[string]any{"vector": []any{0.5}}},
			`v > {vector: [0.5], metric: 'cosine', threshold: 0.5}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := mustParse(t, tt.in)
			before := q.String()
			bound, err := q.Bind(tt.params)
			if err != nil {
				t.Fatalf("Bind: %v", err)
			}
			if got := bound.String(); got != tt.want {
				t.Fatalf("Bind(%v)\n got %s\nwant %s", tt.params, got, tt.want)
			}
			if q.String() != before {
				t.Fatalf("Bind modified the query: %s", q)
			}
			if p := bound.Placeholders(); p != nil {
				t.Fatalf("bound query still has placeholders %v", p)
			}
		})
	}
}

func TestBindValues(t *testing.T) {
	q := mustParse(t, `a = :1 AND b = :2 AND c = :3 AND d = :4`)
	bound, err := q.Bind([]any{"@x@", 1e20, 42.0, -0.25})
	if err != nil {
		t.Fatal(err)
	}
	var got []Value
	for n := bound.Expr; n != nil; {
		switch x := n.(type) {
		case *Logical:
			got = append([]Value{x.Right.(*Comparison).Value}, got...)
			n = x.Left
		case *Comparison:
			got = append([]Value{x.Value}, got...)
			n = nil
		}
	}
	want := []Value{
		{Kind: KindString, Str: "@x@", Wildcard: true, Pattern: []string{"", "x", ""}},
		{Kind: KindFloat, Str: "100000000000000000000", Float: 1e20},
		{Kind: KindInt, Str: "42", Int: 42, Float: 42},
		{Kind: KindFloat, Str: "-0.25", Float: -0.25},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("bound values\n got %#v\nwant %#v", got, want)
	}
}

func TestBindErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		params []any
		want   string
	}{
		{"ErrMissing", `a = :1 AND b = :2`, []any{"x"}, `filter: placeholder :2: no value in $params (1 given)`},
		{"ErrNoParams", `a = :1`, nil, `filter: placeholder :1: no value in $params (0 given)`},
		{"ErrMissingInList", `a IN [:3]`, []any{1.0}, `filter: placeholder :3: no value in $params (1 given)`},
		{"ErrNull", `a = :1`, []any{nil}, `filter: placeholder :1: null cannot be a placeholder value; write null in the filter (attribute = null)`},
		{"ErrInNeedsArray", `a IN :1`, []any{"x"}, `filter: placeholder :1: IN needs an array, found a string`},
		{"ErrArrayWithoutIn", `a = :1`, []any{[]any{1.0}}, `filter: placeholder :1: an array can follow only IN, not "="`},
		{"ErrNestedArray", `a IN :1`, []any{[]any{[]any{1.0}}}, `filter: placeholder :1: a list element cannot be an array`},
		{"ErrArrayInList", `a IN [:1]`, []any{[]any{1.0}}, `filter: placeholder :1: a list element cannot be an array`},
		{"ErrNullInArray", `a IN :1`, []any{[]any{nil}}, `filter: placeholder :1: null cannot be a placeholder value; write null in the filter (attribute = null)`},
		{"ErrVectorWithEqual", `a = :1`, []any{map[string]any{"vector": []any{1.0}}}, `filter: placeholder :1: an object (vector) can follow only <, <=, > or >=`},
		{"ErrVectorEmpty", `a > :1`, []any{map[string]any{"vector": []any{}}}, `filter: placeholder :1: an object must hold a non-empty "vector" array of numbers`},
		{"ErrVectorNotNumber", `a > :1`, []any{map[string]any{"vector": []any{"x"}}}, `filter: placeholder :1: vector element 0 is not a number`},
		{"ErrVectorMetric", `a > :1`, []any{map[string]any{"vector": []any{1.0}, "metric": "manhattan"}}, `filter: placeholder :1: metric must be "cosine", "dot" or "euclidean"`},
		{"ErrVectorThreshold", `a > :1`, []any{map[string]any{"vector": []any{1.0}, "threshold": "high"}}, `filter: placeholder :1: threshold must be a number`},
		{"ErrVectorUnknownKey", `a > :1`, []any{map[string]any{"vector": []any{1.0}, "k": 1.0}}, `filter: placeholder :1: unknown vector property "k"`},
		{"ErrBadJSONNumber", `a = :1`, []any{json.Number("x")}, `filter: placeholder :1: "x" is not a number`},
		{"ErrUnsupported", `a = :1`, []any{struct{}{}}, `filter: placeholder :1: unsupported value of type struct {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mustParse(t, tt.in).Bind(tt.params)
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("Bind: error %v, want *ParamError", err)
			}
			if err.Error() != tt.want {
				t.Fatalf("Bind error\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}
