package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
	"github.com/fourd/fourd/sqlite"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupBenchData()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goroutine leak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// testModelJSON is the model of the tests: the demo's two dataclasses with
// more types (bool, uuid, object), a dataclass with a string key and one
// with a uuid key.
const testModelJSON = `{
  "dataClasses": [
    {"name": "Company", "primaryKey": "ID", "attributes": [
      {"name": "ID", "type": "long"},
      {"name": "name", "type": "string", "indexed": true},
      {"name": "city", "type": "string"},
      {"name": "country", "type": "string"},
      {"name": "revenues", "type": "number"},
      {"name": "staff", "kind": "relatedEntities", "relatedDataClass": "Employee", "path": "employer"}
    ]},
    {"name": "Employee", "primaryKey": "ID", "attributes": [
      {"name": "ID", "type": "long"},
      {"name": "firstName", "type": "string"},
      {"name": "lastName", "type": "string", "indexed": true},
      {"name": "salary", "type": "number", "indexed": true},
      {"name": "birthDate", "type": "date"},
      {"name": "active", "type": "bool"},
      {"name": "badge", "type": "uuid"},
      {"name": "info", "type": "object"},
      {"name": "employer", "kind": "relatedEntity", "relatedDataClass": "Company"}
    ]},
    {"name": "Tag", "primaryKey": "code", "attributes": [
      {"name": "code", "type": "string"},
      {"name": "label", "type": "string"},
      {"name": "rank", "type": "long64"}
    ]},
    {"name": "Device", "primaryKey": "ID", "attributes": [
      {"name": "ID", "type": "uuid"},
      {"name": "name", "type": "string"},
      {"name": "owner", "kind": "relatedEntity", "relatedDataClass": "Tag"}
    ]}
  ]
}`

func testModel(tb testing.TB) *fourd.Model {
	tb.Helper()
	m, err := fourd.ParseModel([]byte(testModelJSON))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// MustOpenDB opens a new database in a temporary directory, closed when
// the test ends.
func MustOpenDB(tb testing.TB, m *fourd.Model) *sqlite.DB {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), "data.sqlite"), m)
}

func mustOpenPath(tb testing.TB, path string, m *fourd.Model) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(path, m)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

const (
	badgeJohn = "A1B2C3D4E5F60718293A4B5C6D7E8F90"
	badgeBob  = "0123456789ABCDEF0123456789ABCDEF"
)

// fixtureCompanies and fixtureEmployees are the small dataset of the
// query tests; keys are given so that tests can name them.
var fixtureCompanies = []map[string]any{
	{"ID": 1, "name": "Acme", "city": "Paris", "country": "France", "revenues": 5000000.0},
	{"ID": 2, "name": "Acme Labs", "city": "Lyon", "country": "France", "revenues": 1200000.0},
	{"ID": 3, "name": "Globex", "city": "Berlin", "country": "Germany", "revenues": 9000000.0},
	{"ID": 4, "name": "100% Pure", "city": nil, "country": "USA"},
	{"ID": 5, "name": "Under_score", "city": "London", "country": "United Kingdom", "revenues": 300000.0},
	{"ID": 6, "name": "Empty Co", "city": "Tokyo", "country": "Japan", "revenues": 0.0},
}

var fixtureEmployees = []map[string]any{
	{"ID": 1, "firstName": "John", "lastName": "Smith", "salary": 60000.0, "birthDate": "1980-05-01", "active": true,
		"badge": badgeJohn, "info": map[string]any{"level": 3.0, "city": "Paris"}, "employer": "1"},
	{"ID": 2, "firstName": "Jane", "lastName": "smith", "salary": 45000.0, "birthDate": "1990-01-15", "active": false,
		"info": map[string]any{"level": 1.0}, "employer": 1},
	{"ID": 3, "firstName": "Bob", "lastName": "O'Brien", "salary": 120000.0, "birthDate": "1975-12-31", "active": true,
		"badge": badgeBob, "employer": "3"},
	{"ID": 4, "firstName": "Alice", "lastName": "Jones"},
	{"ID": 5, "firstName": "Émile", "lastName": "Dupont", "salary": 50000.0, "birthDate": "1960-07-14",
		"info": map[string]any{"city": "lyon"}, "employer": "2"},
	{"ID": 6, "firstName": "Zoé", "lastName": "Martin-Smith", "salary": 75000.0, "birthDate": "2000-02-29", "employer": "5"},
	{"ID": 7, "firstName": "Kim", "lastName": "Sm@rt", "salary": 99999.5, "birthDate": "1985-03-03", "employer": "4"},
	{"ID": 8, "firstName": "Dan", "lastName": "100%_Real", "salary": 30000.0, "employer": "4"},
	{"ID": 9, "firstName": "Eve", "lastName": "1000 Real", "salary": 30000.0, "employer": "4"},
	{"ID": 10, "firstName": "Nobody", "salary": 40000.0, "employer": "3"},
}

