package server_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

// fillNode gives a node sessions guest sessions and sets entity sets of
// 100 rows, through its own stores (shared ones for a cluster node).
func fillNode(b *testing.B, srv *server.Server, sessions, sets int) {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	for i := range sessions {
		s := fourd.NewSession(fourd.SessionREST, now, time.Hour)
		s.IPAddress = "127.0.0." + strconv.Itoa(1+i%200)
		if err := srv.Sessions.Create(ctx, s); err != nil {
			b.Fatal(err)
		}
		if i < sets {
			rows := make([]fourd.RowID, 100)
			for j := range rows {
				rows[j] = fourd.RowID(i*100 + j + 1)
			}
			es := &fourd.EntitySet{ID: fourd.NewID(), DataClass: "Note", Rows: srv.EntitySets.NewRowSet(rows, false),
				SessionID: s.ID, Created: now, Refreshed: now, Timeout: time.Hour}
			if err := srv.EntitySets.Put(ctx, es); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchGet measures GET url+path, answered 200.
func benchGet(b *testing.B, url, path string) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Get(url + path)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		b.SetBytes(n)
	}
}

// BenchmarkClusterIntrospection compares Process activity and $info of a
// cluster of three nodes sharing Redis (3,000 sessions and 3,000 sets made
// through each: 9,000 of each in the cluster) with one node holding 9,000
// of each in memory. The cluster's answer lists every node's processes
// (asked over Redis pub/sub) and reads the sessions and sets from Redis.
//
//	FOURD_TEST_REDIS=redis://127.0.0.1:6379/0 go test -run XXX -bench ClusterIntrospection -benchtime 20x ./server/
func BenchmarkClusterIntrospection(b *testing.B) {
	model := func(s *server.Server) {
		if err := os.WriteFile(filepath.Join(s.DataDir, "model.json"), []byte(storeTestModel), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	big := func(s *server.Server) { s.CacheSize = 1 << 30 }
	b.Run("OneNode9000", func(b *testing.B) {
		srv := servertest.MustOpenServer(b, model, big)
		fillNode(b, srv, 9000, 9000)
		b.Run("activity", func(b *testing.B) { benchGet(b, srv.URL(), "/rest/$activity") })
		b.Run("info", func(b *testing.B) { benchGet(b, srv.URL(), "/rest/$info") })
	})
	b.Run("ThreeNodes3x3000", func(b *testing.B) {
		shared := redistest.PrefixedURL(b)
		db := "sqlite://" + filepath.ToSlash(filepath.Join(b.TempDir(), "cluster.sqlite"))
		var nodes []*server.Server
		for i := range 3 {
			srv := servertest.MustOpenServer(b, model, big, func(s *server.Server) {
				s.Datastore, s.Shared, s.Node = db, shared, "n"+strconv.Itoa(i+1)
			})
			fillNode(b, srv, 3000, 3000)
			nodes = append(nodes, srv)
		}
		b.Run("activity", func(b *testing.B) { benchGet(b, nodes[0].URL(), "/rest/$activity") })
		b.Run("info", func(b *testing.B) { benchGet(b, nodes[0].URL(), "/rest/$info") })
	})
}
