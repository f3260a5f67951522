package query_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/query"
	"github.com/fourd/fourd/storetest"
)

// dump writes a checked tree in a compact form that shows every resolved
// part: fields with their types, operators, typed constants (with their Go
// types), joins with their keys and quantifiers.
func dump(n query.Node) string {
	switch n := n.(type) {
	case *query.Compare:
		f := n.Field
		s := fmt.Sprintf("%s:%s %s", f.Name(), f.Type, n.Op)
		switch n.Op {
		case query.Eq, query.Ne, query.Lt, query.Le, query.Gt, query.Ge, query.Keyword:
			s += " " + constant(n.Value)
		case query.Like, query.NotLike:
			s += fmt.Sprintf(" %q", []string(n.Pattern))
		case query.In:
			var parts []string
			for _, v := range n.List.Values {
				parts = append(parts, constant(v))
			}
			for _, p := range n.List.Patterns {
				parts = append(parts, fmt.Sprintf("%q", []string(p)))
			}
			if n.List.Null {
				parts = append(parts, "null")
			}
			s += " [" + strings.Join(parts, " ") + "]"
		}
		return s
	case *query.Join:
		s := fmt.Sprintf("join %s.%s=%s.%s", n.From.Name, n.FromKey.Name, n.To.Name, n.ToKey.Name)
		if n.ToMany {
			s += " 1->N"
		}
		if n.None {
			s += " none"
		}
		if n.OrEmpty {
			s += " or-empty"
		}
		s += " (" + dump(n.Cond) + ")"
		if n.Step != n.Cond {
			s += " step (" + dump(n.Step) + ")"
		}
		return s
	case *query.Logical:
		return "(" + dump(n.Left) + " " + n.Op.String() + " " + dump(n.Right) + ")"
	case *query.Not:
		return "NOT(" + dump(n.X) + ")"
	}
	return fmt.Sprintf("%T", n)
}

