package rest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fourd/fourd/sqlite"
)

// Tests of answers that real 4D REST clients got wrong (issue 9): each
// failed, with status 200, before the fix.

// errorOf decodes an __ERROR envelope's first message and errCode.
func errorOf(t *testing.T, status int, body []byte) (int, string) {
	t.Helper()
	var env struct {
		Errors []struct {
			Message string `json:"message"`
			ErrCode int    `json:"errCode"`
		} `json:"__ERROR"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Errors) == 0 {
		t.Fatalf("status %d, not an error envelope: %s", status, body)
	}
	return env.Errors[0].ErrCode, env.Errors[0].Message
}

// objectKeys returns the keys of a JSON object in the order they were sent.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestFilterEscapes(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	for _, tc := range []struct {
		name   string
		params []string
		want   []string
	}{
		{"DoubleQuotes", []string{"$filter", `lastName=\u0022martin\u0022`}, []string{"1", "4"}},
		{"SingleQuotes", []string{"$filter", `lastName=\u0027martin\u0027 AND salary>60000`}, []string{"4"}},
		{"QuoteInsideQuotes", []string{"$filter", `lastName=\u0022O\u0027Neil\u0022`}, []string{"3"}},
		{"QuoteInBareValue", []string{"$filter", `lastName=O\u0027Neil`}, []string{"3"}},
		{"RawQuoteInBareValue", []string{"$filter", `lastName=O'Neil`}, []string{"3"}},
		{"WholeFilterEscaped", []string{"$filter", `\u0022lastName=Zola\u0022`}, []string{"5"}},
		{"Params", []string{"$filter", "lastName=:1", "$params", `'["O\u0027Neil"]'`}, []string{"3"}},
		{"OrderByEscaped", []string{"$filter", "salary>50000", "$orderby", `\u0022salary desc\u0022`}, []string{"4", "2", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			col := getCollection(t, c, u, "/rest/Employee", tc.params...)
			if got := keysOf(col); !slices.Equal(got, tc.want) {
				t.Fatalf("keys %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("KeyByAttribute", func(t *testing.T) {
		for _, path := range []string{`/rest/Company:name(\u0022acme labs\u0022)`, `/rest/Company:name(\u0027acme labs\u0027)`} {
			status, body := send(t, c, http.MethodGet, u+strings.ReplaceAll(path, " ", "%20"), "")
			var e map[string]any
			if status != http.StatusOK || json.Unmarshal(body, &e) != nil || e["__KEY"] != "2" {
				t.Fatalf("%s: %d %s, want Company 2", path, status, body)
			}
		}
	})
	t.Run("SavedFilterTrue", func(t *testing.T) {
		// 4D's $method page: "passing true to $savedfilter and $savedorderby".
		f, o := `lastName=\u0022martin\u0022`, "salary desc"
		id := makeSet(t, c, u, "Employee", "$filter", f, "$orderby", o, "$savedfilter", "true", "$savedorderby", "true")
		if status, body := send(t, c, http.MethodPost, u+"/rest/$entityset/$release", `["`+id+`"]`); status != http.StatusOK {
			t.Fatalf("release: %d %s", status, body)
		}
		col := getCollection(t, c, u, "/rest/Employee/$entityset/"+id, "$savedfilter", f, "$savedorderby", o)
		if got := keysOf(col); !slices.Equal(got, []string{"4", "1"}) {
			t.Fatalf("rebuilt set: %v, want [4 1]", got)
		}
		// "true" on a set that is gone carries no text to rebuild it from:
		// the set is not found, as without $savedfilter.
		gone := makeSet(t, c, u, "Employee", "$filter", f, "$savedfilter", "true")
		send(t, c, http.MethodPost, u+"/rest/$entityset/$release", `["`+gone+`"]`)
		status, body := get(t, c, u, "/rest/Employee/$entityset/"+gone, "$savedfilter", "true")
		if code, _ := errorOf(t, status, body); status != http.StatusNotFound || code != 1802 {
			t.Fatalf("%d %s, want 404 errCode 1802", status, body)
		}
	})
	t.Run("SavedFilter", func(t *testing.T) {
		saved := `lastName=\u0022martin\u0022`
		id := makeSet(t, c, u, "Employee", "$filter", saved, "$savedfilter", saved)
		if status, body := send(t, c, http.MethodPost, u+"/rest/$entityset/$release", `["`+id+`"]`); status != http.StatusOK {
			t.Fatalf("release: %d %s", status, body)
		}
		col := getCollection(t, c, u, "/rest/Employee/$entityset/"+id, "$savedfilter", saved)
		if got := keysOf(col); !slices.Equal(got, []string{"1", "4"}) {
			t.Fatalf("rebuilt set: %v, want [1 4]", got)
		}
	})
}

func TestComputeOnEntitySet(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	rich := makeSet(t, c, u, "Employee", "$filter", "salary>50000") // 1, 2, 4: 52000, 61000, 70000
	t.Run("Sum", func(t *testing.T) {
		status, body := get(t, c, u, "/rest/Employee/salary/$entityset/"+rich, "$compute", "sum")
		var sum float64
		if status != http.StatusOK || json.Unmarshal(body, &sum) != nil || sum != 183000 {
			t.Fatalf("%d %s, want 183000", status, body)
		}
	})
	t.Run("AllInDocumentedOrder", func(t *testing.T) {
		status, body := get(t, c, u, "/rest/Employee/salary/$entityset/"+rich, "$compute", "$all")
		var all map[string]json.RawMessage
		if status != http.StatusOK || json.Unmarshal(body, &all) != nil || all["salary"] == nil {
			t.Fatalf("%d %s", status, body)
		}
		if keys := objectKeys(t, all["salary"]); !slices.Equal(keys, []string{"count", "sum", "average", "min", "max"}) {
			t.Fatalf("keys %v, want 4D's order count, sum, average, min, max", keys)
		}
		var s map[string]float64
		if err := json.Unmarshal(all["salary"], &s); err != nil || s["count"] != 3 || s["sum"] != 183000 || s["min"] != 52000 || s["max"] != 70000 || s["average"] != 61000 {
			t.Fatalf("$all over the set = %s", all["salary"])
		}
	})
	t.Run("TextAllInDocumentedOrder", func(t *testing.T) {
		status, body := get(t, c, u, "/rest/Employee/firstName", "$compute", "$all")
		var all map[string]json.RawMessage
		if status != http.StatusOK || json.Unmarshal(body, &all) != nil {
			t.Fatalf("%d %s", status, body)
		}
		if keys := objectKeys(t, all["firstName"]); !slices.Equal(keys, []string{"count", "min", "max"}) {
			t.Fatalf("keys %v, want count, min, max", keys)
		}
	})
	t.Run("Distinct", func(t *testing.T) {
		status, body := get(t, c, u, "/rest/Employee/firstName/$entityset/"+rich, "$distinct", "true")
		var names []string
		if status != http.StatusOK || json.Unmarshal(body, &names) != nil || !slices.Equal(names, []string{"Anne", "Bruno", "David"}) {
			t.Fatalf("%d %s, want [Anne Bruno David]", status, body)
		}
	})
	t.Run("DistinctPagesTheSetFirst", func(t *testing.T) {
		status, body := get(t, c, u, "/rest/Employee/firstName/$entityset/"+rich, "$distinct", "true", "$orderby", "salary desc", "$top", "2")
		var names []string
		if status != http.StatusOK || json.Unmarshal(body, &names) != nil || !slices.Equal(names, []string{"Bruno", "David"}) {
			t.Fatalf("%d %s, want [Bruno David]", status, body)
		}
	})
	t.Run("WithFilter", func(t *testing.T) {
		status, body := get(t, c, u, "/rest/Employee/salary/$entityset/"+rich, "$compute", "count", "$filter", "lastName=martin")
		if status != http.StatusOK || strings.TrimSpace(string(body)) != "2" {
			t.Fatalf("%d %s, want 2", status, body)
		}
	})
	t.Run("AfterDelete", func(t *testing.T) {
		set := makeSet(t, c, u, "Employee", "$filter", "salary<50000") // 3, 5
		if status, body := send(t, c, http.MethodPost, u+"/rest/Employee(5)?$method=delete", ""); status != http.StatusOK {
			t.Fatalf("delete: %d %s", status, body)
		}
		status, body := get(t, c, u, "/rest/Employee/salary/$entityset/"+set, "$compute", "sum")
		if status != http.StatusOK || strings.TrimSpace(string(body)) != "45000" {
			t.Fatalf("%d %s, want 45000 (the deleted entity left out)", status, body)
		}
	})
}

func TestDistinctWholeSelection(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	load := func(from, n int) {
		t.Helper()
		var b strings.Builder
		b.WriteByte('[')
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"Company %05d","city":"c%05d"}`, from+i, from+i)
		}
		b.WriteByte(']')
		if status, body := send(t, c, http.MethodPost, u+"/rest/Company?$method=update", b.String()); status != http.StatusOK {
			t.Fatalf("load: %d %.300s", status, body)
		}
	}
	load(0, 150) // 153 companies, 153 cities: more than the default $top of 100
	distinct := func(params ...string) (int, []string, []byte) {
		t.Helper()
		status, body := get(t, c, u, "/rest/Company/city", append([]string{"$distinct", "true"}, params...)...)
		var out []string
		if status == http.StatusOK {
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("decode: %v %s", err, body)
			}
		}
		return status, out, body
	}
	t.Run("Whole", func(t *testing.T) {
		status, cities, body := distinct()
		if status != http.StatusOK || len(cities) != 153 {
			t.Fatalf("%d: %d values, want 153 (%.200s)", status, len(cities), body)
		}
	})
	t.Run("TopPagesEntitiesFirst", func(t *testing.T) {
		status, cities, body := distinct("$orderby", "ID", "$skip", "1", "$top", "2")
		if status != http.StatusOK || !slices.Equal(cities, []string{"Berlin", "Lyon"}) {
			t.Fatalf("%d %s, want [Berlin Lyon]: the cities of companies 2 and 3", status, body)
		}
	})
	t.Run("ErrPastTheBound", func(t *testing.T) {
		load(150, 10000) // 10,153 distinct cities
		status, _, body := distinct()
		if status != http.StatusBadRequest {
			t.Fatalf("%d %.200s, want 400", status, body)
		}
		if _, msg := errorOf(t, status, body); !strings.Contains(msg, "10000") {
			t.Fatalf("message %q does not name the bound", msg)
		}
		status, cities, body := distinct("$top", "3")
		if status != http.StatusOK || len(cities) != 3 {
			t.Fatalf("paged: %d %.200s", status, body)
		}
	})
}

func TestLogicOperatorAnswer(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	rich := makeSet(t, c, u, "Employee", "$filter", "salary>50000")        // 1, 2, 4
	acme := makeSet(t, c, u, "Employee", "$filter", "employer.name=acme@") // 1, 2, 3
	t.Run("NoSetWithoutMethod", func(t *testing.T) {
		col := getCollection(t, c, u, "/rest/Employee/$entityset/"+rich, "$logicOperator", "OR", "$otherCollection", acme)
		if col.Count != 4 || col.EntitySet != "" {
			t.Fatalf("__COUNT %d __ENTITYSET %q: want 4 and no __ENTITYSET (the first set holds 3)", col.Count, col.EntitySet)
		}
	})
	t.Run("NoSetWithFilter", func(t *testing.T) {
		col := getCollection(t, c, u, "/rest/Employee/$entityset/"+rich, "$filter", "lastName=martin")
		if col.Count != 2 || col.EntitySet != "" {
			t.Fatalf("__COUNT %d __ENTITYSET %q: want 2 and no __ENTITYSET", col.Count, col.EntitySet)
		}
	})
	t.Run("NewSetWithMethod", func(t *testing.T) {
		col := getCollection(t, c, u, "/rest/Employee/$entityset/"+rich, "$logicOperator", "OR", "$otherCollection", acme, "$method", "entityset")
		if col.EntitySet == "" || strings.HasSuffix(col.EntitySet, rich) {
			t.Fatalf("__ENTITYSET %q: want a new set", col.EntitySet)
		}
		again := getCollection(t, c, u, col.EntitySet[strings.Index(col.EntitySet, "/rest/"):])
		if got := keysOf(again); !slices.Equal(got, []string{"1", "2", "3", "4"}) {
			t.Fatalf("the new set holds %v, want [1 2 3 4]", got)
		}
	})
	t.Run("PlainSetKeepsItsURI", func(t *testing.T) {
		col := getCollection(t, c, u, "/rest/Employee/$entityset/"+rich)
		if !strings.HasSuffix(col.EntitySet, "/"+rich) {
			t.Fatalf("__ENTITYSET %q, want the set's own", col.EntitySet)
		}
	})
}

func TestUnknownParameter(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	for _, tc := range []struct{ path, name string }{
		{"/rest/Employee", "$fitler"},
		{"/rest/Employee(1)", "$nope"},
		{"/rest/$catalog", "$foo"},
		{"/rest/$info", "$bar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, c, u, tc.path, tc.name, "salary>1")
			if status != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", status, body)
			}
			if _, msg := errorOf(t, status, body); !strings.Contains(msg, `"`+tc.name+`"`) {
				t.Fatalf("message %q does not name %s", msg, tc.name)
			}
		})
	}
	t.Run("RefusedWithReason", func(t *testing.T) {
		for _, name := range []string{"$format", "$imageformat", "$version", "$binary"} {
			status, body := get(t, c, u, "/rest/Employee", name, "looker")
			if status != http.StatusBadRequest {
				t.Fatalf("%s: %d %s, want 400", name, status, body)
			}
			if _, msg := errorOf(t, status, body); !strings.HasPrefix(msg, name+": fourd ") {
				t.Fatalf("%s: message %q does not say why fourd refuses it", name, msg)
			}
		}
	})
	t.Run("OtherCase", func(t *testing.T) {
		col := getCollection(t, c, u, "/rest/Employee", "$orderBy", "salary desc", "$TOP", "2")
		if got := keysOf(col); !slices.Equal(got, []string{"4", "2"}) {
			t.Fatalf("keys %v, want [4 2]: $orderBy and $TOP are $orderby and $top", got)
		}
	})
}

func TestProgressInfoIdle(t *testing.T) {
	srv, c := mustOpenFixture(t)
	status, body := get(t, c, srv.URL(), "/rest/$info")
	var info struct {
		ProgressInfo []map[string]any `json:"ProgressInfo"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &info) != nil {
		t.Fatalf("%d %s", status, body)
	}
	if len(info.ProgressInfo) != 2 {
		t.Fatalf("ProgressInfo %v: want the flush and index indicators, idle", info.ProgressInfo)
	}
	for i, want := range []string{"flushProgressIndicator", "indexProgressIndicator"} {
		p := info.ProgressInfo[i]
		if p["UserInfo"] != want || p["percent"] != 0.0 || p["sessions"] != 0.0 {
			t.Errorf("ProgressInfo[%d] = %v, want %s with percent 0 and sessions 0", i, p, want)
		}
	}
}

func TestClean(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	id := makeSet(t, c, u, "Employee", "$filter", "salary>40000", "$orderby", "salary desc") // 4, 2, 1, 3
	if status, body := send(t, c, http.MethodPost, u+"/rest/Employee(2)?$method=delete", ""); status != http.StatusOK {
		t.Fatalf("delete: %d %s", status, body)
	}
	col := getCollection(t, c, u, "/rest/Employee/$entityset/"+id, "$clean", "true", "$method", "entityset")
	if col.EntitySet == "" || strings.HasSuffix(col.EntitySet, id) {
		t.Fatalf("__ENTITYSET %q: want a new set", col.EntitySet)
	}
	if got := keysOf(col); col.Count != 3 || !slices.Equal(got, []string{"4", "1", "3"}) {
		t.Fatalf("cleaned set: __COUNT %d keys %v, want 3 [4 1 3] in the set's order", col.Count, got)
	}
	again := getCollection(t, c, u, col.EntitySet[strings.Index(col.EntitySet, "/rest/"):])
	if got := keysOf(again); !slices.Equal(got, []string{"4", "1", "3"}) {
		t.Fatalf("the new set holds %v", got)
	}
	if old := getCollection(t, c, u, "/rest/Employee/$entityset/"+id); old.Count != 4 {
		t.Fatalf("the original set: __COUNT %d, want 4 (the deleted entity stays, as {\"__STAMP\":0})", old.Count)
	}
	t.Run("ErrWithoutMethod", func(t *testing.T) {
		status, body := get(t, c, u, "/rest/Employee/$entityset/"+id, "$clean", "true")
		if status != http.StatusBadRequest {
			t.Fatalf("%d %s, want 400", status, body)
		}
	})
}

func TestAsArray(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	status, body := get(t, c, u, "/rest/Company", "$filter", `"name!=Globex"`, "$orderby", "ID", "$top", "3", "$asArray", "true")
	var got []map[string]any
	if status != http.StatusOK || json.Unmarshal(body, &got) != nil {
		t.Fatalf("%d %s: want a JSON array", status, body)
	}
	if len(got) != 2 {
		t.Fatalf("%d entities, want 2: %s", len(got), body)
	}
	for i, want := range []struct {
		id    float64
		name  string
		staff float64
	}{{1, "Acme", 2}, {2, "acme labs", 1}} {
		e := got[i]
		key, _ := e["__KEY"].(map[string]any)
		staff, _ := e["staff"].(map[string]any)
		if key == nil || key["ID"] != want.id || key["__STAMP"] == nil || e["ID"] != want.id || e["name"] != want.name || staff == nil || staff["__COUNT"] != want.staff {
			t.Errorf("entity %d = %v; want __KEY {ID:%v,__STAMP:…}, name %q, staff {__COUNT:%v}", i, e, want.id, want.name, want.staff)
		}
	}
	if keys := objectKeys(t, mustRaw(t, body, 0)); len(keys) < 2 || keys[0] != "__KEY" || keys[1] != "ID" {
		t.Fatalf("keys %v: __KEY first, then the attributes", keys)
	}
	t.Run("EntitySetPage", func(t *testing.T) {
		id := makeSet(t, c, u, "Employee", "$filter", "salary>50000", "$orderby", "salary desc")
		status, body := get(t, c, u, "/rest/Employee/$entityset/"+id, "$asArray", "true", "$attributes", "lastName", "$top", "2")
		var page []map[string]any
		if status != http.StatusOK || json.Unmarshal(body, &page) != nil || len(page) != 2 || page[0]["lastName"] != "martin" || page[1]["lastName"] != "Alvarez" {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("ErrNotAPage", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			params []string
		}{{"/rest/Employee(1)", nil}, {"/rest/Employee/salary", []string{"$compute", "sum"}}} {
			status, body := get(t, c, u, tc.path, append(tc.params, "$asArray", "true")...)
			if status != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", tc.path, status, body)
			}
			if _, msg := errorOf(t, status, body); !strings.Contains(msg, "$asArray") {
				t.Errorf("%s: message %q does not name $asArray", tc.path, msg)
			}
		}
	})
}

// mustRaw returns element i of a JSON array.
func mustRaw(t *testing.T, body []byte, i int) json.RawMessage {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal(body, &list); err != nil || len(list) <= i {
		t.Fatalf("not an array of %d: %s", i+1, body)
	}
	return list[i]
}

func TestExpand(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	entity := func(t *testing.T, path string, params ...string) map[string]any {
		t.Helper()
		status, body := get(t, c, u, path, params...)
		var e map[string]any
		if status != http.StatusOK || json.Unmarshal(body, &e) != nil {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		return e
	}
	t.Run("ToOne", func(t *testing.T) {
		e := entity(t, "/rest/Employee(2)", "$expand", "employer")
		emp, _ := e["employer"].(map[string]any)
		if e["firstName"] != "Bruno" || emp == nil || emp["__KEY"] != "2" || emp["name"] != "acme labs" || emp["city"] != "Lyon" {
			t.Fatalf("employer %v in %v: want the company inline, with its attributes", emp, e)
		}
		if staff, _ := emp["staff"].(map[string]any); staff == nil || staff["__deferred"] == nil {
			t.Fatalf("the company's own relation %v: want it deferred", emp["staff"])
		}
	})
	t.Run("ToMany", func(t *testing.T) {
		e := entity(t, "/rest/Company(1)", "$expand", "staff")
		staff, _ := e["staff"].(map[string]any)
		list, _ := staff["__ENTITIES"].([]any)
		if e["name"] != "Acme" || staff["__COUNT"] != 2.0 || len(list) != 2 {
			t.Fatalf("staff %v: want the 2 employees inline", staff)
		}
		if first, _ := list[0].(map[string]any); first["lastName"] != "Martin" || first["salary"] != 52000.0 {
			t.Fatalf("first employee %v: want every attribute", first)
		}
	})
	t.Run("Selection", func(t *testing.T) {
		col := getCollection(t, c, u, "/rest/Employee", "$filter", "firstName begin a", "$expand", "employer")
		if len(col.Entities) != 1 {
			t.Fatalf("%d entities", len(col.Entities))
		}
		if emp, _ := col.Entities[0]["employer"].(map[string]any); emp == nil || emp["name"] != "Acme" {
			t.Fatalf("employer %v", col.Entities[0]["employer"])
		}
	})
	t.Run("DeferredURI", func(t *testing.T) {
		e := entity(t, "/rest/Company(1)")
		uri := e["staff"].(map[string]any)["__deferred"].(map[string]any)["uri"].(string) // /rest/Company(1)/staff?$expand=staff
		status, body := send(t, c, http.MethodGet, u+uri, "")
		col := decodeCollection(t, status, body)
		if col.Count != 2 {
			t.Fatalf("%s: __COUNT %d, want 2", uri, col.Count)
		}
	})
	t.Run("ErrNotARelation", func(t *testing.T) {
		for _, v := range []string{"lastName", "nope", "employer.nope"} {
			status, body := get(t, c, u, "/rest/Employee(1)", "$expand", v)
			if status != http.StatusBadRequest {
				t.Errorf("$expand=%s: %d %s, want 400", v, status, body)
			}
		}
	})
}

func TestSubEntitySet(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	col := getCollection(t, c, u, "/rest/Company(1)/staff", "$expand", "staff", "$method", "subentityset", "$subOrderby", "lastName desc")
	if col.EntitySet == "" || col.Count != 2 {
		t.Fatalf("__ENTITYSET %q __COUNT %d: want a set of 2", col.EntitySet, col.Count)
	}
	if got := keysOf(col); !slices.Equal(got, []string{"3", "1"}) {
		t.Fatalf("keys %v, want [3 1] (O'Neil, Martin)", got)
	}
	again := getCollection(t, c, u, col.EntitySet[strings.Index(col.EntitySet, "/rest/"):])
	if got := keysOf(again); !slices.Equal(got, []string{"3", "1"}) {
		t.Fatalf("the set holds %v", got)
	}
	for _, tc := range []struct {
		path   string
		params []string
	}{
		{"/rest/Company(1)/staff", []string{"$subOrderby", "lastName"}},
		{"/rest/Employee", []string{"$method", "subentityset"}},
		{"/rest/Employee(1)/employer", []string{"$method", "subentityset"}},
	} {
		if status, body := get(t, c, u, tc.path, tc.params...); status != http.StatusBadRequest {
			t.Errorf("%s %v: %d %s, want 400", tc.path, tc.params, status, body)
		}
	}
}

func TestValidate(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	before := getCollection(t, c, u, "/rest/Company")
	stamp := before.Entities[0]["__STAMP"].(float64)
	post := func(body string) (int, []byte) {
		return send(t, c, http.MethodPost, u+"/rest/Company?$method=validate", body)
	}
	t.Run("OK", func(t *testing.T) {
		status, body := post(fmt.Sprintf(`[{"__KEY":"1","__STAMP":%v,"city":"Nice"},{"name":"Initech"}]`, stamp))
		if status != http.StatusOK || strings.TrimSpace(string(body)) != `{"ok":true}` {
			t.Fatalf("%d %s", status, body)
		}
		after := getCollection(t, c, u, "/rest/Company")
		if after.Count != 3 || after.Entities[0]["city"] != "Paris" || after.Entities[0]["__STAMP"] != stamp {
			t.Fatalf("validate saved something: %v", after.Entities)
		}
	})
	t.Run("ErrStamp", func(t *testing.T) {
		status, body := post(`[{"name":"Initech"},{"__KEY":"1","__STAMP":999,"city":"Nice"}]`)
		var out struct {
			Entities []struct {
				Index  int    `json:"__INDEX"`
				Key    string `json:"__KEY"`
				Errors []struct {
					ErrCode int `json:"errCode"`
				} `json:"__ERROR"`
			} `json:"__ENTITIES"`
		}
		if status != http.StatusConflict || json.Unmarshal(body, &out) != nil || len(out.Entities) != 1 {
			t.Fatalf("%d %s: want 409 and one failing entity", status, body)
		}
		if e := out.Entities[0]; e.Index != 1 || e.Key != "1" || len(e.Errors) == 0 || e.Errors[0].ErrCode != 1263 {
			t.Fatalf("%+v", e)
		}
		if n := getCollection(t, c, u, "/rest/Company").Count; n != 3 {
			t.Fatalf("%d companies after a failed validation", n)
		}
	})
	t.Run("ErrGet", func(t *testing.T) {
		if status, body := get(t, c, u, "/rest/Company", "$method", "validate"); status != http.StatusMethodNotAllowed {
			t.Fatalf("%d %s, want 405", status, body)
		}
	})
}

func TestQueryPlanAndPath(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	status, body := get(t, c, u, "/rest/Employee", "$filter", `"salary>50000 AND employer.name=acme@"`, "$queryplan", "true", "$querypath", "true")
	type pathStep struct {
		Description   string      `json:"description"`
		Time          *int        `json:"time"`
		RecordsFounds int         `json:"recordsfounds"`
		Steps         []*pathStep `json:"steps"`
	}
	type planItem struct {
		Item     string     `json:"item"`
		Subquery []planItem `json:"subquery"`
	}
	var out struct {
		Count int `json:"__COUNT"`
		Plan  struct {
			And    []planItem `json:"And"`
			SQLite []planItem `json:"__sqlite"`
		} `json:"__queryPlan"`
		Path struct {
			Steps []*pathStep `json:"steps"`
		} `json:"__queryPath"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &out) != nil {
		t.Fatalf("%d %s", status, body)
	}
	t.Run("Plan", func(t *testing.T) {
		and := out.Plan.And
		if len(and) != 2 || and[0].Item != "Employee.salary > 50000" ||
			and[1].Item != "Join on Table : Company : Employee.employer = Company.ID" ||
			len(and[1].Subquery) != 1 || and[1].Subquery[0].Item != "Company.name = 'acme@'" {
			t.Fatalf("__queryPlan.And = %+v", and)
		}
		found := false
		var walk func([]planItem)
		walk = func(items []planItem) {
			for _, it := range items {
				found = found || strings.Contains(it.Item, "t0")
				walk(it.Subquery)
			}
		}
		walk(out.Plan.SQLite)
		if !found {
			t.Fatalf("__sqlite %+v: want SQLite's plan of the statement (its table alias t0)", out.Plan.SQLite)
		}
	})
	t.Run("Path", func(t *testing.T) {
		if len(out.Path.Steps) != 1 {
			t.Fatalf("steps %+v", out.Path.Steps)
		}
		root := out.Path.Steps[0]
		if root.Description != "AND" || root.RecordsFounds != out.Count || out.Count != 2 || root.Time == nil || len(root.Steps) != 2 {
			t.Fatalf("root step %+v, __COUNT %d", root, out.Count)
		}
		salary, join := root.Steps[0], root.Steps[1]
		if salary.Description != "Employee.salary > 50000" || salary.RecordsFounds != 3 {
			t.Fatalf("salary step %+v: want 3 found", salary)
		}
		if join.RecordsFounds != 3 || len(join.Steps) != 1 || len(join.Steps[0].Steps) != 1 {
			t.Fatalf("join step %+v: want 3 employees of an acme@ company", join)
		}
		if sub := join.Steps[0].Steps[0]; sub.Description != "Company.name = 'acme@'" || sub.RecordsFounds != 2 {
			t.Fatalf("company step %+v: want 2 companies found", sub)
		}
	})
	t.Run("WithEntitySet", func(t *testing.T) {
		col := getCollection(t, c, u, "/rest/Employee", "$filter", "salary>50000", "$querypath", "true", "$method", "entityset")
		if col.EntitySet == "" || col.Count != 3 {
			t.Fatalf("%+v", col)
		}
	})
	t.Run("ErrNoFilter", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			params []string
		}{
			{"/rest/Employee", []string{"$queryplan", "true"}},
			{"/rest/Employee(1)", []string{"$querypath", "true"}},
			{"/rest/Employee", []string{"$filter", "salary>1", "$queryplan", "true", "$asArray", "true"}},
		} {
			if status, body := get(t, c, u, tc.path, tc.params...); status != http.StatusBadRequest {
				t.Errorf("%s %v: %d %s, want 400", tc.path, tc.params, status, body)
			}
		}
	})
}

func TestRefusedResources(t *testing.T) {
	srv, c := mustOpenFixture(t)
	for _, path := range []string{"/rest/$upload", "/rest/$directory/currentUserBelongsTo"} {
		status, body := send(t, c, http.MethodPost, srv.URL()+path, `["Sales"]`)
		if status != http.StatusNotFound {
			t.Fatalf("%s: %d %s, want 404", path, status, body)
		}
		if _, msg := errorOf(t, status, body); !strings.Contains(msg, "fourd has no") {
			t.Fatalf("%s: message %q does not say why", path, msg)
		}
	}
}

// TestStatementCacheChurnOverHTTP is the statement cache's reproduction
// (sqlite's TestStatementCacheChurn) through the REST server: with more
// $filter shapes than the cache holds, requests evicted statements other
// requests had just taken, and those answered 500 "statement is closed".
func TestStatementCacheChurnOverHTTP(t *testing.T) {
	srv, c := mustOpenFixture(t)
	db, ok := srv.Data.(*sqlite.DB)
	if !ok {
		t.Skipf("the statement cache is SQLite's; this server's datastore is a %T", srv.Data)
	}
	db.SetStatementCacheSize(4)
	const goroutines, calls, shapes = 8, 200, 40
	u := srv.URL()
	var wg sync.WaitGroup
	failures := make(chan string, goroutines*calls)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				n := (g*7+i)%shapes + 1
				ids := make([]string, n) // "ID IN [1, 2, …]": one SQL text per list length
				for j := range ids {
					ids[j] = fmt.Sprint(j + 1)
				}
				q := url.Values{"$filter": {"ID IN [" + strings.Join(ids, ",") + "]"}, "$compute": {"count"}}
				resp, err := c.Get(u + "/rest/Employee/ID?" + q.Encode())
				if err != nil {
					failures <- err.Error()
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failures <- fmt.Sprintf("%d %s", resp.StatusCode, body)
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	var list []string
	for f := range failures {
		list = append(list, f)
	}
	if len(list) > 0 {
		t.Fatalf("%d of %d requests failed; the first: %s", len(list), goroutines*calls, list[0])
	}
}

// TestComputePaged checks that $compute honours $skip, $top and $limit as
// $distinct does: over that page of entities, never over the whole
// selection while the client asked for a page.
func TestComputePaged(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	set := makeSet(t, c, u, "Employee")
	for _, tc := range []struct {
		name, path string
		params     []string
		want       string
	}{
		{"Whole", "/rest/Employee/salary", []string{"$compute", "sum"}, "266000"},
		{"SkipTop", "/rest/Employee/salary", []string{"$compute", "sum", "$orderby", "salary", "$skip", "1", "$top", "2"}, "97000"},
		{"Limit", "/rest/Employee/salary", []string{"$compute", "count", "$filter", "salary>40000", "$limit", "3"}, "3"},
		{"SetTop", "/rest/Employee/salary/$entityset/" + set, []string{"$compute", "max", "$orderby", "salary", "$top", "2"}, "45000"},
		{"SetSkip", "/rest/Employee/salary/$entityset/" + set, []string{"$compute", "min", "$orderby", "salary", "$skip", "4"}, "70000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, c, u, tc.path, tc.params...)
			if status != http.StatusOK || string(body) != tc.want {
				t.Fatalf("%d %s, want %s", status, body, tc.want)
			}
		})
	}
}

// TestUpdateParamsRefused checks that an update refuses the parameters it
// cannot honour (its answer is the entities as saved) and saves nothing.
func TestUpdateParamsRefused(t *testing.T) {
	srv, c := mustOpenFixture(t)
	u := srv.URL()
	before := allKeys(t, c, u, "Company")
	for _, param := range []string{"$expand=staff", "$attributes=name", "$filter=ID>1", "$top=1"} {
		t.Run(param, func(t *testing.T) {
			status, body := send(t, c, http.MethodPost, u+"/rest/Company?$method=update&"+param, `{"name":"New Co"}`)
			if status != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", status, body)
			}
			if _, msg := errorOf(t, status, body); !strings.Contains(msg, strings.SplitN(param, "=", 2)[0]) {
				t.Fatalf("message %q does not name %s", msg, param)
			}
		})
	}
	if got := allKeys(t, c, u, "Company"); !slices.Equal(got, before) {
		t.Fatalf("companies after refused updates: %v, want %v", got, before)
	}
	status, body := send(t, c, http.MethodPost, u+"/rest/Company?$method=update&$atomic=true", `[{"name":"New Co"}]`)
	if status != http.StatusOK {
		t.Fatalf("$atomic update: %d %s", status, body)
	}
}
