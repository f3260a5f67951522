package filter

import "strings"

// Order is one sort key: an attribute path and its direction.
type Order struct {
	Path Path
	// Desc is set for a descending sort; the default is ascending.
	Desc bool
}

// String returns the key as written in $orderby: "lastName" or
// "salary desc".
func (o Order) String() string {
	if o.Desc {
		return o.Path.String() + " desc"
	}
	return o.Path.String()
}

// OrderBy is a list of sort keys, the most significant first.
type OrderBy []Order

// String returns the keys as canonical $orderby text:
// "lastName desc, firstName". ParseOrderBy reads it back.
func (ob OrderBy) String() string {
	var b strings.Builder
	for i, o := range ob {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.String())
	}
	return b.String()
}

// ParseOrderBy reads a $orderby value such as "lastName DESC, firstName":
// attribute paths (relation paths included) separated by commas, each
// optionally followed by asc or desc in any case. Like Parse it accepts
// one pair of double quotes around the whole text and applies the same
// MaxLength. The error is a *SyntaxError whose message starts with
// "orderby:".
func ParseOrderBy(s string) (OrderBy, error) {
	p, err := newParser(s, true)
	if err != nil {
		return nil, err
	}
	return p.parseOrderList("")
}

// parseOrderList reads key {"," key} up to the end of the input. after is
// what precedes the list ("order by", or "" for $orderby), for messages.
func (p *parser) parseOrderList(after string) (OrderBy, error) {
	var ob OrderBy
	for {
		t := p.lx.next()
		if t.kind != tokWord {
			if after == "" {
				return nil, p.errorf(t.pos, "expected an attribute path, found %s", describe(t))
			}
			return nil, p.errorf(t.pos, "expected an attribute path after %q, found %s", after, describe(t))
		}
		path, err := p.parsePath(t)
		if err != nil {
			return nil, err
		}
		pathText := p.lx.src[t.pos:p.lx.pos]
		o := Order{Path: path}
		n := p.lx.next()
		direction := n.isWord("asc") || n.isWord("desc")
		if direction {
			o.Desc = n.isWord("desc")
			n = p.lx.next()
		}
		ob = append(ob, o)
		switch {
		case n.is(","):
			after = ","
		case n.kind == tokEOF:
			return ob, nil
		case direction:
			return nil, p.errorf(n.pos, "expected \",\" or end of input, found %s", describe(n))
		default:
			return nil, p.errorf(n.pos, "expected asc, desc, \",\" or end of input after %q, found %s", pathText, describe(n))
		}
	}
}
