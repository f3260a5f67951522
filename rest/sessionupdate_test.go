package rest_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/servertest"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// TestCallUpdateSession checks that a class function's change to its
// session goes through the store: the session's next request, served from
// the store, has the privilege the function gave it, and the copy the
// function changed by hand is not what counts.
func TestCallUpdateSession(t *testing.T) {
	srv := mustOpenWithUsers(t, func(s *server.Server) {
		s.Functions.DataStore("promote", func(ctx context.Context, call *rest.Call) (any, error) {
			err := call.UpdateSession(ctx, func(s fourd.Session) (fourd.Session, error) {
				s.Privileges = append(s.Privileges, fourd.PrivilegeWebAdmin)
				return s, nil
			})
			return call.Session.HasPrivilege(fourd.PrivilegeWebAdmin), err
		})
		s.Functions.DataStore("tamper", func(ctx context.Context, call *rest.Call) (any, error) {
			call.Session.Privileges = []string{fourd.PrivilegeWebAdmin} // a copy: changes nothing stored
			return true, nil
		})
	})
	c := servertest.NewHTTPClient(t)
	if status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/tamper", `[]`); status != http.StatusOK {
		t.Fatalf("tamper: %d %s", status, body)
	}
	if status, _ := get(t, c, srv.URL(), "/rest/$info"); status != http.StatusUnauthorized {
		t.Fatalf("after changing its copy, $info answers %d, want 401: the change reached the store", status)
	}
	if status, body := send(t, c, http.MethodPost, srv.URL()+"/rest/$catalog/promote", `[]`); status != http.StatusOK || string(body) != `{"result":true}` {
		t.Fatalf("promote: %d %s", status, body)
	}
	if status, body := get(t, c, srv.URL(), "/rest/$info"); status != http.StatusOK {
		t.Fatalf("after UpdateSession, $info answers %d %s, want 200", status, body)
	}
	s, err := srv.Sessions.Session(t.Context(), jarSessionID(t, c, srv))
	if err != nil || !slices.Equal(s.Privileges, []string{fourd.PrivilegeWebAdmin}) {
		t.Fatalf("stored session: %v %v", s.Privileges, err)
	}
}
