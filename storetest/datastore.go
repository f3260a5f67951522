package storetest

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// OpenDatastore opens a new, empty fourd.Datastore serving m, and arranges
// for it to be closed when t ends.
type OpenDatastore = func(t *testing.T, m *fourd.Model) fourd.Datastore

// TestDatastore checks the fourd.Datastore contract: the 4D query semantics
// as a client sees them through the interface. Every $filter operator with
// its case and '@' wildcard rules, null handling, relation paths both ways
// (relatedEntity and relatedEntities), ordering with nulls, dates, uuids and
// objects; paging, loading, sorting sets again; stamps and the conflict
// errors, atomic saves, deletions and the global stamp; $compute and
// $distinct; concurrent use. Each subtest opens its own datastore on
// DatastoreModel and fills it with LoadFixture.
func TestDatastore(t *testing.T, open OpenDatastore) {
	t.Run("Page", func(t *testing.T) { testDatastorePage(t, open) })
	t.Run("Load", func(t *testing.T) { testLoad(t, open) })
	t.Run("Entity", func(t *testing.T) { testEntity(t, open) })
	t.Run("Sort", func(t *testing.T) { testSort(t, open) })
	t.Run("Save", func(t *testing.T) { testSave(t, open) })
	t.Run("DeleteAndGlobalStamp", func(t *testing.T) { testDeleteAndGlobalStamp(t, open) })
	t.Run("Compute", func(t *testing.T) { testCompute(t, open) })
	t.Run("Distinct", func(t *testing.T) { testDistinct(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testDatastoreConcurrent(t, open) })
	t.Run("Filter", func(t *testing.T) { testFilter(t, open) })
	t.Run("FilterErrors", func(t *testing.T) { testFilterErrors(t, open) })
	t.Run("OrderBy", func(t *testing.T) { testOrderBy(t, open) })
}

// DatastoreModelJSON is the model of the Datastore suite: the demo's two
// dataclasses with more types (bool, uuid, object), a dataclass with a
// string key and one with a uuid key.
const DatastoreModelJSON = `{
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

func DatastoreModel(tb testing.TB) *fourd.Model {
	tb.Helper()
	m, err := fourd.ParseModel([]byte(DatastoreModelJSON))
	if err != nil {
		tb.Fatal(err)
	}
	return m
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

// LoadFixture fills ds, opened on DatastoreModel, with the suite's
// fixture: six companies, ten employees and two tags with the keys and
// values the query tests name.
func LoadFixture(tb testing.TB, ds fourd.Datastore) {
	tb.Helper()
	m := ds.Model()
	MustCreate(tb, ds, m.DataClass("Company"), fixtureCompanies...)
	MustCreate(tb, ds, m.DataClass("Employee"), fixtureEmployees...)
	MustCreate(tb, ds, m.DataClass("Tag"),
		map[string]any{"code": "abc", "label": "First", "rank": 1},
		map[string]any{"code": "XYZ", "label": "Second", "rank": 2})
}

// openFixture opens a datastore on DatastoreModel holding the fixture.
func openFixture(tb *testing.T, open OpenDatastore) fourd.Datastore {
	tb.Helper()
	ds := open(tb, DatastoreModel(tb))
	LoadFixture(tb, ds)
	return ds
}

// MustCreate creates entities, atomically, and fails the test on any error.
func MustCreate(tb testing.TB, db fourd.Datastore, dc *fourd.DataClass, values ...map[string]any) []*fourd.Entity {
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

// Query parses a filter and binds its parameters.
func Query(tb testing.TB, text string, params ...any) *filter.Query {
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

// Keys returns the primary keys of the selection, in its order.
func Keys(tb testing.TB, db fourd.Datastore, sel fourd.Selection) ([]string, error) {
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

// WantError checks that err is a *fourd.Error with that code and errCode.
func WantError(tb testing.TB, err error, code string, errCode int) *fourd.Error {
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

// Count returns the number of entities of dc.
func Count(tb testing.TB, db fourd.Datastore, dc *fourd.DataClass) int {
	tb.Helper()
	_, n, err := db.Page(context.Background(), fourd.Selection{DataClass: dc}, 0, 0, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
