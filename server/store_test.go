package server_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/pgtest"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/postgres"
	"github.com/fourd/fourd/server"
)

const storeTestModel = `{"dataClasses": [{"name": "Note", "primaryKey": "ID", "attributes": [
	{"name": "ID", "type": "long"}, {"name": "text", "type": "string"}]}]}`

// TestDatastoreURL checks that the datastore is chosen from its URL: the
// default is data.sqlite in the data directory, sqlite:///path another
// file, and an unknown scheme is refused with the schemes fourd knows.
func TestDatastoreURL(t *testing.T) {
	t.Run("OKDefaultInDataDir", func(t *testing.T) {
		srv := MustOpenServer(t, servertest.WithModel(t, storeTestModel))
		if _, err := os.Stat(filepath.Join(srv.DataDir, server.DatabaseFile)); err != nil {
			t.Fatalf("the default datastore is not %s in the data directory: %v", server.DatabaseFile, err)
		}
	})
	t.Run("OKSQLiteURL", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "elsewhere.sqlite")
		srv := MustOpenServer(t, servertest.WithModel(t, storeTestModel), func(s *server.Server) {
			s.Datastore = "sqlite://" + filepath.ToSlash(path)
		})
		dc := srv.Data.Model().DataClass("Note")
		res, err := srv.Data.Save(context.Background(), dc, []fourd.EntitySave{{Values: map[string]any{"text": "hi"}}}, true)
		if err != nil || res[0].Err != nil {
			t.Fatalf("save: %v %v", err, res)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("no database at the URL's path: %v", err)
		}
		if _, err := os.Stat(filepath.Join(srv.DataDir, server.DatabaseFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a database was made in the data directory too: %v", err)
		}
	})
	t.Run("OKPostgresDemo", func(t *testing.T) {
		u := pgtest.MustSchema(t)
		srv := MustOpenServer(t, servertest.WithDemo(20, 500), func(s *server.Server) { s.Datastore = u })
		servertest.WaitForDemo(t, srv)
		if _, ok := srv.Data.(*postgres.DB); !ok {
			t.Fatalf("datastore %T, want *postgres.DB", srv.Data)
		}
		m := srv.Data.Model()
		for class, want := range map[string]int{"Company": 20, "Employee": 500} {
			_, n, err := srv.Data.Page(context.Background(), fourd.Selection{DataClass: m.DataClass(class)}, 0, 0, nil)
			if err != nil || n != want {
				t.Errorf("%s: %d entities, %v; want %d", class, n, err, want)
			}
		}
		if _, err := os.Stat(filepath.Join(srv.DataDir, server.DatabaseFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a SQLite database was made in the data directory: %v", err)
		}
		// A second node, with a data directory of its own and no model
		// file, serves the same data with the model stored in the database.
		node2 := MustOpenServer(t, func(s *server.Server) { s.Datastore = u })
		if node2.Data == nil {
			t.Fatal("the second node has no datastore")
		}
		emp := node2.Data.Model().DataClass("Employee")
		res, err := srv.Data.Save(context.Background(), srv.Data.Model().DataClass("Employee"), []fourd.EntitySave{{Values: map[string]any{"lastName": "Both"}}}, false)
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
		e, err := node2.Data.Entity(context.Background(), emp, res[0].Entity.Key, nil)
		if err != nil || e.Values["lastName"] != "Both" {
			t.Errorf("the second node reads %+v, %v", e, err)
		}
	})
	t.Run("OKPostgresUsersShared", func(t *testing.T) {
		// On PostgreSQL the users directory lives in the database: a user
		// added through one node logs in through another, which then
		// controls access, though neither has a users.json.
		u := pgtest.MustSchema(t)
		node1 := MustOpenServer(t, servertest.WithModel(t, storeTestModel), func(s *server.Server) { s.Datastore = u })
		node2 := MustOpenServer(t, func(s *server.Server) { s.Datastore = u })
		if _, ok := node1.Users.(*postgres.UserStore); !ok {
			t.Fatalf("users directory %T, want *postgres.UserStore", node1.Users)
		}
		if node2.AccessControl() {
			t.Fatal("access control on before any user exists")
		}
		ctx := context.Background()
		if _, err := node1.Users.Add(ctx, "alice", "alice-secret-1", []string{fourd.PrivilegeWebAdmin}); err != nil {
			t.Fatal(err)
		}
		if u, err := node2.Users.Authenticate(ctx, "Alice", "alice-secret-1"); err != nil || u.Name != "alice" {
			t.Fatalf("alice through node 2: %v, %v", u, err)
		}
		deadline := time.Now().Add(3 * time.Second) // node 2 asks again at most once a second
		for !node2.AccessControl() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if !node2.AccessControl() {
			t.Error("node 2 does not control access once a user exists")
		}
		if _, err := os.Stat(filepath.Join(node1.DataDir, "users.json")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a users.json was made: %v", err)
		}
	})
	for name, url := range map[string]string{
		"ErrUnknownScheme": "mysql://db.example/fourd",
		"ErrNoPath":        "sqlite://",
	} {
		t.Run(name, func(t *testing.T) {
			srv := server.New()
			srv.Addr = "127.0.0.1:0"
			srv.DataDir = t.TempDir()
			srv.Datastore = url
			err := srv.Open()
			if err == nil {
				srv.Close()
				t.Fatalf("Open with --datastore %s succeeded", url)
			}
			want := `datastore "` + url + `": `
			if !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error %q, want it to start %q", err, want)
			}
			if name == "ErrUnknownScheme" && !strings.HasSuffix(err.Error(), `unknown scheme "mysql" (known: postgres, postgresql, sqlite)`) {
				t.Fatalf("error %q does not list the known schemes", err)
			}
		})
	}
}
