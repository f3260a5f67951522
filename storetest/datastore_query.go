package storetest

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// TestFilter runs every operator and value form against the fixture and
// checks the exact set of keys selected.
func testFilter(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	m := db.Model()
	all := ints(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	named := ints(1, 2, 3, 4, 5, 6, 7, 8, 9) // every employee with a lastName
	tests := []struct {
		name   string
		class  string // "Employee" when empty
		filter string
		params []any
		want   []string
	}{
		// = and == with and without @, case-insensitive
		{name: "EqualIgnoresCase", filter: "lastName = SMITH", want: ints(1, 2)},
		{name: "DoubleEqual", filter: "lastName == 'Smith'", want: ints(1, 2)},
		{name: "EqualPrefixWildcard", filter: "lastName = 'sm@'", want: ints(1, 2, 7)},
		{name: "EqualSuffixWildcard", filter: "lastName = '@smith'", want: ints(1, 2, 6)},
		{name: "EqualContainsWildcard", filter: "lastName = '@TIN@'", want: ints(6)},
		{name: "EqualInnerWildcard", filter: "lastName = 's@h'", want: ints(1, 2)},
		{name: "EqualAloneWildcardMatchesEveryValue", filter: "lastName = '@'", want: named},
		{name: "EqualEscapedAtIsLiteral", filter: `lastName = 'Sm\@rt'`, want: ints(7)},
		{name: "EqualPercentIsLiteral", filter: "lastName = '100%@'", want: ints(8)},
		{name: "EqualUnderscoreIsLiteral", filter: "lastName = '100_@'", want: nil},
		{name: "EqualPlaceholderWildcard", filter: "lastName = :1", params: []any{"jo@"}, want: ints(4)},
		{name: "EqualApostrophe", filter: "lastName = :1", params: []any{"o'brien"}, want: ints(3)},
		// === and !==: @ is literal, case still ignored
		{name: "StrictEqualAtIsLiteral", filter: "lastName === 'sm@RT'", want: ints(7)},
		{name: "StrictEqualNoWildcard", filter: "lastName === 'Sm@'", want: nil},
		{name: "IsKeyword", filter: "lastName IS smith", want: ints(1, 2)},
		{name: "StrictNotEqual", filter: "lastName !== smith", want: ints(3, 4, 5, 6, 7, 8, 9)},
		{name: "IsNot", filter: "lastName IS NOT 'Sm@rt'", want: ints(1, 2, 3, 4, 5, 6, 8, 9)},
		// # and != never match null
		{name: "NotEqualSkipsNull", filter: "lastName # smith", want: ints(3, 4, 5, 6, 7, 8, 9)},
		{name: "NotEqualWildcard", filter: "lastName != 'sm@'", want: ints(3, 4, 5, 6, 8, 9)},
		{name: "NotEqualNumberSkipsNull", filter: "salary # 30000", want: ints(1, 2, 3, 5, 6, 7, 10)},
		// ordering
		{name: "Greater", filter: "salary > 50000", want: ints(1, 3, 6, 7)},
		{name: "GreaterEqual", filter: "salary >= 50000", want: ints(1, 3, 5, 6, 7)},
		{name: "Less", filter: "salary < 45000", want: ints(8, 9, 10)},
		{name: "LessEqual", filter: "salary <= 45000", want: ints(2, 8, 9, 10)},
		{name: "FloatValue", filter: "salary = 99999.5", want: ints(7)},
		{name: "StringConvertedToNumber", filter: "salary = '60000'", want: ints(1)},
		{name: "NumberPlaceholder", filter: "salary > :1", params: []any{99999.0}, want: ints(3, 7)},
		{name: "StringPlaceholderConvertedToNumber", filter: "salary > :1", params: []any{"99999.9"}, want: ints(3)},
		{name: "TextLessIgnoresCase", filter: "lastName < 'b'", want: ints(8, 9)},
		{name: "DigitsWithWildcardOnText", filter: "lastName = 1000@", want: ints(9)},
		// IN
		{name: "InNumbers", filter: "ID IN [1, 3, 99]", want: ints(1, 3)},
		{name: "InStringsWithWildcard", filter: "lastName IN ['SMITH', 'jo@']", want: ints(1, 2, 4)},
		{name: "InPlaceholder", filter: "ID IN :1", params: []any{[]any{2.0, 4.0}}, want: ints(2, 4)},
		{name: "InEmptyPlaceholderList", filter: "ID IN :1", params: []any{[]any{}}, want: nil},
		{name: "InLongListIgnoresCase", filter: "lastName IN :1", params: []any{longList("SMITH", "jones")}, want: ints(1, 2, 4)},
		{name: "InLongListOfNumbers", filter: "salary IN :1", params: []any{longList(30000.0, 99999.5)}, want: ints(7, 8, 9)},
		// begin
		{name: "BeginIgnoresCase", filter: "lastName begin SM", want: ints(1, 2, 7)},
		{name: "BeginAtIsLiteral", filter: "lastName begin 'sm@'", want: ints(7)},
		{name: "BeginPercentIsLiteral", filter: "lastName begin '100%'", want: ints(8)},
		// % keyword
		{name: "KeywordWholeWord", filter: "lastName % smith", want: ints(1, 2, 6)},
		{name: "KeywordPartOfWordMatchesNothing", filter: "lastName % smi", want: nil},
		{name: "KeywordSeveralWordsMatchNothing", filter: "lastName % '1000 real'", want: nil},
		{name: "KeywordApostropheInWord", filter: "lastName % \"o'brien\"", want: ints(3)},
		{name: "KeywordUnicodeFold", filter: "firstName % ÉMILE", want: ints(5)},
		// null
		{name: "EqualNull", filter: "lastName = null", want: ints(10)},
		{name: "NotEqualNull", filter: "lastName # null", want: named},
		{name: "StrictNotEqualNull", filter: "salary !== null", want: ints(1, 2, 3, 5, 6, 7, 8, 9, 10)},
		{name: "NullNumber", filter: "salary = null", want: ints(4)},
		// booleans
		{name: "BoolTrue", filter: "active = true", want: ints(1, 3)},
		{name: "BoolFalse", filter: "active = false", want: ints(2)},
		{name: "BoolFromString", filter: "active = 'TRUE'", want: ints(1, 3)},
		{name: "BoolNotTrueSkipsNull", filter: "active # true", want: ints(2)},
		// dates
		{name: "DateEqual", filter: "birthDate = 1980-05-01", want: ints(1)},
		{name: "DateQuoted", filter: "birthDate = '1980-05-01'", want: ints(1)},
		{name: "DateGreater", filter: "birthDate > 1980-01-01", want: ints(1, 2, 6, 7)},
		{name: "DateLessOrdersAsDates", filter: "birthDate < 1975-12-31", want: ints(5)},
		{name: "DateFromISODateTime", filter: "birthDate = :1", params: []any{"2000-02-29T00:00:00Z"}, want: ints(6)},
		{name: "Date4DForm", filter: "birthDate = '14!07!1960'", want: ints(5)},
		// uuid
		{name: "UUIDIgnoresCase", filter: "badge = :1", params: []any{strings.ToLower(badgeJohn)}, want: ints(1)},
		{name: "UUIDWithDashes", filter: "badge = '01234567-89ab-cdef-0123-456789abcdef'", want: ints(3)},
		// AND, OR, EXCEPT, NOT, left to right
		{name: "And", filter: "salary > 50000 AND lastName = smith", want: ints(1)},
		{name: "AndSymbol", filter: "salary > 50000 & lastName = smith", want: ints(1)},
		{name: "Or", filter: "lastName = smith OR salary > 100000", want: ints(1, 2, 3)},
		{name: "Except", filter: "salary > 40000 EXCEPT lastName = smith", want: ints(3, 5, 6, 7)},
		{name: "ExceptKeepsNullsOfTheRightSide", filter: "ID > 0 EXCEPT salary > 40000", want: ints(4, 8, 9, 10)},
		{name: "LeftToRight", filter: "lastName = jones OR lastName = smith AND salary > 50000", want: ints(1)},
		{name: "ParenthesesGroup", filter: "lastName = jones OR (lastName = smith AND salary > 50000)", want: ints(1, 4)},
		{name: "NotIsSetComplement", filter: "NOT(salary > 50000)", want: ints(2, 4, 5, 8, 9, 10)},
		{name: "NotNot", filter: "NOT(NOT(salary > 50000))", want: ints(1, 3, 6, 7)},
		{name: "NotOfNotEqualIncludesNull", filter: "NOT(lastName # smith)", want: ints(1, 2, 10)},
		// N->1 relation paths
		{name: "ToOne", filter: "employer.name = acme", want: ints(1, 2)},
		{name: "ToOneWildcard", filter: "employer.name = 'acme@'", want: ints(1, 2, 5)},
		{name: "ToOnePercentInName", filter: "employer.name = '100%@'", want: ints(7, 8, 9)},
		{name: "ToOneUnderscoreInName", filter: "employer.name begin 'under_'", want: ints(6)},
		{name: "ToOneNotEqual", filter: "employer.name # acme", want: ints(3, 5, 6, 7, 8, 9, 10)},
		{name: "ToOneNullIncludesNoRelation", filter: "employer.city = null", want: ints(4, 7, 8, 9)},
		{name: "ToOneKey", filter: "employer.ID = 3", want: ints(3, 10)},
		{name: "RelationAttributeByKey", filter: "employer = 1", want: ints(1, 2)},
		{name: "RelationAttributeNull", filter: "employer = null", want: ints(4)},
		{name: "ToOneNumber", filter: "employer.revenues > 4000000", want: ints(1, 2, 3, 10)},
		{name: "ToOneAndLocal", filter: "salary > 50000 AND employer.name = Acme@", want: ints(1)},
		// 1->N relation paths
		{name: "ToMany", class: "Company", filter: "staff.lastName = smith", want: ints(1)},
		{name: "ToManyWildcard", class: "Company", filter: "staff.lastName = '@smith'", want: ints(1, 5)},
		{name: "ToManyNumber", class: "Company", filter: "staff.salary > 100000", want: ints(3)},
		{name: "ToManyNotEqualMeansNone", class: "Company", filter: "staff.lastName # smith", want: ints(2, 3, 4, 5, 6)},
		{name: "ToManyNullIncludesNoStaff", class: "Company", filter: "staff.lastName = null", want: ints(3, 6)},
		{name: "ToManyThenToOne", class: "Company", filter: "staff.employer.city = paris", want: ints(1)},
		// object properties
		{name: "ObjectNumber", filter: "info.level = 3", want: ints(1)},
		{name: "ObjectNumberGreater", filter: "info.level > 0", want: ints(1, 2)},
		{name: "ObjectTextIgnoresCase", filter: "info.city = PARIS", want: ints(1)},
		{name: "ObjectTextWildcard", filter: "info.city = 'ly@'", want: ints(5)},
		{name: "ObjectNull", filter: "info = null", want: ints(3, 4, 6, 7, 8, 9, 10)},
		{name: "ObjectPropertyNull", filter: "info.level = null", want: ints(3, 4, 5, 6, 7, 8, 9, 10)},
		// other key types
		{name: "StringKeyIgnoresCase", class: "Tag", filter: "code = ABC", want: []string{"abc"}},
		{name: "Long64", class: "Tag", filter: "rank >= 2", want: []string{"XYZ"}},
		{name: "All", filter: "ID > 0", want: all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class := tt.class
			if class == "" {
				class = "Employee"
			}
			got, err := Keys(t, db, fourd.Selection{DataClass: m.DataClass(class), Filter: Query(t, tt.filter, tt.params...)})
			if err != nil {
				t.Fatal(err)
			}
			if class != "Tag" {
				got = sortedKeys(got)
			}
			if !slices.Equal(got, tt.want) && len(got)+len(tt.want) > 0 {
				t.Errorf("%s: got %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

// TestFilterErrors checks the filters that do not fit the model.
func testFilterErrors(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	m := db.Model()
	tests := []struct {
		name    string
		class   string
		filter  string
		errCode int
		mention []string // the message names these
	}{
		{name: "ErrUnknownAttribute", filter: "nope = 1", errCode: fourd.ErrCodeUnknownAttribute, mention: []string{"Employee", "nope"}},
		{name: "ErrUnknownAttributeIsCaseSensitive", filter: "LastName = smith", errCode: fourd.ErrCodeUnknownAttribute, mention: []string{"LastName"}},
		{name: "ErrUnknownRelatedAttribute", filter: "employer.nope = 1", errCode: fourd.ErrCodeUnknownAttribute, mention: []string{"Company", "nope"}},
		{name: "ErrUnknownAttributeThroughToMany", class: "Company", filter: "staff.nope = 1", errCode: fourd.ErrCodeUnknownAttribute, mention: []string{"Employee", "nope"}},
		{name: "ErrTextForNumber", filter: "salary = abc", errCode: fourd.ErrCodeBadFilter, mention: []string{"Employee.salary", `"abc"`}},
		{name: "ErrTextForDate", filter: "birthDate = someday", errCode: fourd.ErrCodeBadFilter, mention: []string{"Employee.birthDate", "someday"}},
		{name: "ErrTextForBool", filter: "active = yes", errCode: fourd.ErrCodeBadFilter, mention: []string{"Employee.active", "yes"}},
		{name: "ErrWildcardOnNumber", filter: "salary = 5@", errCode: fourd.ErrCodeBadFilter, mention: []string{"Employee.salary"}},
		{name: "ErrBeginOnNumber", filter: "salary begin 5", errCode: fourd.ErrCodeBadFilter, mention: []string{"Employee.salary"}},
		{name: "ErrKeywordOnDate", filter: "birthDate % 1980", errCode: fourd.ErrCodeBadFilter, mention: []string{"Employee.birthDate"}},
		{name: "ErrPropertyOfText", filter: "lastName.x = 1", errCode: fourd.ErrCodeBadFilter, mention: []string{"lastName", "x"}},
		{name: "ErrWholeObject", filter: "info = 1", errCode: fourd.ErrCodeBadFilter, mention: []string{"info"}},
		{name: "ErrToManyAlone", class: "Company", filter: "staff = 1", errCode: fourd.ErrCodeBadFilter, mention: []string{"staff"}},
		{name: "ErrCollectionPath", filter: "info.tags[].x = 1", errCode: fourd.ErrCodeBadFilter, mention: []string{"collection"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class := tt.class
			if class == "" {
				class = "Employee"
			}
			_, err := db.Rows(context.Background(), fourd.Selection{DataClass: m.DataClass(class), Filter: Query(t, tt.filter)})
			fe := WantError(t, err, fourd.EINVALID, tt.errCode)
			for _, s := range tt.mention {
				if !strings.Contains(fe.Message, s) {
					t.Errorf("message %q does not name %s", fe.Message, s)
				}
			}
		})
	}
}

// TestOrderBy checks sorting: ties broken by row, desc, nulls first in
// ascending order, relation and object paths.
func testOrderBy(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	m := db.Model()
	tests := []struct {
		name    string
		class   string
		filter  string
		orderBy string
		want    []string
	}{
		{name: "NoOrderIsRowOrder", filter: "ID > 0", want: ints(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)},
		{name: "TextIgnoresCaseTiesByRow", filter: "ID < 8", orderBy: "lastName", want: ints(5, 4, 6, 3, 7, 1, 2)},
		{name: "DescTiesStillByRow", filter: "ID < 8", orderBy: "lastName desc", want: ints(1, 2, 7, 3, 6, 4, 5)},
		{name: "NullsFirstAscending", orderBy: "salary", want: ints(4, 8, 9, 10, 2, 5, 1, 6, 7, 3)},
		{name: "NullsLastDescending", orderBy: "salary desc", want: ints(3, 7, 6, 1, 5, 2, 10, 8, 9, 4)},
		{name: "SeveralKeys", filter: "salary < 50000", orderBy: "salary desc, firstName", want: ints(2, 10, 8, 9)},
		{name: "ToOnePath", filter: "employer # null", orderBy: "employer.name, ID desc", want: ints(9, 8, 7, 2, 1, 5, 10, 3, 6)},
		{name: "CompanyName", class: "Company", orderBy: "name", want: ints(4, 1, 2, 6, 3, 5)},
		{name: "ObjectProperty", filter: "info # null", orderBy: "info.level desc", want: ints(1, 2, 5)},
		{name: "FilterOrderByClause", filter: "salary > 50000 order by salary desc", want: ints(3, 7, 6, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class := tt.class
			if class == "" {
				class = "Employee"
			}
			sel := fourd.Selection{DataClass: m.DataClass(class)}
			if tt.filter != "" {
				sel.Filter = Query(t, tt.filter)
			}
			if tt.orderBy != "" {
				ob, err := filter.ParseOrderBy(tt.orderBy)
				if err != nil {
					t.Fatal(err)
				}
				sel.OrderBy = ob
			}
			got, err := Keys(t, db, sel)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			// Rows gives the same order, as row IDs (here equal to the keys).
			rows, err := db.Rows(context.Background(), sel)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tt.want) {
				t.Fatalf("Rows: %d rows, want %d", len(rows), len(tt.want))
			}
			for i, r := range rows {
				if ints(int(r))[0] != tt.want[i] {
					t.Fatalf("Rows: got %v, want %v", rows, tt.want)
				}
			}
		})
	}
	t.Run("ErrToMany", func(t *testing.T) {
		ob, _ := filter.ParseOrderBy("staff.name")
		_, err := db.Rows(context.Background(), fourd.Selection{DataClass: m.DataClass("Company"), OrderBy: ob})
		WantError(t, err, fourd.EINVALID, fourd.ErrCodeBadFilter)
	})
	t.Run("ErrUnknownAttribute", func(t *testing.T) {
		ob, _ := filter.ParseOrderBy("nope desc")
		_, err := db.Rows(context.Background(), fourd.Selection{DataClass: m.DataClass("Employee"), OrderBy: ob})
		WantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
	})
}

// longList returns the values after 200 values that match nothing: a list
// long enough to be passed as one JSON array.
func longList(values ...any) []any {
	out := make([]any, 0, 200+len(values))
	for i := range 200 {
		switch values[0].(type) {
		case string:
			out = append(out, "nobody"+strconv.Itoa(i))
		default:
			out = append(out, float64(-i))
		}
	}
	return append(out, values...)
}
