package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
	"github.com/fourd/fourd/userfile"
)

// openCluster opens n servers sharing one Redis (--shared) and one
// datastore file, as the nodes of a cluster behind a load balancer.
func openCluster(t *testing.T, n int, opts ...func(*server.Server)) []*server.Server {
	t.Helper()
	return openClusterOn(t, redistest.PrefixedURL(t), n, opts...)
}

// openClusterOn is openCluster on the Redis of URL shared. The nodes are
// named n1, n2, …: a cluster refuses a second node of a live node's name.
func openClusterOn(t *testing.T, shared string, n int, opts ...func(*server.Server)) []*server.Server {
	t.Helper()
	db := "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "cluster.sqlite"))
	var nodes []*server.Server
	for i := range n {
		nodes = append(nodes, MustOpenServer(t, append([]func(*server.Server){
			servertest.WithModel(t, storeTestModel),
			func(s *server.Server) { s.Datastore, s.Shared, s.Node = db, shared, "n"+strconv.Itoa(i+1) },
		}, opts...)...))
	}
	return nodes
}

// withSharedUser gives every node the same users directory with one
// user, as a cluster has (the same user ID on every node).
func withSharedUser(t *testing.T, name, password string, privileges ...string) func(*server.Server) {
	tmpl := &server.Server{DataDir: t.TempDir()}
	servertest.WithUser(t, name, password, privileges...)(tmpl)
	users, err := os.ReadFile(filepath.Join(tmpl.DataDir, userfile.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return func(s *server.Server) {
		if err := os.WriteFile(filepath.Join(s.DataDir, userfile.FileName), users, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// getJSON answers the GET of path on srv through client, decoded.
func getJSON(t *testing.T, client *http.Client, srv *server.Server, path string, v any) {
	t.Helper()
	resp, err := client.Get(srv.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// TestSharedRedis runs two servers on one Redis: what one node stores,
// the other serves (a login, a logout, an entity set), failed logins count
// for both, and a node that stops leaves its clients' sessions to the
// other.
func TestSharedRedis(t *testing.T) {
	ctx := context.Background()
	t.Run("EntitySetMadeThroughOnePagedThroughOther", func(t *testing.T) {
		nodes := openCluster(t, 2)
		a, b := nodes[0], nodes[1]
		saves := make([]fourd.EntitySave, 40)
		for i := range saves {
			saves[i] = fourd.EntitySave{Values: map[string]any{"text": "note"}}
		}
		if res, err := a.Data.Save(ctx, a.Data.Model().DataClass("Note"), saves, true); err != nil || res[0].Err != nil {
			t.Fatalf("save: %v %v", err, res)
		}
		client := servertest.NewHTTPClient(t)
		var made struct {
			Set   string `json:"__ENTITYSET"`
			Count int    `json:"__COUNT"`
		}
		getJSON(t, client, a, "/rest/Note?$filter=ID%3E10&$orderby=ID%20desc&$method=entityset&$top=0", &made)
		if made.Count != 30 || !strings.Contains(made.Set, "/$entityset/") {
			t.Fatalf("node a made %+v, want a set of 30", made)
		}
		if n := b.EntitySets.Used(); n <= 0 {
			t.Fatalf("node b's Used() = %d with a set made through node a", n)
		}
		id := made.Set[strings.LastIndex(made.Set, "/")+1:]
		var page struct {
			Entities []struct {
				ID int `json:"ID"`
			} `json:"__ENTITIES"`
		}
		getJSON(t, client, b, "/rest/Note/$entityset/"+id+"?$skip=5&$top=3", &page)
		var got []int
		for _, e := range page.Entities {
			got = append(got, e.ID)
		}
		if want := []int{35, 34, 33}; !slices.Equal(got, want) {
			t.Fatalf("node b pages %v, want %v", got, want)
		}
		if err := b.ReleaseEntitySet(ctx, id); err != nil {
			t.Fatalf("release through node b: %v", err)
		}
		if _, err := a.EntitySets.Get(ctx, id, a.Now()); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("node a still has the set node b released: %v", err)
		}
	})
	t.Run("LoginFailuresCountedAcrossNodes", func(t *testing.T) {
		quotas := rest.DefaultQuotas
		quotas.MaxLoginFailuresPerUser = 3
		nodes := openCluster(t, 2, withSharedUser(t, "sam", "right password"),
			func(s *server.Server) { s.Quotas = &quotas })
		a, b := servertest.NewClient(t, nodes[0]), servertest.NewClient(t, nodes[1])
		for i, c := range []*rest.Client{a, b, a} {
			if err := c.Login(ctx, "sam", "wrong"); fourd.ErrorCode(err) != fourd.EUNAUTHORIZED {
				t.Fatalf("failure %d: %v, want EUNAUTHORIZED", i+1, err)
			}
		}
		// The fourth attempt, through either node, is throttled before the
		// password is checked: three failures were counted for the cluster.
		for _, c := range []*rest.Client{b, a} {
			if err := c.Login(ctx, "ſam", "right password"); fourd.ErrorCode(err) != fourd.EQUOTA {
				t.Fatalf("login after 3 failures on two nodes: %v, want EQUOTA", err)
			}
		}
	})
	t.Run("LoginThroughOneServedByOther", func(t *testing.T) {
		nodes := openCluster(t, 2, withSharedUser(t, "sam", "sam password", "WebAdmin"))
		a, b := nodes[0], nodes[1]
		// One cookie jar for both nodes, as a browser behind a load
		// balancer has.
		httpClient := servertest.NewHTTPClient(t)
		ca, err := rest.NewClient(a.URL(), httpClient)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := rest.NewClient(b.URL(), httpClient)
		if err != nil {
			t.Fatal(err)
		}
		if err := ca.Login(ctx, "sam", "sam password"); err != nil {
			t.Fatal(err)
		}
		id := ca.SessionID(a.AppName)
		if _, err := cb.Activity(ctx, "", 0); err != nil {
			t.Fatalf("a request through node b: %v", err)
		}
		if got := cb.SessionID(b.AppName); got != id {
			t.Fatalf("node b gave the client session %s, not its logged-in session %s", got, id)
		}
		sess, err := b.Sessions.Session(ctx, id)
		if err != nil || sess.UserName != "sam" {
			t.Fatalf("node b's view of the session: %+v, %v; want sam's", sess, err)
		}
		if err := cb.Logout(ctx); err != nil {
			t.Fatalf("logout through node b: %v", err)
		}
		if _, err := a.Sessions.Session(ctx, id); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("node a still has the session logged out through node b: %v", err)
		}
	})
	t.Run("NodeShutdownLeavesSessions", func(t *testing.T) {
		nodes := openCluster(t, 2)
		a, b := nodes[0], nodes[1]
		c := servertest.NewClient(t, a)
		if _, err := c.Activity(ctx, "", 0); err != nil {
			t.Fatal(err)
		}
		id := c.SessionID(a.AppName)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Sessions.Session(ctx, id); err != nil {
			t.Fatalf("the session of a client of node a after node a stopped: %v", err)
		}
		if _, err := b.Sessions.Session(ctx, a.StoredProcedureSession().ID); fourd.ErrorCode(err) != fourd.ENOTFOUND {
			t.Fatalf("node a's stored-procedure session after node a stopped: %v, want ENOTFOUND", err)
		}
	})
	t.Run("RedisLosingEverythingGivesNewGuestSessions", func(t *testing.T) {
		// Redis restarted empty (tests keep nothing on disk): the
		// client's session and sets are gone. It gets a new guest session
		// (200, a new cookie) and 404 (1802) for the set, never a 500.
		shared := redistest.PrefixedURL(t)
		a := openClusterOn(t, shared, 1)[0]
		client := servertest.NewHTTPClient(t)
		var made struct {
			Set string `json:"__ENTITYSET"`
		}
		getJSON(t, client, a, "/rest/Note?$method=entityset&$top=0", &made)
		u, _ := url.Parse(a.URL())
		before := client.Jar.Cookies(u)
		redistest.Forget(t, shared)
		var catalog map[string]any
		getJSON(t, client, a, "/rest/$catalog", &catalog)
		after := client.Jar.Cookies(u)
		if len(before) != 1 || len(after) != 1 || after[0].Value == before[0].Value {
			t.Fatalf("cookies before %v, after %v: want a new session", before, after)
		}
		resp, err := client.Get(a.URL() + made.Set)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("the lost set: status %d, want 404", resp.StatusCode)
		}
	})
	t.Run("ErrUnknownScheme", func(t *testing.T) {
		srv := server.New()
		srv.Addr = "127.0.0.1:0"
		srv.DataDir = t.TempDir()
		srv.Shared = "memcached://127.0.0.1:11211"
		err := srv.Open()
		if err == nil {
			srv.Close()
			t.Fatal("Open with --shared memcached:// succeeded")
		}
		if want := `shared state "memcached://127.0.0.1:11211": unknown scheme "memcached" (known: redis, rediss)`; err.Error() != want {
			t.Fatalf("error %q, want %q", err, want)
		}
	})
}
