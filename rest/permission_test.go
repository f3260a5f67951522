package rest_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

// withRoles writes testdata/roles.json (with forceLogin set as asked) into
// the server's data directory.
func withRoles(t *testing.T, forceLogin bool) func(*server.Server) {
	return func(s *server.Server) {
		data, err := os.ReadFile(filepath.Join("testdata", "roles.json"))
		if err != nil {
			t.Fatal(err)
		}
		if forceLogin {
			data = []byte(strings.Replace(string(data), `"forceLogin": false`, `"forceLogin": true`, 1))
		}
		if err := os.WriteFile(filepath.Join(s.DataDir, server.RolesFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// mustOpenWithRoles opens a server with the fixture model, roles.json, and
// three users: carol (reader), dave (the HRManager role) and erin (no
// privilege); the fixture data is loaded as dave.
func mustOpenWithRoles(t *testing.T, forceLogin bool) (*server.Server, map[string]*http.Client) {
	t.Helper()
	srv := MustOpenServer(t, servertest.WithModel(t, fixtureModel), withRoles(t, forceLogin),
		servertest.WithUser(t, "carol", "carol-secret", "reader"),
		servertest.WithUser(t, "dave", "dave-secret", "HRManager"),
		servertest.WithUser(t, "erin", "erin-secret"))
	clients := map[string]*http.Client{"guest": servertest.NewHTTPClient(t)}
	for _, name := range []string{"carol", "dave", "erin"} {
		c := servertest.NewHTTPClient(t)
		if status, result := login(t, c, srv, name, name+"-secret", ""); status != http.StatusOK || result != "true" {
			t.Fatalf("login %s: %d %s", name, status, result)
		}
		clients[name] = c
	}
	for _, load := range []struct{ dc, body string }{{"Company", fixtureCompanies}, {"Employee", fixtureEmployees}} {
		if status, body := send(t, clients["dave"], http.MethodPost, srv.URL()+"/rest/"+load.dc+"?$method=update", load.body); status != http.StatusOK {
			t.Fatalf("load %s as dave: %d %s", load.dc, status, body)
		}
	}
	return srv, clients
}

func TestPermissions(t *testing.T) {
	srv, cs := mustOpenWithRoles(t, false)
	u := srv.URL()
	refused := func(t *testing.T, status int, body []byte) {
		t.Helper()
		if status != http.StatusUnauthorized || errCodeOf(t, body) != fourd.ErrCodePermission {
			t.Fatalf("status %d %s, want 401 errCode %d", status, body, fourd.ErrCodePermission)
		}
	}
	t.Run("ErrGuestCannotRead", func(t *testing.T) {
		status, body := get(t, cs["guest"], u, "/rest/Employee")
		refused(t, status, body)
		status, body = get(t, cs["erin"], u, "/rest/Employee(1)")
		refused(t, status, body)
	})
	t.Run("ReaderDoesNotSeeSalary", func(t *testing.T) {
		for _, params := range [][]string{nil, {"$attributes", "lastName,salary"}} {
			col := getCollection(t, cs["carol"], u, "/rest/Employee", params...)
			if col.Count != 5 {
				t.Fatalf("carol sees %d employees", col.Count)
			}
			for _, e := range col.Entities {
				if _, ok := e["salary"]; ok {
					t.Fatalf("carol sees a salary: %v", e)
				}
				if _, ok := e["lastName"]; !ok {
					t.Fatalf("carol does not see lastName: %v", e)
				}
			}
		}
		status, body := get(t, cs["carol"], u, "/rest/Employee/salary", "$compute", "sum")
		refused(t, status, body)
	})
	t.Run("DataClassOverridesDatastore", func(t *testing.T) {
		status, body := get(t, cs["carol"], u, "/rest/Company")
		refused(t, status, body) // Company's own read grant (hr) replaces the datastore's (reader)
		status, body = get(t, cs["carol"], u, "/rest/Employee(1)/employer")
		refused(t, status, body) // following a relation needs read on its target
		status, body = get(t, cs["carol"], u, "/rest/Employee(1)")
		var e map[string]any
		if status != http.StatusOK || json.Unmarshal(body, &e) != nil {
			t.Fatalf("%d %s", status, body)
		}
		_, salary := e["salary"]
		_, employer := e["employer"]
		if salary || employer || e["lastName"] != "Martin" {
			t.Fatalf("carol's view of an employee: %v; want no salary and no employer (a relation to what she may not read)", e)
		}
	})
	t.Run("RoleIncludesReader", func(t *testing.T) {
		col := getCollection(t, cs["dave"], u, "/rest/Employee", "$orderby", "ID")
		if col.Entities[0]["salary"] != 52000.0 {
			t.Fatalf("dave does not see salaries: %v", col.Entities[0])
		}
		getCollection(t, cs["dave"], u, "/rest/Company")
	})
	t.Run("ErrReaderCannotWrite", func(t *testing.T) {
		status, body := send(t, cs["carol"], http.MethodPost, u+"/rest/Employee?$method=update", `{"lastName":"New"}`)
		refused(t, status, body)
		status, body = send(t, cs["carol"], http.MethodPost, u+"/rest/Employee(2)?$method=delete", "")
		refused(t, status, body)
		if getCollection(t, cs["dave"], u, "/rest/Employee").Count != 5 {
			t.Fatal("a refused request changed the data")
		}
	})
	t.Run("HRWrites", func(t *testing.T) {
		status, body := send(t, cs["dave"], http.MethodPost, u+"/rest/Employee?$method=update", `{"__KEY":"2","__STAMP":1,"salary":62000}`)
		var e map[string]any
		if status != http.StatusOK || json.Unmarshal(body, &e) != nil || e["salary"] != 62000.0 {
			t.Fatalf("%d %s", status, body)
		}
		if status, body := send(t, cs["dave"], http.MethodPost, u+"/rest/Employee(5)?$method=delete", ""); status != http.StatusOK {
			t.Fatalf("delete as hr: %d %s", status, body)
		}
	})
	t.Run("InfoListsExpandedPrivileges", func(t *testing.T) {
		s, err := srv.Sessions.Session(t.Context(), jarSessionID(t, cs["dave"], srv))
		if err != nil || !s.HasPrivilege("hr") || !s.HasPrivilege("reader") {
			t.Fatalf("dave's privileges: %v %v", s.Privileges, err)
		}
	})
}

func TestForceLogin(t *testing.T) {
	srv, cs := mustOpenWithRoles(t, true)
	u := srv.URL()
	guest := servertest.NewHTTPClient(t)
	for _, path := range []string{"/rest/$catalog", "/rest/$catalog/$all", "/rest/$catalog/Employee"} {
		if status, body := get(t, guest, u, path); status != http.StatusOK {
			t.Errorf("guest %s: %d %s, want 200 (a descriptive request)", path, status, body)
		}
	}
	status, body := get(t, guest, u, "/rest/Employee")
	if status != http.StatusUnauthorized || errCodeOf(t, body) != fourd.ErrCodePermission {
		t.Fatalf("guest data request: %d %s, want 401", status, body)
	}
	if status, body := send(t, guest, http.MethodPost, u+"/rest/$catalog/authentify", `[{"name":"carol","password":"carol-secret"}]`); status != http.StatusOK || string(body) != `{"result":true}` {
		t.Fatalf("authentify: %d %s", status, body)
	}
	if col := getCollection(t, guest, u, "/rest/Employee"); col.Count != 5 {
		t.Fatalf("after login: %d employees", col.Count)
	}
	_ = cs
}
