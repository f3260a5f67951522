package rest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// allKeys lists the keys of every entity of a dataclass, sorted.
func allKeys(t *testing.T, c *http.Client, u, dc string) []string {
	t.Helper()
	keys := keysOf(getCollection(t, c, u, "/rest/"+dc, "$top", "10000"))
	slices.Sort(keys)
	return keys
}

// listedKeys returns the keys of the entities a GET answer lists: a
// collection's, or one entity's, sorted.
func listedKeys(t *testing.T, status int, body []byte) []string {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("GET: %d %s", status, body)
	}
	var one struct {
		Key      *string           `json:"__KEY"`
		Entities []json.RawMessage `json:"__ENTITIES"`
	}
	if err := json.Unmarshal(body, &one); err != nil {
		t.Fatalf("decode: %v\n%s", err, body)
	}
	if one.Key != nil {
		return []string{*one.Key}
	}
	keys := keysOf(decodeCollection(t, status, body))
	slices.Sort(keys)
	return keys
}

// TestDeleteSelectsAsGet checks decisions.md's rule: a delete removes
// exactly what a GET of the same URL lists, no more, no less.
func TestDeleteSelectsAsGet(t *testing.T) {
	for _, tc := range []struct {
		name string
		dc   string // the dataclass the listed entities belong to
		path string // after /rest/; {set} is replaced by a set of every Employee
		q    url.Values
		want []string // the keys GET lists and the delete must remove
	}{
		{"SetFilterNothing", "Employee", "Employee/$entityset/{set}", url.Values{"$filter": {`"ID<0"`}}, nil},
		{"SetFilter", "Employee", "Employee/$entityset/{set}", url.Values{"$filter": {"salary>50000"}}, []string{"1", "2", "4"}},
		{"SetTop", "Employee", "Employee/$entityset/{set}", url.Values{"$orderby": {"salary desc"}, "$top": {"1"}}, []string{"4"}},
		{"SetFilterSkipTop", "Employee", "Employee/$entityset/{set}", url.Values{"$filter": {"salary>40000"}, "$orderby": {"salary"}, "$skip": {"1"}, "$top": {"2"}}, []string{"1", "2"}},
		{"FilterTop", "Employee", "Employee", url.Values{"$filter": {"salary>0"}, "$orderby": {"salary desc"}, "$top": {"1"}}, []string{"4"}},
		{"FilterLimit", "Employee", "Employee", url.Values{"$filter": {"salary>0"}, "$orderby": {"salary"}, "$limit": {"2"}}, []string{"3", "5"}},
		{"FilterSkip", "Employee", "Employee", url.Values{"$filter": {"salary>0"}, "$orderby": {"salary"}, "$skip": {"3"}}, []string{"2", "4"}},
		{"Filter", "Employee", "Employee", url.Values{"$filter": {"lastName=martin"}}, []string{"1", "4"}},
		{"Relation", "Employee", "Company(1)/staff", nil, []string{"1", "3"}},
		{"RelationFilter", "Employee", "Company(1)/staff", url.Values{"$filter": {"salary<50000"}}, []string{"3"}},
		{"RelationTop", "Employee", "Company(1)/staff", url.Values{"$orderby": {"salary desc"}, "$top": {"1"}}, []string{"1"}},
		{"Key", "Employee", "Employee(2)", nil, []string{"2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, c := mustOpenFixture(t)
			u := srv.URL()
			path := "/rest/" + tc.path
			if strings.HasSuffix(path, "{set}") {
				path = strings.TrimSuffix(path, "{set}") + makeSet(t, c, u, "Employee")
			}
			before := map[string][]string{"Company": allKeys(t, c, u, "Company"), "Employee": allKeys(t, c, u, "Employee")}

			var params []string
			for k, vs := range tc.q {
				params = append(params, k, vs[0])
			}
			status, body := get(t, c, u, path, params...)
			listed := listedKeys(t, status, body)
			if !slices.Equal(listed, tc.want) {
				t.Fatalf("GET lists %v, want %v", listed, tc.want)
			}

			q := url.Values{}
			for k, vs := range tc.q {
				q[k] = vs
			}
			q.Set("$method", "delete")
			status, body = send(t, c, http.MethodPost, u+path+"?"+q.Encode(), "")
			if status != http.StatusOK {
				t.Fatalf("delete: %d %s", status, body)
			}
			for dc, keys := range before {
				want := keys
				if dc == tc.dc {
					want = slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return slices.Contains(tc.want, k) })
				}
				if got := allKeys(t, c, u, dc); !slices.Equal(got, want) {
					t.Errorf("%s after the delete: %v, want %v", dc, got, want)
				}
			}
		})
	}
}

// TestDeleteRefused checks that a delete whose URL selects something other
// than entities, or that would not delete what GET shows, is refused with
// 400 and deletes nothing.
func TestDeleteRefused(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	set := makeSet(t, c, u, "Employee")
	other := makeSet(t, c, u, "Employee", "$filter", "salary>60000")
	before := map[string][]string{"Company": allKeys(t, c, u, "Company"), "Employee": allKeys(t, c, u, "Employee")}
	for _, tc := range []struct {
		name, path string
		q          url.Values
	}{
		{"ErrWholeDataClass", "Employee", nil},
		{"ErrWholeDataClassTop", "Employee", url.Values{"$top": {"1"}}},
		{"ErrKeyFilter", "Employee(1)", url.Values{"$filter": {"ID=2"}}},
		{"ErrKeyTop", "Employee(1)", url.Values{"$top": {"0"}}},
		{"ErrRelatedEntity", "Employee(1)/employer", nil},
		{"ErrRelationAndAttribute", "Company(1)/name,staff", nil},
		{"ErrCompute", "Employee/salary", url.Values{"$filter": {"salary>0"}, "$compute": {"sum"}}},
		{"ErrDistinct", "Employee/lastName", url.Values{"$filter": {"salary>0"}, "$distinct": {"true"}}},
		{"ErrLogicOperator", "Employee/$entityset/" + set, url.Values{"$logicOperator": {"EXCEPT"}, "$otherCollection": {other}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			for k, vs := range tc.q {
				q[k] = vs
			}
			q.Set("$method", "delete")
			status, body := send(t, c, http.MethodPost, u+"/rest/"+tc.path+"?"+q.Encode(), "")
			if status != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", status, body)
			}
			errCodeOf(t, body)
			for dc, keys := range before {
				if got := allKeys(t, c, u, dc); !slices.Equal(got, keys) {
					t.Fatalf("%s after a refused delete: %v, want %v", dc, got, keys)
				}
			}
		})
	}
}
