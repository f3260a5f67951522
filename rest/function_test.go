package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// payroll sums the salaries of a selection and names its last entity, so
// that a test sees both which entities and in which order.
func payroll(ctx context.Context, call *rest.Call) (any, error) {
	es, err := call.Entities(ctx, call.Selection)
	if err != nil {
		return nil, err
	}
	var sum float64
	last := ""
	for _, e := range es {
		sum += e.Get("salary").(float64)
		last = e.Get("lastName").(string)
	}
	return map[string]any{"count": len(es), "sum": sum, "last": last}, nil
}

// withTestFunctions registers one function of every kind.
func withTestFunctions(s *server.Server) {
	fns := s.Functions
	fns.DataStore("echo", func(ctx context.Context, call *rest.Call) (any, error) {
		if rest.CallFromContext(ctx) != call || fourd.CurrentProcess(ctx) != call.Process {
			return nil, fmt.Errorf("ctx does not carry the call and its process")
		}
		out := make([]any, len(call.Args))
		for i, a := range call.Args {
			switch v := a.(type) {
			case *rest.Entity:
				out[i] = map[string]any{"entity": v.DataClass.Name, "key": v.Key, "new": v.IsNew(), "lastName": v.Get("lastName"), "salary": v.Get("salary")}
			case *rest.Selection:
				out[i] = map[string]any{"selection": v.DataClass.Name, "length": v.Len()}
			case json.Number:
				out[i] = "number " + v.String()
			default:
				out[i] = v
			}
		}
		return out, nil
	})
	fns.DataStore("saveArg", func(ctx context.Context, call *rest.Call) (any, error) {
		e, ok := call.Args[0].(*rest.Entity)
		if !ok {
			return nil, fmt.Errorf("argument 1 is a %T", call.Args[0])
		}
		return nil, call.Save(ctx, e)
	})
	fns.DataClass("Employee", "byName", func(ctx context.Context, call *rest.Call) (any, error) {
		var name string
		if err := call.Arg(0, &name); err != nil {
			return nil, err
		}
		sel, err := call.Query(ctx, "Employee", "lastName = :1 order by firstName", name)
		if err != nil {
			return nil, err
		}
		if sel.Len() == 1 {
			es, err := call.Entities(ctx, sel)
			if err != nil || len(es) != 1 {
				return nil, err
			}
			return es[0], nil
		}
		return sel, nil
	})
	fns.Entity("Employee", "fullName", func(ctx context.Context, call *rest.Call) (any, error) {
		return fmt.Sprintf("%s %s (%s)", call.Entity.Get("firstName"), call.Entity.Get("lastName"), call.Process.Name()), nil
	})
	fns.EntitySelection("Employee", "payroll", payroll)
	fns.Singleton("Greeter", "hello", func(ctx context.Context, call *rest.Call) (any, error) {
		var name string
		if err := call.Arg(0, &name); err != nil {
			return nil, err
		}
		return "Hello " + name, nil
	})
	fns.Singleton("Greeter", "hi", func(ctx context.Context, call *rest.Call) (any, error) {
		var name string
		if err := call.Arg(0, &name); err != nil {
			return nil, err
		}
		return "Hi " + name, nil
	}).OnHTTPGet()
}

// resultOf returns a reader of {"result": …} answers: resultOf(t)(post(…)).
func resultOf(t *testing.T) func(status int, body []byte) any {
	return func(status int, body []byte) any {
		t.Helper()
		return readResult(t, status, body)
	}
}

