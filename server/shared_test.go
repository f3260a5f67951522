package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// openCluster opens n servers sharing one Redis (--shared) and one
// datastore file, as the nodes of a cluster behind a load balancer.
func openCluster(t *testing.T, n int, opts ...func(*server.Server)) []*server.Server {
	t.Helper()
	shared := redistest.PrefixedURL(t)
	db := "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "cluster.sqlite"))
	var nodes []*server.Server
	for range n {
		nodes = append(nodes, MustOpenServer(t, append([]func(*server.Server){
			servertest.WithModel(t, storeTestModel),
			func(s *server.Server) { s.Datastore, s.Shared = db, shared },
		}, opts...)...))
	}
	return nodes
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
// the other serves.
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
		nodes := openCluster(t, 2, servertest.WithUser(t, "sam", "right password"),
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
