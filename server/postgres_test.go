package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/pgtest"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

// TestPostgresCluster runs two nodes on one PostgreSQL schema and one
// Redis (--shared), as issue 11 asks: entities saved through one node are
// read through the other at once, and an entity set made through one
// node, on row IDs PostgreSQL gave, pages correctly through the other.
func TestPostgresCluster(t *testing.T) {
	ctx := context.Background()
	db, shared := pgtest.MustSchema(t), redistest.PrefixedURL(t)
	var nodes []*server.Server
	for _, node := range []string{"a", "b"} { // a cluster refuses two nodes of one name
		nodes = append(nodes, MustOpenServer(t, servertest.WithModel(t, storeTestModel),
			func(s *server.Server) { s.Datastore, s.Shared, s.Node = db, shared, node }))
	}
	a, b := nodes[0], nodes[1]
	saves := make([]fourd.EntitySave, 40)
	for i := range saves {
		saves[i] = fourd.EntitySave{Values: map[string]any{"text": "note"}}
	}
	if res, err := b.Data.Save(ctx, b.Data.Model().DataClass("Note"), saves, true); err != nil || res[0].Err != nil {
		t.Fatalf("save through node b: %v %v", err, res)
	}
	client := servertest.NewHTTPClient(t)
	var made struct {
		Set   string `json:"__ENTITYSET"`
		Count int    `json:"__COUNT"`
		Stamp int64  `json:"__GlobalStamp"`
	}
	getJSON(t, client, a, "/rest/Note?$filter=ID%3E10&$orderby=ID%20desc&$method=entityset&$top=0", &made)
	if made.Count != 30 || !strings.Contains(made.Set, "/$entityset/") || made.Stamp != 40 {
		t.Fatalf("node a made %+v, want a set of 30 at global stamp 40", made)
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
}