func readResult(t *testing.T, status int, body []byte) any {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var out struct {
		Result any `json:"result"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return out.Result
}

func TestFunctions(t *testing.T) {
	srv, c := mustOpenFixture(t, withTestFunctions)
	u := srv.URL()
	post := func(path, body string) (int, []byte) { return send(t, c, http.MethodPost, u+path, body) }
	t.Run("DataStore", func(t *testing.T) {
		got := resultOf(t)(post("/rest/$catalog/echo", `["a", 2.5, {"x": [1]}, null, true]`))
		want := []any{"a", "number 2.5", map[string]any{"x": []any{1.0}}, nil, true}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("echo = %#v, want %#v", got, want)
		}
		if got := resultOf(t)(post("/rest/$catalog/echo", "")); !reflect.DeepEqual(got, []any{}) {
			t.Errorf("echo without a body = %#v, want []", got)
		}
	})
	t.Run("EntityArguments", func(t *testing.T) {
		set := makeSet(t, c, u, "Employee", "$filter", "salary > 50000")
		got := resultOf(t)(post("/rest/$catalog/echo", `[
			{"__DATACLASS":"Employee","__ENTITY":true,"__KEY":2,"lastName":"Changed"},
			{"__DATACLASS":"Employee","__ENTITY":true,"lastName":"Newcomer","salary":1000},
			{"__ENTITIES":true,"__DATASET":"`+set+`"}]`))
		want := []any{
			map[string]any{"entity": "Employee", "key": "2", "new": false, "lastName": "Changed", "salary": 61000.0},
			map[string]any{"entity": "Employee", "key": "", "new": true, "lastName": "Newcomer", "salary": 1000.0},
			map[string]any{"selection": "Employee", "length": 3.0},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("echo = %#v\nwant %#v", got, want)
		}
		// The argument's values were not saved.
		if status, body := get(t, c, u, "/rest/Employee(2)"); status != http.StatusOK || !strings.Contains(string(body), `"lastName":"Alvarez"`) {
			t.Errorf("Employee(2) after the call: %d %s", status, body)
		}
		for _, bad := range []struct {
			body   string
			status int
		}{
			{`[{"__DATACLASS":"Nope","__ENTITY":true}]`, http.StatusNotFound},
			{`[{"__DATACLASS":"Employee","__ENTITY":true,"__KEY":999}]`, http.StatusNotFound},
			{`[{"__DATACLASS":"Employee","__ENTITY":true,"nope":1}]`, http.StatusBadRequest},
			{`[{"__ENTITIES":true,"__DATASET":"0123456789ABCDEF0123456789ABCDEF"}]`, http.StatusNotFound},
			{`{"not":"an array"}`, http.StatusBadRequest},
		} {
			if status, body := post("/rest/$catalog/echo", bad.body); status != bad.status {
				t.Errorf("echo %s: %d %s, want %d", bad.body, status, body, bad.status)
			}
		}
	})
	t.Run("EntityArgumentStamp", func(t *testing.T) {
		// Saving an entity argument checks the stamp the client sent.
		for _, tt := range []struct {
			stamp  string
			status int
		}{{"0", http.StatusConflict}, {"1", http.StatusOK}} {
			status, body := post("/rest/$catalog/saveArg", `[{"__DATACLASS":"Employee","__ENTITY":true,"__KEY":3,"__STAMP":`+tt.stamp+`,"firstName":"Chloé"}]`)
			if status != tt.status {
				t.Errorf("saveArg with __STAMP %s: %d %s, want %d", tt.stamp, status, body, tt.status)
			}
		}
	})
	t.Run("DataClass", func(t *testing.T) {
		status, body := post("/rest/Employee/byName", `["Zola"]`)
		var e map[string]any
		if status != http.StatusOK || json.Unmarshal(body, &e) != nil {
			t.Fatalf("byName Zola: %d %s", status, body)
		}
		if e["__entityModel"] != "Employee" || e["__DATACLASS"] != "Employee" || e["__KEY"] != "5" || e["firstName"] != "Eve" {
			t.Errorf("an entity result is written as an entity: %s", body)
		}
		col := decodeCollection(t, 0+http.StatusOK, mustPost(t, c, u+"/rest/Employee/byName", `["martin"]`))
		if col.Count != 2 || col.EntitySet == "" || !reflect.DeepEqual(keysOf(col), []string{"1", "4"}) {
			t.Errorf("a selection result is a collection with its entity set: %+v", col)
		}
		if got := getCollection(t, c, u, strings.TrimPrefix(col.EntitySet, u)); got.Count != 2 {
			t.Errorf("the result's entity set holds %d entities, want 2", got.Count)
		}
		if status, body := post("/rest/Employee/byName", `[]`); status != http.StatusBadRequest {
			t.Errorf("missing argument: %d %s, want 400", status, body)
		}
	})
	t.Run("Entity", func(t *testing.T) {
		if got := resultOf(t)(post("/rest/Employee(2)/fullName", "")); got != "Bruno Alvarez (Employee.fullName)" {
			t.Errorf("fullName = %v", got)
		}
		if got := resultOf(t)(post("/rest/Employee:lastName(Zola)/fullName/", "")); got != "Eve Zola (Employee.fullName)" {
			t.Errorf("fullName by another attribute = %v", got)
		}
		if status, body := post("/rest/Employee(99)/fullName", ""); status != http.StatusNotFound {
			t.Errorf("unknown entity: %d %s", status, body)
		}
	})
	t.Run("EntitySelection", func(t *testing.T) {
		all := map[string]any{"count": 5.0, "sum": 266000.0, "last": "Zola"}
		set := makeSet(t, c, u, "Employee", "$filter", "active = true", "$orderby", "salary desc")
		for _, tt := range []struct {
			path string
			want map[string]any
		}{
			{"/rest/Employee/payroll", all},
			{"/rest/Employee/payroll/?$filter=" + url.QueryEscape(`"salary<50000"`), map[string]any{"count": 2.0, "sum": 83000.0, "last": "Zola"}},
			{"/rest/Employee/payroll/$entityset?$filter=" + url.QueryEscape("salary>40000") + "&$orderby=" + url.QueryEscape("salary desc"), map[string]any{"count": 4.0, "sum": 228000.0, "last": "O'Neil"}},
			{"/rest/Employee/payroll/$entityset/" + set, map[string]any{"count": 4.0, "sum": 221000.0, "last": "Zola"}},
			{"/rest/Employee/$entityset/" + set + "/payroll", map[string]any{"count": 4.0, "sum": 221000.0, "last": "Zola"}},
			{"/rest/Employee/payroll/$entityset/" + set + "?$orderby=salary", map[string]any{"count": 4.0, "sum": 221000.0, "last": "martin"}},
		} {
			if got := resultOf(t)(post(tt.path, "")); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("POST %s = %v, want %v", tt.path, got, tt.want)
			}
		}
		if status, body := post("/rest/Company/payroll", ""); status != http.StatusNotFound {
			t.Errorf("a function of another dataclass: %d %s, want 404", status, body)
		}
	})
	t.Run("Singleton", func(t *testing.T) {
		if got := resultOf(t)(post("/rest/$singleton/Greeter/hello", `["John"]`)); got != "Hello John" {
			t.Errorf("hello = %v", got)
		}
		if status, body := post("/rest/$singleton/Greeter/nope", `[]`); status != http.StatusNotFound {
			t.Errorf("unknown singleton function: %d %s", status, body)
		}
	})
	t.Run("GET", func(t *testing.T) {
		if got := resultOf(t)(get(t, c, u, "/rest/$singleton/Greeter/hi", "$params", `'["Ann"]'`)); got != "Hi Ann" {
			t.Errorf("GET hi = %v", got)
		}
		status, body := get(t, c, u, "/rest/$singleton/Greeter/hello", "$params", `["Ann"]`)
		if status != http.StatusMethodNotAllowed || errCodeOf(t, body) != fourd.ErrCodeMethodNotAllowed {
			t.Errorf("GET of a function not callable by GET: %d %s, want 405", status, body)
		}
		if status, body := get(t, c, u, "/rest/Employee(2)/fullName"); status != http.StatusMethodNotAllowed {
			t.Errorf("GET of an entity function: %d %s, want 405", status, body)
		}
	})
	t.Run("Catalog", func(t *testing.T) {
		type method struct {
			Name             string `json:"name"`
			ApplyTo          string `json:"applyTo"`
			AllowedOnHTTPGET bool   `json:"allowedOnHTTPGET"`
			Exposed          bool   `json:"exposed"`
		}
		var cat struct {
			Singletons []struct {
				Name    string   `json:"name"`
				Methods []method `json:"methods"`
			} `json:"singletons"`
			DataClasses []struct {
				Name    string   `json:"name"`
				Methods []method `json:"methods"`
			} `json:"dataClasses"`
		}
		for _, path := range []string{"/rest/$catalog", "/rest/$catalog/$all"} {
			status, body := get(t, c, u, path)
			if status != http.StatusOK || json.Unmarshal(body, &cat) != nil {
				t.Fatalf("%s: %d %s", path, status, body)
			}
			want := []method{{Name: "hello", Exposed: true}, {Name: "hi", AllowedOnHTTPGET: true, Exposed: true}}
			if len(cat.Singletons) != 1 || cat.Singletons[0].Name != "Greeter" || !reflect.DeepEqual(cat.Singletons[0].Methods, want) {
				t.Errorf("%s singletons: %s", path, body)
			}
		}
		status, body := get(t, c, u, "/rest/$catalog/Employee")
		var emp struct {
			Methods []method `json:"methods"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &emp) != nil {
			t.Fatalf("$catalog/Employee: %d %s", status, body)
		}
		want := []method{{"byName", "dataClass", false, true}, {"fullName", "entity", false, true}, {"payroll", "entitySelection", false, true}}
		if !reflect.DeepEqual(emp.Methods, want) {
			t.Errorf("$catalog/Employee methods = %+v, want %+v", emp.Methods, want)
		}
	})
	t.Run("ErrParameterNotTaken", func(t *testing.T) {
		for _, path := range []string{
			"/rest/Employee(2)/fullName?$top=1",
			"/rest/Employee/byName?$filter=ID%3D1",
			"/rest/Employee/payroll?$top=2",
			"/rest/Employee/payroll?$method=entityset",
			"/rest/$singleton/Greeter/hello?$params=%5B%22x%22%5D",
		} {
			if status, body := post(path, `["Zola"]`); status != http.StatusBadRequest || errCodeOf(t, body) != fourd.ErrCodeBadParameter {
				t.Errorf("POST %s: %d %s, want 400", path, status, body)
			}
		}
	})
	t.Run("DataStillServed", func(t *testing.T) {
		if col := getCollection(t, c, u, "/rest/Employee/lastName", "$filter", "ID=1"); col.Count != 1 {
			t.Errorf("a projection next to the functions: %+v", col)
		}
	})
}

