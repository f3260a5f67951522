package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/userfile"
)

// RolesFile is roles.json's name in the data directory.
const RolesFile = "roles.json"

// openAccess reads what controls access, from the data directory: the
// users directory (users.json, made by fourd users add) and roles.json.
// Access control is on as soon as either exists. A roles.json that does
// not parse stops the server with a message naming its line: 4D would
// start with protection off, fourd refuses (docs/decisions.md).
func (s *Server) openAccess() (err error) {
	if s.Users == nil {
		if u, b, uerr := s.datastoreURL(); uerr == nil && b.users != nil {
			// The datastore keeps the users directory (PostgreSQL): every
			// node sharing the data shares the users.
			users, err := b.users(u)
			if err != nil {
				return fmt.Errorf("users directory: %w", err)
			}
			s.Users, s.ownUsers = users, users
			defer func() {
				if err != nil {
					s.closeUsers()
				}
			}()
		} else {
			// Opened even when the file is missing: access control switches on
			// when it appears (fourd users add on a running server).
			users, err := userfile.Open(filepath.Join(s.DataDir, userfile.FileName))
			if err != nil {
				return err
			}
			s.Users = users
		}
	}
	rolesPath := filepath.Join(s.DataDir, RolesFile)
	data, err := os.ReadFile(rolesPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("read %s: %w", rolesPath, err)
	}
	roles, err := access.ParseRoles(data)
	if err != nil {
		return fmt.Errorf("%s: %w", rolesPath, err)
	}
	s.Roles = roles
	return nil
}

// closeUsers closes the users directory the server opened on its
// datastore (none for users.json, which holds nothing open).
func (s *Server) closeUsers() {
	if s.ownUsers != nil {
		_ = s.ownUsers.Close()
		s.ownUsers = nil
	}
}

// AccessControl reports whether the server controls access (4D's
// "controlled admin access mode"): it has a roles.json, or a users
// directory that exists or has existed since Open. It switches on while the
// server runs when the users file appears.
func (s *Server) AccessControl() bool {
	if s.handler != nil {
		return s.handler.AccessControl()
	}
	if s.Roles != nil {
		return true
	}
	p, ok := s.Users.(rest.UsersPresence)
	return s.Users != nil && (!ok || p.Present())
}

// logAccess says at start whether access control is on, and warns when
// roles.json forces a login that no user could make.
func (s *Server) logAccess(ctx context.Context) {
	users := -1
	if s.Users != nil {
		if list, err := s.Users.Users(ctx); err == nil {
			users = len(list)
			s.usersSig = usersSignature(list)
		}
	}
	s.accessOn = s.AccessControl()
	if s.accessOn {
		s.Logger.Info("access control on: $activity, $info and the admin actions need the WebAdmin privilege",
			"users", users, "roles", s.Roles != nil)
	} else {
		s.Logger.Info("access control off: $activity, $info and the admin actions are open to every client (fourd users add turns it on, also while the server runs)")
	}
	if s.Roles != nil && s.Roles.ForceLogin() && users == 0 && s.Functions.Lookup(rest.KindDataStore, "", "authentify") == nil {
		s.Logger.Warn("roles.json sets forceLogin but no user can log in: every request but $catalog and the logins answers 401 (fourd users add creates a user)")
	}
}

// WatchUsers looks at the users directory: it logs when access control
// switches on (the users file appeared), and when the users changed it
// makes every session logged in against the directory follow them (a
// removed user's sessions end; see rest.Handler.FollowUser). The session
// timer calls it every SweepInterval; tests call it directly. It walks the
// sessions only when the users changed.
func (s *Server) WatchUsers(ctx context.Context) {
	if s.Users == nil || s.handler == nil {
		return
	}
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	list, err := s.Users.Users(ctx)
	if err != nil {
		s.Logger.Warn("users directory", "err", err)
		return
	}
	if on := s.AccessControl(); on && !s.accessOn {
		s.accessOn = true
		s.Logger.Info("access control on: the users directory appeared", "users", len(list))
	}
	sig := usersSignature(list)
	if sig == s.usersSig {
		return
	}
	s.usersSig = sig
	infos, err := s.Sessions.Sessions(ctx)
	if err != nil {
		s.Logger.Warn("list sessions", "err", err)
		return
	}
	for _, info := range infos {
		if info.UserID == "" || info.UserID == fourd.GuestUserID {
			continue
		}
		if sess, err := s.Sessions.Session(ctx, info.ID); err == nil {
			s.handler.FollowUser(ctx, &sess)
		}
	}
}

// usersSignature sums up what sessions follow of the users: their IDs,
// names and privileges.
func usersSignature(list []fourd.User) string {
	var b strings.Builder
	b.WriteString("users:")
	for _, u := range list {
		b.WriteString(u.ID)
		b.WriteByte(' ')
		b.WriteString(u.Name)
		for _, p := range u.Privileges {
			b.WriteByte(' ')
			b.WriteString(p)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// agreeRoles makes sure that every node of a cluster (Shared) enforces the
// same roles.json: the first node to join records the digest of its
// roles (SHA-256 of the parsed file in its canonical JSON form, so that
// spacing and key order do not count; "none" without a file), and a node
// whose digest differs refuses to start, saying so. When no other node is
// live, the joining node's digest replaces the recorded one: to change
// roles.json, stop every node, change the file everywhere, start again.
func (s *Server) agreeRoles() error {
	if s.agree == nil {
		return nil
	}
	digest := "none"
	if s.Roles != nil {
		b, err := json.Marshal(s.Roles)
		if err != nil {
			return fmt.Errorf("roles.json: %w", err)
		}
		sum := sha256.Sum256(b)
		digest = hex.EncodeToString(sum[:])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nodes, err := s.Registry.Nodes(ctx)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	alone := true
	for _, n := range nodes {
		if n.Name != s.Node {
			alone = false
		}
	}
	cur, err := s.agree(ctx, "roles", digest, alone)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if cur != digest {
		return fmt.Errorf("%s differs from the cluster's: the live nodes enforce roles %s, this node %s (SHA-256 of the parsed file; \"none\" without one): give every node the same roles.json, or stop every node to change it",
			filepath.Join(s.DataDir, RolesFile), short(cur), short(digest))
	}
	return nil
}

// short returns the first 12 characters of a digest, for messages.
func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}
