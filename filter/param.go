package filter

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Placeholders returns the placeholder numbers q uses, sorted, each once:
// [1 2] for "firstName=:1 AND salary>:2". A REST handler can check them
// against the length of $params before running anything.
func (q *Query) Placeholders() []int {
	var out []int
	var walk func(Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *Comparison:
			if n.Value.Kind == KindPlaceholder {
				out = append(out, n.Value.Placeholder)
			}
			for _, e := range n.Value.List {
				if e.Kind == KindPlaceholder {
					out = append(out, e.Placeholder)
				}
			}
		case *Logical:
			walk(n.Left)
			walk(n.Right)
		case *Not:
			walk(n.X)
		}
	}
	if q != nil {
		walk(q.Expr)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Bind returns a copy of q in which every placeholder :N is replaced by
// params[N-1]; q itself is not modified, so a parsed query can be kept and
// bound again with other values. Values beyond the highest placeholder are
// ignored.
//
// params are values as encoding/json decodes them from $params: string,
// float64 (or json.Number), bool, []any and map[string]any; Go callers may
// also pass int, int64, time.Time and []string. They become:
//
//   - string: a KindString. An @ in it is a wildcard when the operator
//     supports wildcards (there is no escape in $params: use === for a
//     literal @). A string is never turned into a date; the compiler
//     converts it to the attribute's type.
//   - number: a KindInt when it has no fraction and fits an int64 exactly,
//     else a KindFloat.
//   - bool: a KindBool. time.Time: a KindDate (its date, at midnight UTC).
//   - array: a KindList, only for IN, whose elements are scalars. IN needs
//     an array.
//   - object {"vector": [numbers], "metric": "cosine"|"dot"|"euclidean",
//     "threshold": number}: a KindVector, only for <, <=, > and >=. metric
//     defaults to cosine and threshold to 0.5, as in 4D.
//
// null is refused, as 4D refuses it: write the null keyword in the filter
// instead (spouse = null). On failure the error is a *ParamError.
func (q *Query) Bind(params []any) (*Query, error) {
	if q == nil {
		return nil, nil
	}
	expr, err := bindNode(q.Expr, params)
	if err != nil {
		return nil, err
	}
	return &Query{Expr: expr, OrderBy: slices.Clone(q.OrderBy)}, nil
}

func bindNode(n Node, params []any) (Node, error) {
	switch n := n.(type) {
	case *Comparison:
		c := *n
		v, err := bindValue(c.Value, c.Op, params)
		if err != nil {
			return nil, err
		}
		c.Value = v
		return &c, nil
	case *Logical:
		l := *n
		var err error
		if l.Left, err = bindNode(n.Left, params); err != nil {
			return nil, err
		}
		if l.Right, err = bindNode(n.Right, params); err != nil {
			return nil, err
		}
		return &l, nil
	case *Not:
		x, err := bindNode(n.X, params)
		if err != nil {
			return nil, err
		}
		return &Not{X: x, Pos: n.Pos}, nil
	}
	return n, nil
}

// bindValue replaces the placeholders of v, a comparison's value.
func bindValue(v Value, op Op, params []any) (Value, error) {
	switch v.Kind {
	case KindPlaceholder:
		p, err := param(v.Placeholder, params)
		if err != nil {
			return Value{}, err
		}
		return convert(v.Placeholder, p, op, false)
	case KindList:
		list := make([]Value, len(v.List))
		for i, e := range v.List {
			if e.Kind != KindPlaceholder {
				list[i] = e
				continue
			}
			p, err := param(e.Placeholder, params)
			if err != nil {
				return Value{}, err
			}
			if list[i], err = convert(e.Placeholder, p, op, true); err != nil {
				return Value{}, err
			}
		}
		v.List = list
	}
	return v, nil
}

func param(n int, params []any) (any, error) {
	if n < 1 || n > len(params) {
		return nil, &ParamError{Index: n, Msg: fmt.Sprintf("no value in $params (%d given)", len(params))}
	}
	return params[n-1], nil
}

// convert turns the value p of placeholder :n into a Value for op.
// inList says p is an element of an IN list.
func convert(n int, p any, op Op, inList bool) (Value, error) {
	fail := func(format string, args ...any) (Value, error) {
		return Value{}, &ParamError{Index: n, Msg: fmt.Sprintf(format, args...)}
	}
	if op == OpIn && !inList {
		var elems []any
		switch x := p.(type) {
		case []any:
			elems = x
		case []string:
			for _, s := range x {
				elems = append(elems, s)
			}
		default:
			return fail("IN needs an array, found %s", typeName(p))
		}
		list := Value{Kind: KindList, List: make([]Value, 0, len(elems))}
		for _, e := range elems {
			v, err := convert(n, e, op, true)
			if err != nil {
				return Value{}, err
			}
			list.List = append(list.List, v)
		}
		return list, nil
	}
	switch x := p.(type) {
	case nil:
		return fail("null cannot be a placeholder value; write null in the filter (attribute = null)")
	case string:
		var pieces []string
		if strings.IndexByte(x, '@') >= 0 {
			pieces = strings.Split(x, "@")
		}
		return stringValue(x, pieces, op), nil
	case bool:
		return Value{Kind: KindBool, Str: strconv.FormatBool(x), Bool: x}, nil
	case float64:
		return number(n, x)
	case float32:
		return number(n, float64(x))
	case int:
		return intValue(int64(x)), nil
	case int32:
		return intValue(int64(x)), nil
	case int64:
		return intValue(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return intValue(i), nil
		}
		f, err := x.Float64()
		if err != nil {
			return fail("%q is not a number", string(x))
		}
		return number(n, f)
	case time.Time:
		y, m, d := x.Date()
		date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return Value{Kind: KindDate, Str: date.Format(time.DateOnly), Date: date}, nil
	case []any, []string:
		if inList {
			return fail("a list element cannot be an array")
		}
		return fail("an array can follow only IN, not %q", op.String())
	case map[string]any:
		if inList || !op.ordered() {
			return fail("an object (vector) can follow only <, <=, > or >=")
		}
		return vector(n, x)
	}
	return fail("unsupported value of type %s", typeName(p))
}

func intValue(i int64) Value {
	return Value{Kind: KindInt, Str: strconv.FormatInt(i, 10), Int: i, Float: float64(i)}
}

// number makes a KindInt from a float without fraction that fits an int64
// exactly, else a KindFloat.
func number(n int, f float64) (Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}, &ParamError{Index: n, Msg: "not a finite number"}
	}
	if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return intValue(int64(f)), nil
	}
	return Value{Kind: KindFloat, Str: strconv.FormatFloat(f, 'f', -1, 64), Float: f}, nil
}