// MustOpenFixture opens a database with the test model and the fixture.
func MustOpenFixture(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db := MustOpenDB(tb, testModel(tb))
	m := db.Model()
	mustCreate(tb, db, m.DataClass("Company"), fixtureCompanies...)
	mustCreate(tb, db, m.DataClass("Employee"), fixtureEmployees...)
	mustCreate(tb, db, m.DataClass("Tag"),
		map[string]any{"code": "abc", "label": "First", "rank": 1},
		map[string]any{"code": "XYZ", "label": "Second", "rank": 2})
	return db
}

// mustCreate creates entities, atomically, and fails the test on any error.
func mustCreate(tb testing.TB, db *sqlite.DB, dc *fourd.DataClass, values ...map[string]any) []*fourd.Entity {
	tb.Helper()
	saves := make([]fourd.EntitySave, len(values))
	for i, v := range values {
		saves[i] = fourd.EntitySave{Values: v}
	}
	res, err := db.Save(context.Background(), dc, saves, true)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]*fourd.Entity, len(res))
	for i, r := range res {
		if r.Err != nil {
			tb.Fatalf("create %s #%d: %v", dc.Name, i, r.Err)
		}
		out[i] = r.Entity
	}
	return out
}

// query parses a filter and binds its parameters.
func query(tb testing.TB, text string, params ...any) *filter.Query {
	tb.Helper()
	q, err := filter.Parse(text)
	if err != nil {
		tb.Fatal(err)
	}
	if len(params) > 0 {
		if q, err = q.Bind(params); err != nil {
			tb.Fatal(err)
		}
	}
	return q
}

// keysOf returns the primary keys of the selection, in its order.
func keysOf(tb testing.TB, db *sqlite.DB, sel fourd.Selection) ([]string, error) {
	tb.Helper()
	es, n, err := db.Page(context.Background(), sel, 0, 1000, []string{})
	if err != nil {
		return nil, err
	}
	if n != len(es) {
		tb.Fatalf("count %d, but %d entities", n, len(es))
	}
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.Key
	}
	return keys, nil
}

// ints writes keys as strings.
func ints(keys ...int) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strconv.Itoa(k)
	}
	return out
}

// sortedKeys sorts numeric keys numerically.
func sortedKeys(keys []string) []string {
	out := slices.Clone(keys)
	slices.SortFunc(out, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return out
}

// wantError checks that err is a *fourd.Error with that code and errCode.
func wantError(tb testing.TB, err error, code string, errCode int) *fourd.Error {
	tb.Helper()
	var fe *fourd.Error
	if !errors.As(err, &fe) {
		tb.Fatalf("got error %v (%T), want a *fourd.Error %s/%d", err, err, code, errCode)
	}
	if fe.Code != code || fe.ErrCode != errCode {
		tb.Fatalf("got %s/%d %q, want %s/%d", fe.Code, fe.ErrCode, fe.Message, code, errCode)
	}
	return fe
}

// count returns the number of entities of dc.
func count(tb testing.TB, db *sqlite.DB, dc *fourd.DataClass) int {
	tb.Helper()
	_, n, err := db.Page(context.Background(), fourd.Selection{DataClass: dc}, 0, 0, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

type fourdComparison = filter.Comparison

// orderBy builds an OrderBy of one path holding name as it is, as a Go
// caller could (the $orderby parser would refuse it).
func orderBy(name string) filter.OrderBy {
	return filter.OrderBy{{Path: filter.Path{{Name: name}}}}
}