func constant(v any) string {
	if t, ok := v.(time.Time); ok {
		return "time:" + t.Format(time.RFC3339)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

func TestCheckFilter(t *testing.T) {
	m := storetest.DatastoreModel(t)
	tests := []struct {
		dc, filter, want string
	}{
		{"Employee", "salary > 20000", "Employee.salary:number > float64:20000"},
		{"Employee", "salary >= '1.5'", "Employee.salary:number >= float64:1.5"},
		{"Employee", "ID < 2.5", "Employee.ID:long < float64:2.5"},
		{"Employee", "ID = ' 7 '", "Employee.ID:long = int64:7"},
		{"Employee", "lastName = 1980-05-01", "Employee.lastName:string = string:1980-05-01"},
		{"Employee", "lastName === 'Sm@'", "Employee.lastName:string = string:Sm@"},
		{"Employee", "lastName !== smith", "Employee.lastName:string != string:smith"},
		{"Employee", "lastName = 'Sm@'", `Employee.lastName:string LIKE ["Sm" ""]`},
		{"Employee", "lastName # '@mi@'", `Employee.lastName:string NOT LIKE ["" "mi" ""]`},
		{"Employee", "lastName begin 'J@'", `Employee.lastName:string LIKE ["J@" ""]`},
		{"Employee", "lastName % smith", "Employee.lastName:string % string:smith"},
		{"Employee", "lastName = null", "Employee.lastName:string IS NULL"},
		{"Employee", "lastName != null", "Employee.lastName:string IS NOT NULL"},
		{"Employee", "birthDate = '1980-05-01'", "Employee.birthDate:date = time:1980-05-01T00:00:00Z"},
		{"Employee", "birthDate < '01!05!1980'", "Employee.birthDate:date < time:1980-05-01T00:00:00Z"},
		{"Employee", "active = 1", "Employee.active:bool = bool:true"},
		{"Employee", "active # 'FALSE'", "Employee.active:bool != bool:false"},
		{"Employee", "badge = a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90", "Employee.badge:uuid = string:A1B2C3D4E5F60718293A4B5C6D7E8F90"},
		{"Employee", "badge = 'not a uuid'", "Employee.badge:uuid = string:not a uuid"},
		{"Employee", "info.level > 2", "Employee.info.level: > int64:2"},
		{"Employee", "info.city = 'Par@'", `Employee.info.city: LIKE ["Par" ""]`},
		{"Employee", "info.born = 2000-01-01", "Employee.info.born: = time:2000-01-01T00:00:00Z"},
		{"Employee", "lastName IN ['a', 'b@', 3]", `Employee.lastName:string IN [string:a string:3 ["b" ""]]`},
		{"Employee", "salary IN []", "Employee.salary:number IN []"},
		{"Employee", "employer = 3", "Employee.employer:long = int64:3"},
		{"Employee", "employer.ID = 3", "Employee.employer.ID:long = int64:3"},
		{"Employee", "employer.name = Acme", "join Employee.employer=Company.ID (Company.name:string = string:Acme)"},
		{"Employee", "employer.name = null", "join Employee.employer=Company.ID or-empty (Company.name:string IS NULL)"},
		{"Employee", "employer.name # Acme", "join Employee.employer=Company.ID (Company.name:string != string:Acme)"},
		{"Device", "owner = abc", "Device.owner:string = string:abc"},
		{"Company", "staff.lastName = smith", "join Company.ID=Employee.employer 1->N (Employee.lastName:string = string:smith)"},
		{"Company", "staff.lastName # smith", "join Company.ID=Employee.employer 1->N none (Employee.lastName:string = string:smith) step (Employee.lastName:string != string:smith)"},
		{"Company", "staff.lastName !== 'sm@'", "join Company.ID=Employee.employer 1->N none (Employee.lastName:string = string:sm@) step (Employee.lastName:string != string:sm@)"},
		{"Company", "staff.lastName = null", "join Company.ID=Employee.employer 1->N or-empty (Employee.lastName:string IS NULL)"},
		{"Company", "staff.employer.name = Acme", "join Company.ID=Employee.employer 1->N (join Employee.employer=Company.ID (Company.name:string = string:Acme))"},
		{"Employee", "NOT(salary > 1) EXCEPT salary < 0 OR ID = 1",
			"((NOT(Employee.salary:number > float64:1) EXCEPT Employee.salary:number < float64:0) OR Employee.ID:long = int64:1)"},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			q, err := filter.Parse(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			n, err := query.CheckFilter(m, m.DataClass(tt.dc), q.Expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := dump(n); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestCheckFilterErrors checks that a filter that does not fit the model
// is an EINVALID *fourd.Error with the message clients see.
func TestCheckFilterErrors(t *testing.T) {
	m := storetest.DatastoreModel(t)
	tests := []struct {
		dc, filter string
		errCode    int
		msg        string
	}{
		{"Employee", "nope = 1", fourd.ErrCodeUnknownAttribute, `Employee has no attribute "nope"`},
		{"Employee", "employer.nope = 1", fourd.ErrCodeUnknownAttribute, `Company has no attribute "nope"`},
		{"Employee", "salary = abc", fourd.ErrCodeBadFilter, `Employee.salary is a number: "abc" is not a number`},
		{"Employee", "active = 2", fourd.ErrCodeBadFilter, `Employee.active is a bool: 2 is not true or false`},
		{"Employee", "birthDate > yesterday", fourd.ErrCodeBadFilter, `Employee.birthDate is a date: "yesterday" is not a date (YYYY-MM-DD)`},
		{"Employee", "salary = 'a@'", fourd.ErrCodeBadFilter, `Employee.salary is a number: @ wildcards apply to text attributes only ("a@")`},
		{"Employee", "salary begin 1", fourd.ErrCodeBadFilter, `Employee.salary: begin applies to text attributes only`},
		{"Employee", "ID % 1", fourd.ErrCodeBadFilter, `Employee.ID: % (keyword) applies to text attributes only`},
		{"Employee", "salary > :1", fourd.ErrCodeBadFilter, `placeholder :1 has no value`},
		{"Employee", "info = 1", fourd.ErrCodeBadFilter, `Employee.info is an object: compare one of its properties (info.property)`},
		{"Employee", "salary.x = 1", fourd.ErrCodeBadFilter, `Employee.salary is a number attribute: it has no property "x"`},
		{"Employee", "hobbies[].name = 1", fourd.ErrCodeBadFilter, `Employee: hobbies[].name: collection paths are not supported`},
		{"Employee", "salary IN [1, 'x']", fourd.ErrCodeBadFilter, `Employee.salary is a number: "x" is not a number`},
		{"Company", "staff = 1", fourd.ErrCodeBadFilter, `Company.staff lists related entities: compare one of their attributes (staff.attribute)`},
		{"Company", "staff.salary # x", fourd.ErrCodeBadFilter, `Employee.salary is a number: "x" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			q, err := filter.Parse(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			_, err = query.Check(m, fourd.Selection{DataClass: m.DataClass(tt.dc), Filter: q})
			fe := storetest.WantError(t, err, fourd.EINVALID, tt.errCode)
			if fe.Message != tt.msg {
				t.Errorf("message %q, want %q", fe.Message, tt.msg)
			}
		})
	}
}

func TestCheckBadTrees(t *testing.T) {
	m := storetest.DatastoreModel(t)
	emp := m.DataClass("Employee")
	for name, n := range map[string]filter.Node{
		"ErrNil":           nil,
		"ErrNilComparison": (*filter.Comparison)(nil),
		"ErrEmptyPath":     &filter.Comparison{Op: filter.OpEqual, Value: filter.Value{Kind: filter.KindInt}},
		"ErrBadName":       &filter.Comparison{Path: filter.Path{{Name: "info"}, {Name: `a"b`}}, Op: filter.OpEqual, Value: filter.Value{Kind: filter.KindInt}},
		"ErrLogicalOp":     &filter.Logical{Op: 9, Left: &filter.Not{}, Right: &filter.Not{}},
		"ErrEmptyNot":      &filter.Not{},
		"ErrNullOrdered":   &filter.Comparison{Path: filter.Path{{Name: "lastName"}}, Op: filter.OpLess, Value: filter.Value{Kind: filter.KindNull}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := query.CheckFilter(m, emp, n)
			storetest.WantError(t, err, fourd.EINVALID, fourd.ErrCodeBadFilter)
		})
	}
}

// TestCheckInNull checks an IN list with a null (a tree built in Go: the
// grammar has no null in lists): the list holds the plain values, the
// patterns and the null apart.
func TestCheckInNull(t *testing.T) {
	m := storetest.DatastoreModel(t)
	q := storetest.Query(t, "lastName IN ['a', 'b@']")
	c := q.Expr.(*filter.Comparison)
	c.Value.List = append(c.Value.List, filter.Value{Kind: filter.KindNull})
	n, err := query.CheckFilter(m, m.DataClass("Employee"), c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dump(n), `Employee.lastName:string IN [string:a ["b" ""] null]`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCheckSelection(t *testing.T) {
	m := storetest.DatastoreModel(t)
	emp := m.DataClass("Employee")
	t.Run("FilterOrderBy", func(t *testing.T) {
		q := storetest.Query(t, "salary > :1 order by employer.name desc, info.level", 10)
		sel, err := query.Check(m, fourd.Selection{DataClass: emp, Filter: q, InRows: []fourd.RowID{1, 2}})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := dump(sel.Where), "Employee.salary:number > float64:10"; got != want {
			t.Errorf("where %s, want %s", got, want)
		}
		if len(sel.InRows) != 2 || len(sel.OrderBy) != 2 {
			t.Fatalf("got %+v", sel)
		}
		o := sel.OrderBy[0]
		if len(o.Through) != 1 || o.Through[0] != emp.Attribute("employer") || o.Field.Name() != "Company.name" || !o.Desc {
			t.Errorf("first key %+v", o)
		}
		o = sel.OrderBy[1]
		if len(o.Through) != 0 || o.Field.Attribute != emp.Attribute("info") || o.Field.Property.String() != "level" || o.Field.Type != "" || o.Desc {
			t.Errorf("second key %+v", o)
		}
	})
	t.Run("OrderByWins", func(t *testing.T) {
		ob, err := filter.ParseOrderBy("lastName")
		if err != nil {
			t.Fatal(err)
		}
		sel, err := query.Check(m, fourd.Selection{DataClass: emp, Filter: storetest.Query(t, "ID > 0 order by nope"), OrderBy: ob})
		if err != nil {
			t.Fatal(err)
		}
		if len(sel.OrderBy) != 1 || sel.OrderBy[0].Field.Name() != "Employee.lastName" {
			t.Errorf("got %+v", sel.OrderBy)
		}
	})
	t.Run("ErrUnknownDataClass", func(t *testing.T) {
		other := storetest.DatastoreModel(t)
		_, err := query.Check(m, fourd.Selection{DataClass: other.DataClass("Employee")})
		storetest.WantError(t, err, fourd.ENOTFOUND, fourd.ErrCodeUnknownDataClass)
		_, err = query.Check(m, fourd.Selection{})
		storetest.WantError(t, err, fourd.ENOTFOUND, fourd.ErrCodeUnknownDataClass)
	})
}

func TestCheckOrderByErrors(t *testing.T) {
	m := storetest.DatastoreModel(t)
	tests := []struct {
		dc, orderBy string
		errCode     int
		msg         string
	}{
		{"Company", "staff.lastName", fourd.ErrCodeBadFilter, "cannot sort by Company.staff: it lists related entities"},
		{"Employee", "employer.nope", fourd.ErrCodeUnknownAttribute, `Company has no attribute "nope"`},
		{"Employee", "lastName.x", fourd.ErrCodeBadFilter, `Employee.lastName is a string attribute: it has no property "x"`},
		{"Employee", strings.Repeat("ID, ", fourd.MaxOrderByTerms) + "ID", fourd.ErrCodeBadFilter, "a sort of 33 terms: at most 32"},
	}
	for _, tt := range tests {
		t.Run(tt.orderBy, func(t *testing.T) {
			ob, err := filter.ParseOrderBy(tt.orderBy)
			if err != nil {
				t.Fatal(err)
			}
			_, err = query.CheckOrderBy(m, m.DataClass(tt.dc), ob)
			fe := storetest.WantError(t, err, fourd.EINVALID, tt.errCode)
			if fe.Message != tt.msg {
				t.Errorf("message %q, want %q", fe.Message, tt.msg)
			}
		})
	}
}

func TestCheckField(t *testing.T) {
	m := storetest.DatastoreModel(t)
	emp := m.DataClass("Employee")
	f, err := query.CheckField(emp, "info.score")
	if err != nil || f.Property.String() != "score" || f.Type != "" || f.Name() != "Employee.info.score" {
		t.Errorf("info.score: %+v, %v", f, err)
	}
	f, err = query.CheckField(emp, "salary")
	if err != nil || f.Type != fourd.AttrNumber || f.Property != nil {
		t.Errorf("salary: %+v, %v", f, err)
	}
	for attr, msg := range map[string]string{
		"employer":  "Employee.employer is a relation: name one of its attributes from its own dataclass",
		"nope":      `Employee has no attribute "nope"`,
		"salary.x":  `Employee.salary is a number attribute: it has no property "x"`,
		"info..x":   `Employee: "" is not a valid property name`,
		"lastName ": `Employee has no attribute "lastName "`,
	} {
		_, err := query.CheckField(emp, attr)
		var fe *fourd.Error
		if !errors.As(err, &fe) || fe.Code != fourd.EINVALID || fe.Message != msg {
			t.Errorf("%q: got %v, want %q", attr, err, msg)
		}
	}
}

func TestCheckCompute(t *testing.T) {
	m := storetest.DatastoreModel(t)
	emp := m.DataClass("Employee")
	field := func(attr string) query.Field {
		f, err := query.CheckField(emp, attr)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	ops, err := query.CheckCompute(field("lastName"), fourd.AggregateAll)
	if err != nil || fmt.Sprint(ops) != "[count min max]" {
		t.Errorf("$all of a string: %v, %v", ops, err)
	}
	ops, err = query.CheckCompute(field("info.level"), fourd.AggregateSum)
	if err != nil || fmt.Sprint(ops) != "[sum]" {
		t.Errorf("sum of a property: %v, %v", ops, err)
	}
	_, err = query.CheckCompute(field("lastName"), fourd.AggregateSum)
	if fe := storetest.WantError(t, err, fourd.EINVALID, fourd.ErrCodeBadFilter); fe.Message != "$compute: sum does not apply to Employee.lastName, a string" {
		t.Errorf("message %q", fe.Message)
	}
	_, err = query.CheckCompute(field("salary"), "median")
	storetest.WantError(t, err, fourd.EINVALID, fourd.ErrCodeBadFilter)
	storetest.WantError(t, query.CheckDistinct(field("info")), fourd.EINVALID, fourd.ErrCodeBadFilter)
	if err := query.CheckDistinct(field("info.level")); err != nil {
		t.Error(err)
	}
}

func TestPattern(t *testing.T) {
	for _, tt := range []struct {
		p      query.Pattern
		prefix string
		match  filter.Match
	}{
		{query.Pattern{"ab", ""}, "ab", filter.MatchPrefix},
		{query.Pattern{"", "ab"}, "", filter.MatchSuffix},
		{query.Pattern{"", "ab", ""}, "", filter.MatchContains},
		{query.Pattern{"", ""}, "", filter.MatchAny},
		{query.Pattern{"a", "b"}, "a", filter.MatchPattern},
	} {
		if tt.p.Prefix() != tt.prefix || tt.p.Match() != tt.match {
			t.Errorf("%q: prefix %q match %v", []string(tt.p), tt.p.Prefix(), tt.p.Match())
		}
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"1980-05-01", " 1980-05-01 ", "1980-05-01T23:30:00-02:00", "01!05!1980"} {
		if s == "1980-05-01T23:30:00-02:00" {
			// 23:30 at UTC-2 is 01:30 on the 2nd in UTC
			if d, ok := query.ParseDate(s); !ok || !d.Equal(want.AddDate(0, 0, 1)) {
				t.Errorf("%q: %v %v", s, d, ok)
			}
			continue
		}
		if d, ok := query.ParseDate(s); !ok || !d.Equal(want) {
			t.Errorf("%q: %v %v", s, d, ok)
		}
	}
	if _, ok := query.ParseDate("1980-13-01"); ok {
		t.Error("1980-13-01 parsed")
	}
}

func TestNormalizeUUID(t *testing.T) {
	for in, want := range map[string]string{
		"a1b2c3d4e5f60718293a4b5c6d7e8f90":     "A1B2C3D4E5F60718293A4B5C6D7E8F90",
		"a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90": "A1B2C3D4E5F60718293A4B5C6D7E8F90",
		"a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f9g": "",
		"a1b2":                                 "",
	} {
		got, ok := query.NormalizeUUID(in)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v", in, got, ok)
		}
	}
}

func TestConvert(t *testing.T) {
	day := time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		typ  fourd.AttributeType
		in   any
		want any
	}{
		{fourd.AttrString, "x", "x"},
		{fourd.AttrUUID, "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90", "A1B2C3D4E5F60718293A4B5C6D7E8F90"},
		{fourd.AttrLong, 3.0, int64(3)},
		{fourd.AttrLong64, json.Number("12"), int64(12)},
		{fourd.AttrLong, " 7 ", int64(7)},
		{fourd.AttrLong, "7.0", int64(7)},
		{fourd.AttrNumber, 2, 2.0},
		{fourd.AttrNumber, "1.5", 1.5},
		{fourd.AttrBool, "true", true},
		{fourd.AttrBool, false, false},
		{fourd.AttrDate, "1980-05-01", day},
		{fourd.AttrDate, day.Add(23 * time.Hour), day},
		{fourd.AttrDate, " ", nil},
		{fourd.AttrObject, map[string]any{"a": 1.0}, map[string]any{"a": 1.0}},
		{fourd.AttrNumber, nil, nil},
	}
	for _, tt := range tests {
		got, err := query.Convert(tt.typ, tt.in)
		if err != nil || fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", tt.want, tt.want) {
			t.Errorf("%s %#v: got %#v, %v; want %#v", tt.typ, tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		typ fourd.AttributeType
		in  any
		msg string
	}{
		{fourd.AttrString, 3.0, "expected a string, found the number 3"},
		{fourd.AttrUUID, "abc", `"abc" is not a UUID (32 hexadecimal characters)`},
		{fourd.AttrLong, 1.5, "1.5 is not an integer"},
		{fourd.AttrLong, 1e300, "1e+300 is not an integer"},
		{fourd.AttrLong, true, "expected an integer, found the boolean true"},
		{fourd.AttrNumber, "NaN", `"NaN" is not a number`},
		{fourd.AttrBool, "yes", `expected true or false, found the string "yes"`},
		{fourd.AttrDate, "1980-13-01", `"1980-13-01" is not a date (YYYY-MM-DD, an ISO 8601 date-time or dd!mm!yyyy)`},
		{fourd.AttrDate, 3.0, "expected a date string, found the number 3"},
		{fourd.AttrObject, []any{}, "expected an object, found an array"},
	} {
		if _, err := query.Convert(tt.typ, tt.in); err == nil || err.Error() != tt.msg {
			t.Errorf("%s %#v: got %v, want %q", tt.typ, tt.in, err, tt.msg)
		}
	}
}

// TestNodeString checks the descriptions $queryplan shows: comparisons as
// written, relative to their dataclass; joins in 4D's words.
func TestNodeString(t *testing.T) {
	m := storetest.DatastoreModel(t)
	check := func(dc, text string) query.Node {
		t.Helper()
		n, err := query.CheckFilter(m, m.DataClass(dc), storetest.Query(t, text).Expr)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got, want := check("Employee", "employer.ID=3").String(), "Employee.employer.ID = 3"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	j := check("Employee", "employer.name=Acme@").(*query.Join)
	if got, want := j.String()+" / "+j.Step.String(), "Join on Table : Company : Employee.employer = Company.ID / Company.name = 'Acme@'"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	j = check("Company", "staff.lastName # smith").(*query.Join)
	if got, want := j.String()+" / "+j.Step.String()+" / "+j.Cond.String(), "Join on Table : Employee : Company.ID = Employee.employer / Employee.lastName != 'smith' / Employee.lastName = 'smith'"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	l := check("Employee", "NOT(info.city = null) OR salary > 1").(*query.Logical)
	if got, want := l.String()+" / "+l.Left.String()+" / "+l.Left.(*query.Not).X.String(), "OR / NOT / Employee.info.city = null"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestPlan checks the steps of $queryplan: chains of one operator
// flattened, joins with the condition as written under them, and that
// WalkPlan pairs every step with its node and dataclass.
func TestPlan(t *testing.T) {
	m := storetest.DatastoreModel(t)
	company := m.DataClass("Company")
	n, err := query.CheckFilter(m, company, storetest.Query(t, "name = a AND city = b AND NOT(staff.lastName # smith) OR (country = c OR country = d)").Expr)
	if err != nil {
		t.Fatal(err)
	}
	plan := query.Plan(company, n)
	var b strings.Builder
	var write func(s fourd.QueryStep, depth int)
	write = func(s fourd.QueryStep, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + s.Description + "\n")
		for _, c := range s.Steps {
			write(c, depth+1)
		}
	}
	write(plan, 0)
	want := `OR
  AND
    Company.name = 'a'
    Company.city = 'b'
    NOT
      Join on Table : Employee : Company.ID = Employee.employer
        Employee.lastName != 'smith'
  OR
    Company.country = 'c'
    Company.country = 'd'
`
	if b.String() != want {
		t.Errorf("plan:\n%s\nwant:\n%s", b.String(), want)
	}
	var walked []string
	err = query.WalkPlan(company, n, &plan, func(dc *fourd.DataClass, n query.Node, s *fourd.QueryStep) error {
		if n.String() != s.Description {
			t.Errorf("step %q paired with node %q", s.Description, n.String())
		}
		s.Found = len(walked)
		walked = append(walked, dc.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(walked, " "); got != "Company Company Company Company Company Company Employee Company Company Company" {
		t.Errorf("walked %s", got)
	}
	if plan.Steps[0].Steps[2].Steps[0].Steps[0].Found != 6 {
		t.Errorf("the join's step was not filled: %+v", plan.Steps[0].Steps[2])
	}
	if all := query.Plan(company, nil); all.Description != "All entities of Company" {
		t.Errorf("no filter: %q", all.Description)
	}
}