func mustPost(t *testing.T, c *http.Client, u, body string) []byte {
	t.Helper()
	status, b := send(t, c, http.MethodPost, u, body)
	if status != http.StatusOK {
		t.Fatalf("POST %s: %d %s", u, status, b)
	}
	return b
}

// TestFunctions_Abort checks that a call runs as a process named after the
// function, shown by Process activity, and that aborting that process
// cancels the function's context.
func TestFunctions_Abort(t *testing.T) {
	started := make(chan int64, 1)
	stopped := make(chan error, 1)
	srv, c := mustOpenFixture(t, func(s *server.Server) {
		s.Functions.Entity("Employee", "wait", func(ctx context.Context, call *rest.Call) (any, error) {
			started <- call.Process.ID()
			<-ctx.Done()
			stopped <- context.Cause(ctx)
			return nil, ctx.Err()
		})
	})
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/rest/Employee(1)/wait", nil)
		resp, err := c.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	id := servertest.Receive(t, "the function to start", started)
	a, err := srv.ProcessActivity(context.Background(), "", fourd.ProcessesOnly)
	if err != nil {
		t.Fatal(err)
	}
	var found *fourd.ProcessInfo
	for i := range a.Processes {
		if a.Processes[i].ID == id {
			found = &a.Processes[i]
		}
	}
	if found == nil || found.Name != "Employee.wait" || found.Type != fourd.TypeWebServerProcess {
		t.Fatalf("the call's process in Process activity: %+v", found)
	}
	if err := srv.AbortProcessByID(id); err != nil {
		t.Fatal(err)
	}
	if cause := servertest.Receive(t, "the function to see the abort", stopped); cause == nil {
		t.Error("the function's context ended without a cause")
	}
	if status := servertest.Receive(t, "the answer", done); status == http.StatusOK {
		t.Errorf("an aborted call answered %d", status)
	}
}

