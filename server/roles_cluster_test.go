package server_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fourd/fourd/internal/redistest"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/server"
)

// withRoles writes roles.json into the server's data directory ("" for none).
func withRoles(t *testing.T, roles string) func(*server.Server) {
	return func(s *server.Server) {
		if roles == "" {
			return
		}
		if err := os.WriteFile(filepath.Join(s.DataDir, server.RolesFile), []byte(roles), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSharedRedisRoles checks that the nodes of a cluster enforce one
// roles.json: a node with the same roles (spaced differently) joins, one
// with other roles or none is refused with a message that says so, and
// a cluster whose nodes all stopped may restart with new roles.
func TestSharedRedisRoles(t *testing.T) {
	const rolesA = `{"privileges":[{"privilege":"sales","includes":[]}],"roles":[],"permissions":{"allowed":[]}}`
	const rolesASpaced = "{\n  \"privileges\": [ {\"privilege\": \"sales\", \"includes\": []} ],\n  \"roles\": [],\n  \"permissions\": {\"allowed\": []}\n}\n"
	const rolesB = `{"privileges":[{"privilege":"finance","includes":[]}],"roles":[],"permissions":{"allowed":[]}}`
	shared := redistest.PrefixedURL(t)
	db := "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "cluster.sqlite"))
	node := func(name string) func(*server.Server) {
		return func(s *server.Server) { s.Datastore, s.Shared, s.Node = db, shared, name }
	}
	// tryOpen opens a node and returns Open's error (closing the node if it opened).
	tryOpen := func(name, roles string) error {
		srv := server.New()
		srv.Addr, srv.DataDir = "127.0.0.1:0", t.TempDir()
		srv.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		servertest.WithModel(t, storeTestModel)(srv)
		withRoles(t, roles)(srv)
		node(name)(srv)
		err := srv.Open()
		if err == nil {
			srv.Close()
		}
		return err
	}

	servertest.MustOpenServer(t, servertest.WithModel(t, storeTestModel), withRoles(t, rolesA), node("n1"))
	servertest.MustOpenServer(t, servertest.WithModel(t, storeTestModel), withRoles(t, rolesASpaced), node("n2"))
	for name, roles := range map[string]string{"n3": rolesB, "n4": ""} {
		err := tryOpen(name, roles)
		if err == nil || !strings.Contains(err.Error(), "differs from the cluster's") {
			t.Errorf("node %s with other roles: Open %v, want a refusal naming roles.json", name, err)
		}
	}
}

// TestSharedRedisRolesChange checks that a cluster whose nodes all stopped
// starts again with new roles: the first node to join sets them.
func TestSharedRedisRolesChange(t *testing.T) {
	const rolesA = `{"privileges":[{"privilege":"sales","includes":[]}],"roles":[],"permissions":{"allowed":[]}}`
	const rolesB = `{"privileges":[{"privilege":"finance","includes":[]}],"roles":[],"permissions":{"allowed":[]}}`
	shared := redistest.PrefixedURL(t)
	db := "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "cluster.sqlite"))
	open := func(name, roles string) *server.Server {
		srv := server.New()
		srv.Addr, srv.DataDir, srv.Node = "127.0.0.1:0", t.TempDir(), name
		srv.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		srv.Datastore, srv.Shared = db, shared
		servertest.WithModel(t, storeTestModel)(srv)
		withRoles(t, roles)(srv)
		if err := srv.Open(); err != nil {
			t.Fatalf("node %s: %v", name, err)
		}
		return srv
	}
	first := open("n1", rolesA)
	if err := first.Close(); err != nil { // a clean stop leaves the view at once
		t.Fatal(err)
	}
	second := open("n2", rolesB)
	defer second.Close()
}