// vector reads a {"vector", "metric", "threshold"} object.
func vector(n int, obj map[string]any) (Value, error) {
	fail := func(format string, args ...any) (Value, error) {
		return Value{}, &ParamError{Index: n, Msg: fmt.Sprintf(format, args...)}
	}
	vec := &Vector{Metric: MetricCosine, Threshold: 0.5}
	raw, ok := obj["vector"].([]any)
	if !ok || len(raw) == 0 {
		return fail("an object must hold a non-empty \"vector\" array of numbers")
	}
	vec.Values = make([]float64, len(raw))
	for i, e := range raw {
		f, ok := toFloat(e)
		if !ok {
			return fail("vector element %d is not a number", i)
		}
		vec.Values[i] = f
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		e := obj[k]
		switch k {
		case "vector":
		case "metric":
			s, _ := e.(string)
			switch m := Metric(s); m {
			case MetricCosine, MetricDot, MetricEuclidean:
				vec.Metric = m
			default:
				return fail("metric must be \"cosine\", \"dot\" or \"euclidean\"")
			}
		case "threshold":
			f, ok := toFloat(e)
			if !ok {
				return fail("threshold must be a number")
			}
			vec.Threshold = f
		default:
			return fail("unknown vector property %q", k)
		}
	}
	return Value{Kind: KindVector, Vector: vec}, nil
}

func toFloat(e any) (float64, bool) {
	var f float64
	switch x := e.(type) {
	case float64:
		f = x
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	case int:
		f = float64(x)
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

// typeName names p's type as a JSON reader would.
func typeName(p any) string {
	switch p.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, float32, int, int32, int64, json.Number:
		return "a number"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", p)
}