// functionRoles opens Employee.fullName and the Greeter singleton to "hr"
// only, and Greeter.hello to "reader".
const functionRoles = `{
  "privileges": [{"privilege": "reader"}, {"privilege": "hr", "includes": ["reader"]}],
  "roles": [{"role": "HRManager", "privileges": ["hr"]}],
  "permissions": {"allowed": [
    {"applyTo": "ds", "type": "datastore", "read": ["reader"], "create": ["hr"], "update": ["hr"], "drop": ["hr"]},
    {"applyTo": "Employee.fullName", "type": "method", "execute": ["hr"]},
    {"applyTo": "Greeter", "type": "singleton", "execute": ["hr"]},
    {"applyTo": "Greeter.hello", "type": "singletonMethod", "execute": ["reader"]}
  ]}
}`

func TestFunctions_Permission(t *testing.T) {
	srv := MustOpenServer(t, servertest.WithModel(t, fixtureModel), withTestFunctions,
		func(s *server.Server) {
			if err := os.WriteFile(filepath.Join(s.DataDir, server.RolesFile), []byte(functionRoles), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		servertest.WithUser(t, "carol", "carol-secret", "reader"),
		servertest.WithUser(t, "dave", "dave-secret", "HRManager"))
	u := srv.URL()
	cs := map[string]*http.Client{"guest": servertest.NewHTTPClient(t)}
	for _, name := range []string{"carol", "dave"} {
		cs[name] = servertest.NewHTTPClient(t)
		if status, result := login(t, cs[name], srv, name, name+"-secret", ""); status != http.StatusOK || result != "true" {
			t.Fatalf("login %s: %d %s", name, status, result)
		}
	}
	if status, body := send(t, cs["dave"], http.MethodPost, u+"/rest/Employee?$method=update", fixtureEmployees); status != http.StatusOK {
		t.Fatalf("load: %d %s", status, body)
	}
	for _, tt := range []struct {
		who, path string
		want      int
	}{
		{"carol", "/rest/Employee(1)/fullName", http.StatusUnauthorized},
		{"dave", "/rest/Employee(1)/fullName", http.StatusOK},
		{"guest", "/rest/$singleton/Greeter/hi", http.StatusUnauthorized},
		{"carol", "/rest/$singleton/Greeter/hi", http.StatusUnauthorized},
		{"dave", "/rest/$singleton/Greeter/hi", http.StatusOK},
		{"carol", "/rest/$singleton/Greeter/hello", http.StatusOK},
		{"guest", "/rest/$singleton/Greeter/hello", http.StatusUnauthorized},
		{"guest", "/rest/Employee/payroll", http.StatusUnauthorized}, // the datastore's execute lists nobody: open, but reading needs reader
		{"carol", "/rest/Employee/payroll", http.StatusOK},
	} {
		status, body := send(t, cs[tt.who], http.MethodPost, u+tt.path, `["x"]`)
		if status != tt.want {
			t.Errorf("%s POST %s: %d %s, want %d", tt.who, tt.path, status, body, tt.want)
		}
		if tt.want == http.StatusUnauthorized && status == tt.want && errCodeOf(t, body) != fourd.ErrCodePermission {
			t.Errorf("%s POST %s: %s, want errCode %d", tt.who, tt.path, body, fourd.ErrCodePermission)
		}
	}
}

func TestFunctions_Check(t *testing.T) {
	for name, register := range map[string]func(*rest.Functions){
		"UnknownDataClass": func(fns *rest.Functions) { fns.DataClass("Nope", "f", noop) },
		"AttributeName":    func(fns *rest.Functions) { fns.Entity("Employee", "salary", noop) },
	} {
		t.Run(name, func(t *testing.T) {
			srv := server.New()
			srv.Addr = "127.0.0.1:0"
			srv.DataDir = t.TempDir()
			if err := os.WriteFile(filepath.Join(srv.DataDir, server.ModelFile), []byte(fixtureModel), 0o640); err != nil {
				t.Fatal(err)
			}
			register(srv.Functions)
			if err := srv.Open(); err == nil {
				srv.Close()
				t.Fatal("Open accepted the function")
			}
		})
	}
}

func noop(context.Context, *rest.Call) (any, error) { return nil, nil }

// TestDemoRaise checks the demo's Employee.raise(percent): the salary
// saved with the stamp check, refused while another session locks the
// employee, and bad arguments refused.
func TestDemoRaise(t *testing.T) {
	srv := MustOpenServer(t, servertest.WithDemo(2, 10))
	servertest.WaitForDemo(t, srv)
	u := srv.URL()
	c, other := servertest.NewHTTPClient(t), servertest.NewHTTPClient(t)
	read := func() map[string]any {
		t.Helper()
		status, body := get(t, c, u, "/rest/Employee(3)")
		var e map[string]any
		if status != http.StatusOK || json.Unmarshal(body, &e) != nil {
			t.Fatalf("Employee(3): %d %s", status, body)
		}
		return e
	}
	before := read()
	status, body := send(t, c, http.MethodPost, u+"/rest/Employee(3)/raise", `[10]`)
	var after map[string]any
	if status != http.StatusOK || json.Unmarshal(body, &after) != nil {
		t.Fatalf("raise: %d %s", status, body)
	}
	want := float64(int64(before["salary"].(float64)*110+0.5)) / 100
	if after["salary"] != want || after["__STAMP"] != before["__STAMP"].(float64)+1 || after["__DATACLASS"] != "Employee" {
		t.Errorf("raise answered %s; want salary %v and the stamp moved on from %v", body, want, before["__STAMP"])
	}
	if got := read(); got["salary"] != want {
		t.Errorf("salary saved = %v, want %v", got["salary"], want)
	}
	lockOK(t, "another session locks Employee(3)", other, u, "Employee(3)", "true")
	status, body = send(t, c, http.MethodPost, u+"/rest/Employee(3)/raise", `[10]`)
	wantLocked(t, "raise of a locked employee", status, body)
	if got := read(); got["salary"] != want {
		t.Errorf("salary after a refused raise = %v, want %v", got["salary"], want)
	}
	for _, bad := range []string{`[]`, `["ten"]`, `[1000]`} {
		if status, body := send(t, c, http.MethodPost, u+"/rest/Employee(4)/raise", bad); status != http.StatusBadRequest {
			t.Errorf("raise %s: %d %s, want 400", bad, status, body)
		}
	}
}

// TestFunctions_StampCheck checks that Call.Save refuses an entity changed
// since the call read it: 409 with 4D's stamp errors, nothing saved.
func TestFunctions_StampCheck(t *testing.T) {
	srv, c := mustOpenFixture(t, func(s *server.Server) {
		s.Functions.Entity("Employee", "racy", func(ctx context.Context, call *rest.Call) (any, error) {
			// Someone else saves the entity meanwhile.
			dc := call.Entity.DataClass
			if _, err := call.Data.Save(ctx, dc, []fourd.EntitySave{{Key: call.Entity.Key, Stamp: call.Entity.Stamp, Update: true, Values: map[string]any{"salary": 1.0}}}, false); err != nil {
				return nil, err
			}
			call.Entity.Set("salary", 2.0)
			return nil, call.Save(ctx, call.Entity)
		})
	})
	status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/Employee(1)/racy", "")
	if status != http.StatusConflict || errCodeOf(t, body) != fourd.ErrCodeStampMismatch {
		t.Errorf("racy: %d %s, want 409 errCode %d", status, body, fourd.ErrCodeStampMismatch)
	}
	if status, body := get(t, c, srv.URL(), "/rest/Employee(1)"); !strings.Contains(string(body), `"salary":1,`) {
		t.Errorf("Employee(1): %d %s, want the other save's salary 1", status, body)
	}
}
