package rest_test

import (
	"net/http"
	"testing"

	"github.com/fourd/fourd"
)

// TestUnreadableNotInferable checks that an attribute the session may not
// read (carol: Employee.salary, and Company) cannot be filtered on, sorted
// by or used as a lookup key.
func TestUnreadableNotInferable(t *testing.T) {
	srv, cs := mustOpenWithRoles(t, false)
	u := srv.URL()
	for _, tc := range []struct {
		name   string
		path   string
		params []string
	}{
		{"ErrFilter", "/rest/Employee", []string{"$filter", "salary>50000"}},
		{"ErrFilterUnderNot", "/rest/Employee", []string{"$filter", "lastName='x' or not(salary<1)"}},
		{"ErrFilterOrderByClause", "/rest/Employee", []string{"$filter", "lastName='x' order by salary"}},
		{"ErrFilterThroughRelation", "/rest/Employee", []string{"$filter", "employer.revenues>100"}},
		{"ErrOrderBy", "/rest/Employee", []string{"$orderby", "salary desc"}},
		{"ErrOrderByThroughRelation", "/rest/Employee", []string{"$orderby", "employer.name"}},
		{"ErrKeyLookup", "/rest/Employee:salary(52000)", nil},
		{"ErrFilterOnSet", "/rest/Employee", []string{"$method", "entityset", "$filter", "salary=52000"}},
		{"ErrSavedFilter", "/rest/Employee/$entityset/0123456789ABCDEF0123456789ABCDEF", []string{"$savedfilter", "salary>50000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, cs["carol"], u, tc.path, tc.params...)
			if status != http.StatusUnauthorized || errCodeOf(t, body) != fourd.ErrCodePermission {
				t.Fatalf("%s %v as carol: %d %s, want 401 errCode %d", tc.path, tc.params, status, body, fourd.ErrCodePermission)
			}
		})
	}
	t.Run("OKReadableAttributes", func(t *testing.T) {
		col := getCollection(t, cs["carol"], u, "/rest/Employee", "$filter", "lastName='martin'", "$orderby", "firstName")
		if col.Count != 2 {
			t.Fatalf("carol filtering on lastName: %d entities, want 2", col.Count)
		}
	})
	t.Run("OKWithThePermission", func(t *testing.T) {
		col := getCollection(t, cs["dave"], u, "/rest/Employee", "$filter", "salary>50000", "$orderby", "employer.name")
		if col.Count != 3 {
			t.Fatalf("dave filtering on salary: %d entities, want 3", col.Count)
		}
		if status, body := get(t, cs["dave"], u, "/rest/Employee:salary(52000)"); status != http.StatusOK {
			t.Fatalf("dave's lookup by salary: %d %s", status, body)
		}
	})
}
