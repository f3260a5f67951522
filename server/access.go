package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/userfile"
)

// RolesFile is roles.json's name in the data directory.
const RolesFile = "roles.json"

// openAccess reads what controls access, from the data directory: the
// users directory (users.json, made by fourd users add) and roles.json.
// Access control is on as soon as either exists. A roles.json that does
// not parse stops the server with a message naming its line: 4D would
// start with protection off, fourd refuses (docs/decisions.md).
func (s *Server) openAccess() error {
	usersPath := filepath.Join(s.DataDir, userfile.FileName)
	if userfile.Exists(usersPath) {
		users, err := userfile.Open(usersPath)
		if err != nil {
			return err
		}
		s.Users = users
	}
	rolesPath := filepath.Join(s.DataDir, RolesFile)
	data, err := os.ReadFile(rolesPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("read %s: %w", rolesPath, err)
	}
	roles, err := fourd.ParseRoles(data)
	if err != nil {
		return fmt.Errorf("%s: %w", rolesPath, err)
	}
	s.Roles = roles
	return nil
}

// AccessControl reports whether the server controls access: users or
// roles.json exist (4D's "controlled admin access mode").
func (s *Server) AccessControl() bool { return s.Users != nil || s.Roles != nil }
