package storetest

import (
	"context"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

func testDatastorePage(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	ob, _ := filter.ParseOrderBy("salary desc")
	sel := fourd.Selection{DataClass: emp, Filter: Query(t, "salary > 0"), OrderBy: ob}
	tests := []struct {
		name      string
		skip, top int
		want      []string
	}{
		{name: "First", skip: 0, top: 3, want: ints(3, 7, 6)},
		{name: "Skip", skip: 3, top: 3, want: ints(1, 5, 2)},
		{name: "LastShort", skip: 7, top: 5, want: ints(8, 9)},
		{name: "TopZeroCountsOnly", skip: 0, top: 0, want: nil},
		{name: "SkipBeyond", skip: 50, top: 5, want: nil},
		{name: "NegativeIsZero", skip: -1, top: 1, want: ints(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, n, err := db.Page(ctx, sel, tt.skip, tt.top, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n != 9 {
				t.Errorf("count %d, want 9", n)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Key)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("Values", func(t *testing.T) {
		es, _, err := db.Page(ctx, fourd.Selection{DataClass: emp, Filter: Query(t, "ID = 1")}, 0, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		e := es[0]
		want := map[string]any{
			"ID": int64(1), "firstName": "John", "lastName": "Smith", "salary": 60000.0,
			"birthDate": time.Date(1980, 5, 1, 0, 0, 0, 0, time.UTC), "active": true, "badge": badgeJohn,
			"info": map[string]any{"level": 3.0, "city": "Paris"}, "employer": "1",
		}
		if !reflect.DeepEqual(e.Values, want) {
			t.Errorf("values %#v,\nwant %#v", e.Values, want)
		}
		if e.Key != "1" || e.Row != 1 || e.Stamp != 1 || e.Timestamp.IsZero() {
			t.Errorf("key %q row %d stamp %d timestamp %v", e.Key, e.Row, e.Stamp, e.Timestamp)
		}
	})
	t.Run("NullValues", func(t *testing.T) {
		es, _, err := db.Page(ctx, fourd.Selection{DataClass: emp, Filter: Query(t, "ID = 4")}, 0, 1, []string{"salary", "birthDate", "employer", "info", "active"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"salary": nil, "birthDate": nil, "employer": nil, "info": nil, "active": nil}
		if !reflect.DeepEqual(es[0].Values, want) {
			t.Errorf("values %#v, want %#v", es[0].Values, want)
		}
	})
	t.Run("AttributesSubset", func(t *testing.T) {
		es, _, err := db.Page(ctx, fourd.Selection{DataClass: db.Model().DataClass("Company")}, 0, 1, []string{"name", "staff", "name", "staff.lastName"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"name": "Acme"}; !reflect.DeepEqual(es[0].Values, want) {
			t.Errorf("values %#v, want %#v", es[0].Values, want)
		}
	})
	t.Run("ErrUnknownAttribute", func(t *testing.T) {
		_, _, err := db.Page(ctx, fourd.Selection{DataClass: emp}, 0, 1, []string{"nope"})
		WantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
	})
	t.Run("ErrForeignDataClass", func(t *testing.T) {
		other := DatastoreModel(t).DataClass("Employee")
		_, _, err := db.Page(ctx, fourd.Selection{DataClass: other}, 0, 1, nil)
		WantError(t, err, fourd.ENOTFOUND, fourd.ErrCodeUnknownDataClass)
	})
}

func testLoad(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	if _, err := db.Delete(ctx, emp, []fourd.RowID{4}); err != nil {
		t.Fatal(err)
	}
	t.Run("KeepsOrderNilForDeleted", func(t *testing.T) {
		es, err := db.Load(ctx, emp, []fourd.RowID{7, 4, 1, 99, 3}, []string{"lastName"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			if e == nil {
				got = append(got, "nil")
				continue
			}
			got = append(got, e.Key+":"+e.Values["lastName"].(string))
		}
		if want := []string{"7:Sm@rt", "nil", "1:Smith", "nil", "3:O'Brien"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		es, err := db.Load(ctx, emp, nil, nil)
		if err != nil || len(es) != 0 {
			t.Errorf("got %v, %v", es, err)
		}
	})
	t.Run("UUIDKeyHasOwnRows", func(t *testing.T) {
		dev := db.Model().DataClass("Device")
		e := MustCreate(t, db, dev, map[string]any{"name": "phone", "owner": "ABC"})[0]
		es, err := db.Load(ctx, dev, []fourd.RowID{e.Row}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if es[0] == nil || es[0].Key != e.Key || es[0].Values["owner"] != "abc" || !fourd.ValidID(e.Key) {
			t.Errorf("got %+v, created %+v", es[0], e)
		}
	})
}

func testEntity(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	ctx := context.Background()
	m := db.Model()
	tests := []struct {
		name  string
		class string
		key   string
		want  string // the key found; "" for ENOTFOUND
	}{
		{name: "Found", class: "Employee", key: "3", want: "3"},
		{name: "FoundWithSpaces", class: "Employee", key: " 3 ", want: "3"},
		{name: "StringKeyIgnoresCase", class: "Tag", key: "ABC", want: "abc"},
		{name: "ErrNotFound", class: "Employee", key: "99"},
		{name: "ErrNotANumber", class: "Employee", key: "abc"},
		{name: "ErrInjection", class: "Employee", key: "1 OR 1=1"},
		{name: "ErrOutOfRange", class: "Employee", key: "99999999999999999999"},
		{name: "ErrNotAUUID", class: "Device", key: "1"},
		{name: "ErrStringKeyNotFound", class: "Tag", key: "abc' OR '1'='1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := db.Entity(ctx, m.DataClass(tt.class), tt.key, nil)
			if tt.want == "" {
				WantError(t, err, fourd.ENOTFOUND, fourd.ErrCodeUnknownEntity)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Key != tt.want {
				t.Errorf("key %q, want %q", e.Key, tt.want)
			}
		})
	}
}

func testSort(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	if _, err := db.Delete(ctx, emp, []fourd.RowID{5}); err != nil {
		t.Fatal(err)
	}
	ob, _ := filter.ParseOrderBy("lastName desc")
	got, err := db.Sort(ctx, emp, []fourd.RowID{1, 5, 3, 4, 2, 42}, ob)
	if err != nil {
		t.Fatal(err)
	}
	// smith (1, 2, ties by row), O'Brien, Jones, then the rows that no
	// longer exist in their given order.
	if want := []fourd.RowID{1, 2, 3, 4, 5, 42}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	ob, _ = filter.ParseOrderBy("employer.name, salary desc")
	got, err = db.Sort(ctx, emp, []fourd.RowID{10, 1, 2, 3, 7}, ob)
	if err != nil {
		t.Fatal(err)
	}
	if want := []fourd.RowID{7, 1, 2, 3, 10}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	ob, _ = filter.ParseOrderBy("nope")
	_, err = db.Sort(ctx, emp, []fourd.RowID{1}, ob)
	WantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
}

func testSave(t *testing.T, open OpenDatastore) {
	ctx := context.Background()
	t.Run("CreateGeneratesLongKey", func(t *testing.T) {
		db := openFixture(t, open)
		e := MustCreate(t, db, db.Model().DataClass("Employee"), map[string]any{"lastName": "New", "salary": "1234.5"})[0]
		if e.Key != "11" || e.Row != 11 || e.Stamp != 1 || e.Values["salary"] != 1234.5 || e.Values["ID"] != int64(11) {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("CreateGivenKeyAndGeneratedAfter", func(t *testing.T) {
		db := openFixture(t, open)
		emp := db.Model().DataClass("Employee")
		es := MustCreate(t, db, emp, map[string]any{"ID": 100, "lastName": "Hundred"}, map[string]any{"lastName": "Next"})
		if es[0].Key != "100" || es[1].Key != "101" {
			t.Errorf("keys %s, %s", es[0].Key, es[1].Key)
		}
	})
	t.Run("RowIDsNeverReused", func(t *testing.T) {
		db := openFixture(t, open)
		emp := db.Model().DataClass("Employee")
		if _, err := db.Delete(ctx, emp, []fourd.RowID{10}); err != nil {
			t.Fatal(err)
		}
		e := MustCreate(t, db, emp, map[string]any{"lastName": "After"})[0]
		if e.Row != 11 {
			t.Errorf("row %d, want 11 (10 was deleted)", e.Row)
		}
	})
	t.Run("CreateUUIDKey", func(t *testing.T) {
		db := openFixture(t, open)
		e := MustCreate(t, db, db.Model().DataClass("Device"), map[string]any{"name": "x"})[0]
		if !fourd.ValidID(e.Key) || e.Values["ID"] != e.Key {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("Update", func(t *testing.T) {
		db := openFixture(t, open)
		emp := db.Model().DataClass("Employee")
		res, err := db.Save(ctx, emp, []fourd.EntitySave{{Key: "1", Stamp: 1, Update: true, Values: map[string]any{"salary": 61000, "employer": map[string]any{"__KEY": "2"}, "info": nil}}}, false)
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res[0].Err)
		}
		e := res[0].Entity
		if e.Stamp != 2 || e.Values["salary"] != 61000.0 || e.Values["employer"] != "2" || e.Values["info"] != nil || e.Values["lastName"] != "Smith" {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("ErrStampConflict", func(t *testing.T) {
		db := openFixture(t, open)
		emp := db.Model().DataClass("Employee")
		res, err := db.Save(ctx, emp, []fourd.EntitySave{{Key: "1", Stamp: 7, Update: true, Values: map[string]any{"salary": 1}}}, false)
		if err != nil {
			t.Fatal(err)
		}
		fe := WantError(t, res[0].Err, fourd.ECONFLICT, fourd.ErrCodeStampMismatch)
		if fe.Component != fourd.ComponentDB || len(fe.Also) != 2 || fe.Also[0].ErrCode != fourd.ErrCodeCannotSaveRecord || fe.Also[1].ErrCode != fourd.ErrCodeEntityNotSaved {
			t.Fatalf("got %+v", fe)
		}
		// The database's name is the backend's: SQLite's file name (data
		// here), PostgreSQL's database name.
		database, ok := strings.CutPrefix(fe.Also[0].Message, "Cannot save record 0 in table Employee of database ")
		if !ok || database == "" || strings.ContainsAny(database, " \n") {
			database = "<name>"
		}
		want := []string{
			"Given stamp does not match current one for record# 0 of table Employee",
			"Cannot save record 0 in table Employee of database " + database,
			`The entity# 1 in the "Employee" dataclass cannot be saved`,
		}
		if got := []string{fe.Message, fe.Also[0].Message, fe.Also[1].Message}; !slices.Equal(got, want) {
			t.Errorf("messages %q,\nwant %q", got, want)
		}
		if e := res[0].Entity; e == nil || e.Stamp != 1 || e.Values["salary"] != 60000.0 {
			t.Errorf("the entity as it is: %+v", e)
		}
	})
	t.Run("ErrUpdateUnknownKey", func(t *testing.T) {
		db := openFixture(t, open)
		res, err := db.Save(ctx, db.Model().DataClass("Employee"), []fourd.EntitySave{{Key: "77", Stamp: 1, Update: true}}, false)
		if err != nil {
			t.Fatal(err)
		}
		WantError(t, res[0].Err, fourd.ENOTFOUND, fourd.ErrCodeUnknownEntity)
	})
	t.Run("AtomicRollsBackAll", func(t *testing.T) {
		db := openFixture(t, open)
		emp := db.Model().DataClass("Employee")
		before := Count(t, db, emp)
		stamp, _ := db.GlobalStamp(ctx)
		res, err := db.Save(ctx, emp, []fourd.EntitySave{
			{Values: map[string]any{"lastName": "Kept?"}},
			{Key: "1", Stamp: 1, Update: true, Values: map[string]any{"lastName": "Changed?"}},
			{Values: map[string]any{"salary": "lots"}},
		}, true)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[0].Entity == nil || res[1].Err != nil {
			t.Errorf("the valid saves are echoed: %+v %+v", res[0], res[1])
		}
		WantError(t, res[2].Err, fourd.EINVALID, fourd.ErrCodeBadValue)
		if n := Count(t, db, emp); n != before {
			t.Errorf("%d entities, want %d: nothing saved", n, before)
		}
		e, _ := db.Entity(ctx, emp, "1", nil)
		if e.Values["lastName"] != "Smith" || e.Stamp != 1 {
			t.Errorf("entity 1 changed: %+v", e)
		}
		if s, _ := db.GlobalStamp(ctx); s != stamp {
			t.Errorf("global stamp %d, want %d", s, stamp)
		}
	})
	t.Run("NonAtomicKeepsTheValidOnes", func(t *testing.T) {
		db := openFixture(t, open)
		emp := db.Model().DataClass("Employee")
		before := Count(t, db, emp)
		res, err := db.Save(ctx, emp, []fourd.EntitySave{
			{Values: map[string]any{"lastName": "One"}},
			{Values: map[string]any{"salary": "lots"}},
			{Values: map[string]any{"lastName": "Three"}},
		}, false)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[2].Err != nil || res[1].Err == nil {
			t.Errorf("results %+v", res)
		}
		if n := Count(t, db, emp); n != before+2 {
			t.Errorf("%d entities, want %d", n, before+2)
		}
	})
	t.Run("BadValues", func(t *testing.T) {
		db := openFixture(t, open)
		m := db.Model()
		tests := []struct {
			name   string
			class  string
			values map[string]any
			code   string
			errc   int
		}{
			{"ErrTextForNumber", "Employee", map[string]any{"salary": "abc"}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrNumberForText", "Employee", map[string]any{"lastName": 12.0}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrFractionForLong", "Tag", map[string]any{"code": "q", "rank": 1.5}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrBadDate", "Employee", map[string]any{"birthDate": "31/12/1999"}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrBadBool", "Employee", map[string]any{"active": "yes"}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrBadUUID", "Employee", map[string]any{"badge": "not-a-uuid"}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrArrayForObject", "Employee", map[string]any{"info": []any{1.0}}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrUnknownRelatedKey", "Employee", map[string]any{"employer": "42"}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrUnconvertibleRelatedKey", "Employee", map[string]any{"employer": "x"}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrUnknownAttribute", "Employee", map[string]any{"nope": 1}, fourd.EINVALID, fourd.ErrCodeUnknownAttribute},
			{"ErrRelatedEntities", "Company", map[string]any{"staff": []any{}}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrDuplicateKey", "Employee", map[string]any{"ID": 1}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrKeyOutOfRange", "Employee", map[string]any{"ID": 1 << 40}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrStringKeyMissing", "Tag", map[string]any{"label": "x"}, fourd.EINVALID, fourd.ErrCodeBadValue},
			{"ErrNullStringKey", "Tag", map[string]any{"code": nil}, fourd.EINVALID, fourd.ErrCodeBadValue},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, err := db.Save(ctx, m.DataClass(tt.class), []fourd.EntitySave{{Values: tt.values}}, false)
				if err != nil {
					t.Fatal(err)
				}
				fe := WantError(t, res[0].Err, tt.code, tt.errc)
				t.Log(fe.Message)
			})
		}
	})
	t.Run("AcceptedForms", func(t *testing.T) {
		db := openFixture(t, open)
		res, err := db.Save(ctx, db.Model().DataClass("Employee"), []fourd.EntitySave{{Values: map[string]any{
			"salary": "70000", "birthDate": "05!10!2013", "active": "true", "badge": "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90",
			"info": map[string]any{"n": 1}, "employer": 3.0,
		}}}, false)
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res[0].Err)
		}
		v := res[0].Entity.Values
		want := map[string]any{"salary": 70000.0, "birthDate": time.Date(2013, 10, 5, 0, 0, 0, 0, time.UTC), "active": true,
			"badge": badgeJohn, "info": map[string]any{"n": 1.0}, "employer": "3"}
		for k, w := range want {
			if !reflect.DeepEqual(v[k], w) {
				t.Errorf("%s = %#v, want %#v", k, v[k], w)
			}
		}
	})
	t.Run("ErrPrimaryKeyChange", func(t *testing.T) {
		db := openFixture(t, open)
		res, _ := db.Save(ctx, db.Model().DataClass("Employee"), []fourd.EntitySave{{Key: "1", Stamp: 1, Update: true, Values: map[string]any{"ID": 2}}}, false)
		WantError(t, res[0].Err, fourd.EINVALID, fourd.ErrCodeBadValue)
	})
}

func testDeleteAndGlobalStamp(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	stamp, err := db.GlobalStamp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 6 companies, 10 employees and 2 tags were created.
	if stamp != 18 {
		t.Errorf("global stamp %d after 18 creations", stamp)
	}
	n, err := db.Delete(ctx, emp, []fourd.RowID{1, 2, 99})
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want 2", n, err)
	}
	if s, _ := db.GlobalStamp(ctx); s != stamp+2 {
		t.Errorf("global stamp %d, want %d", s, stamp+2)
	}
	if c := Count(t, db, emp); c != 8 {
		t.Errorf("%d employees left, want 8", c)
	}
	// Related entities are left as they are (4D's default).
	e, err := db.Entity(ctx, db.Model().DataClass("Company"), "1", nil)
	if err != nil || e == nil {
		t.Fatal(err)
	}
	MustCreate(t, db, emp, map[string]any{"lastName": "x"})
	if s, _ := db.GlobalStamp(ctx); s != stamp+3 {
		t.Errorf("global stamp %d, want %d", s, stamp+3)
	}
	if n, err := db.Delete(ctx, emp, nil); n != 0 || err != nil {
		t.Errorf("empty delete: %d, %v", n, err)
	}
}

func testCompute(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	all := fourd.Selection{DataClass: emp}
	tests := []struct {
		name string
		sel  fourd.Selection
		attr string
		op   fourd.Aggregate
		want any
	}{
		{"Count", all, "salary", fourd.AggregateCount, int64(9)},
		{"Sum", all, "salary", fourd.AggregateSum, 549999.5},
		{"Average", fourd.Selection{DataClass: emp, Filter: Query(t, "salary >= 60000")}, "salary", fourd.AggregateAverage, 88749.875},
		{"Min", all, "salary", fourd.AggregateMin, 30000.0},
		{"Max", all, "salary", fourd.AggregateMax, 120000.0},
		{"LongSumIsInteger", all, "ID", fourd.AggregateSum, int64(55)},
		{"TextMinIgnoresCase", all, "lastName", fourd.AggregateMin, "100%_Real"},
		{"TextMaxIgnoresCase", all, "firstName", fourd.AggregateMax, "Émile"},
		{"DateMin", all, "birthDate", fourd.AggregateMin, time.Date(1960, 7, 14, 0, 0, 0, 0, time.UTC)},
		{"ObjectProperty", all, "info.level", fourd.AggregateSum, int64(4)},
		{"EmptySumIsZero", fourd.Selection{DataClass: emp, Filter: Query(t, "ID > 100")}, "salary", fourd.AggregateSum, 0.0},
		{"EmptyAverageIsNull", fourd.Selection{DataClass: emp, Filter: Query(t, "ID > 100")}, "salary", fourd.AggregateAverage, nil},
		{"AllNumber", fourd.Selection{DataClass: emp, Filter: Query(t, "employer.name = acme")}, "salary", fourd.AggregateAll,
			map[string]any{"count": int64(2), "sum": 105000.0, "average": 52500.0, "min": 45000.0, "max": 60000.0}},
		{"AllText", fourd.Selection{DataClass: emp, Filter: Query(t, "employer.name = acme")}, "firstName", fourd.AggregateAll,
			map[string]any{"count": int64(2), "min": "Jane", "max": "John"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Compute(ctx, tt.sel, tt.attr, tt.op)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	t.Run("InRows", func(t *testing.T) {
		for _, tc := range []struct {
			rows []fourd.RowID
			want int64
		}{{[]fourd.RowID{1, 2, 3}, 3}, {[]fourd.RowID{2, 999}, 1}, {[]fourd.RowID{}, 0}} {
			got, err := db.Compute(ctx, fourd.Selection{DataClass: emp, InRows: tc.rows}, "ID", fourd.AggregateCount)
			if err != nil || got != tc.want {
				t.Errorf("count over rows %v = %v, %v; want %d", tc.rows, got, err, tc.want)
			}
		}
		got, err := db.Compute(ctx, fourd.Selection{DataClass: emp, InRows: []fourd.RowID{1, 2, 3}, Filter: Query(t, "ID > 1")}, "ID", fourd.AggregateSum)
		if err != nil || got != int64(5) {
			t.Errorf("sum of ID over rows 1-3 with ID > 1 = %v, %v; want 5", got, err)
		}
	})
	t.Run("ErrSumOfText", func(t *testing.T) {
		_, err := db.Compute(ctx, all, "lastName", fourd.AggregateSum)
		WantError(t, err, fourd.EINVALID, fourd.ErrCodeBadFilter)
	})
	t.Run("ErrUnknownOperation", func(t *testing.T) {
		_, err := db.Compute(ctx, all, "salary", "median")
		WantError(t, err, fourd.EINVALID, fourd.ErrCodeBadFilter)
	})
	t.Run("ErrUnknownAttribute", func(t *testing.T) {
		_, err := db.Compute(ctx, all, "salary;DROP", fourd.AggregateSum)
		WantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
	})
}

func testDistinct(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	tests := []struct {
		name string
		sel  fourd.Selection
		attr string
		want []any
	}{
		{"TextCaseFoldedSorted", fourd.Selection{DataClass: emp, Filter: Query(t, "lastName = '@smith'")}, "lastName", []any{"martin-smith", "smith"}},
		{"NumbersSortedNoNull", fourd.Selection{DataClass: emp, Filter: Query(t, "salary < 50000 OR salary = null")}, "salary", []any{30000.0, 40000.0, 45000.0}},
		{"Bool", fourd.Selection{DataClass: emp}, "active", []any{false, true}},
		{"Empty", fourd.Selection{DataClass: emp, Filter: Query(t, "ID > 100")}, "lastName", []any{}},
		{"ObjectProperty", fourd.Selection{DataClass: emp}, "info.city", []any{"lyon", "Paris"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Distinct(ctx, tt.sel, tt.attr, 0)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "TextCaseFoldedSorted" { // which of Smith and smith stands for both is SQLite's choice
				for i, v := range got {
					got[i] = strings.ToLower(v.(string))
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	t.Run("Limit", func(t *testing.T) {
		all, err := db.Distinct(ctx, fourd.Selection{DataClass: emp}, "ID", 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Distinct(ctx, fourd.Selection{DataClass: emp}, "ID", 2)
		if err != nil || len(all) < 3 || !reflect.DeepEqual(got, all[:2]) {
			t.Fatalf("limit 2: %v, %v; all: %v", got, err, all)
		}
	})
	t.Run("InRows", func(t *testing.T) {
		got, err := db.Distinct(ctx, fourd.Selection{DataClass: emp, InRows: []fourd.RowID{3, 1, 999}}, "ID", 0)
		if err != nil || !reflect.DeepEqual(got, []any{int64(1), int64(3)}) {
			t.Fatalf("over rows 3, 1, 999: %#v, %v", got, err)
		}
	})
}

// TestConcurrent saves and reads from more goroutines than the reader pool
// has connections (run it with -race): the single writer serializes the
// saves, the readers see whole transactions, and no reader waits for a
// second connection while it holds one (that deadlocked once, when read
// transactions prepared statements through the pool).
func testDatastoreConcurrent(t *testing.T, open OpenDatastore) {
	db := openFixture(t, open)
	ctx := context.Background()
	emp := db.Model().DataClass("Employee")
	before := Count(t, db, emp)
	stamp, _ := db.GlobalStamp(ctx)
	workers, each := 4*max(4, 2*runtime.GOMAXPROCS(0)), 10
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range each {
				res, err := db.Save(ctx, emp, []fourd.EntitySave{{Values: map[string]any{"lastName": "W", "salary": float64(w*100 + i), "ID": nil}}}, false)
				if err == nil {
					err = res[0].Err
				}
				if err == nil {
					_, _, err = db.Page(ctx, fourd.Selection{DataClass: emp, Filter: Query(t, "lastName = w")}, 0, 5, nil)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := Count(t, db, emp); n != before+workers*each {
		t.Errorf("%d employees, want %d", n, before+workers*each)
	}
	if s, _ := db.GlobalStamp(ctx); s != stamp+int64(workers*each) {
		t.Errorf("global stamp %d, want %d", s, stamp+int64(workers*each))
	}
}
