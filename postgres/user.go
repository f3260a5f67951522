package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/password"
)

// This file is the users directory on PostgreSQL: a fourd.UserStore that
// every node of a cluster shares, so that a user added, removed or given
// new privileges through one node (or `fourd users --datastore
// postgres://…`) is the same user on all of them.
//
// The users live in one table, __fourd_users, in the datastore's schema
// (the first of the URL's search_path), with the user's ID, name as given,
// the name's key (fourd.FoldUserName, unique: names are case-insensitive),
// bcrypt hash, privileges (a text array) and times. The table is created
// by the first Add, as userfile creates users.json: a database whose
// directory was never written has no users and is not Present, so that
// access control stays off until a user exists; once the table exists it
// stays, and removing the last user never turns access control off.

// UsersTable is the users directory's table.
const UsersTable = "__fourd_users"

// UserStore is the users directory kept in PostgreSQL. It is safe for
// concurrent use by several nodes at once: every change is one statement
// (or one transaction) that PostgreSQL orders.
type UserStore struct {
	// Cost is the bcrypt cost of new hashes, password.DefaultCost unless
	// set. Set it before the first call; tests lower it to bcrypt.MinCost.
	Cost int
	// Now returns the current time, time.Now unless set.
	Now func() time.Time

	pool    *pgxpool.Pool
	own     bool   // the pool is the store's, closed by Close
	table   string // the schema-qualified, quoted table name
	schema  string
	present atomic.Bool // the table has been seen: it stays
	checked atomic.Int64
}

var _ fourd.UserStore = (*UserStore)(nil)

// OpenUserStore opens the users directory of the database url names, in
// its search_path's first schema, with a small pool of its own. Nothing is
// created before the first Add.
func OpenUserStore(ctx context.Context, url string) (*UserStore, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres users: %w", err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.RuntimeParams["application_name"] = "fourd users"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres users: %w", err)
	}
	var schema *string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres users: %w", err)
	}
	if schema == nil {
		pool.Close()
		return nil, errors.New("open postgres users: the search_path names no existing schema")
	}
	s := newUserStore(pool, *schema)
	s.own = true
	return s, nil
}

// UserStore returns the users directory in the datastore's schema, on the
// datastore's pool (closed with the datastore).
func (db *DB) UserStore() *UserStore { return newUserStore(db.pool, db.schema) }

func newUserStore(pool *pgxpool.Pool, schema string) *UserStore {
	return &UserStore{
		Now:    time.Now,
		pool:   pool,
		schema: schema,
		table:  pgx.Identifier{schema, UsersTable}.Sanitize(),
	}
}

// Close closes the store's own pool (OpenUserStore); a store of a DB
// leaves the pool to it. It is idempotent.
func (s *UserStore) Close() error {
	if s.own {
		s.pool.Close()
	}
	return nil
}

// Present reports whether the users directory exists (its table has been
// created by an Add, here or on another node): rest.UsersPresence. A "no"
// is asked again at most once a second, a "yes" never, so a server turns
// access control on at most a second after the first user is added
// through another node. Lookups and logins never use that answer: they
// read the table (a missing one holds no user).
func (s *UserStore) Present() bool {
	if s.present.Load() {
		return true
	}
	now := time.Now().UnixNano()
	if last := s.checked.Load(); now-last < int64(time.Second) && last != 0 {
		return false
	}
	s.checked.Store(now)
	ok, err := s.exists(context.Background())
	if err != nil {
		return true // cannot tell: count as present, as userfile does, so that access stays controlled
	}
	if ok {
		s.present.Store(true)
	}
	return ok
}

func (s *UserStore) exists(ctx context.Context) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", s.table).Scan(&ok)
	return ok, err
}

const userColumns = "id, name, hash, privileges, created, updated"

func scanUser(row pgx.Row) (*fourd.User, string, error) {
	var u fourd.User
	var hash string
	if err := row.Scan(&u.ID, &u.Name, &hash, &u.Privileges, &u.Created, &u.Updated); err != nil {
		return nil, "", err
	}
	u.Created, u.Updated = u.Created.UTC(), u.Updated.UTC()
	if u.Privileges == nil {
		u.Privileges = []string{}
	}
	return &u, hash, nil
}

// find returns the user with that name and its hash; ok is false for an
// unknown name (or no table yet).
func (s *UserStore) find(ctx context.Context, name string) (u *fourd.User, hash string, ok bool, err error) {
	u, hash, err = scanUser(s.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM "+s.table+" WHERE name_key = $1", fourd.FoldUserName(name)))
	if errors.Is(err, pgx.ErrNoRows) || pgCode(err) == codeUndefinedTable {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, fmt.Errorf("users directory: %w", ctxErr(ctx, err))
	}
	return u, hash, true, nil
}

// User returns the user with that name (case-insensitively), or ENOTFOUND.
func (s *UserStore) User(ctx context.Context, name string) (*fourd.User, error) {
	u, _, ok, err := s.find(ctx, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errUnknownUser(name)
	}
	return u, nil
}

// Users returns every user, sorted by name case-insensitively (by
// fourd.FoldUserName, then by the name as given).
func (s *UserStore) Users(ctx context.Context) ([]fourd.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []fourd.User{}
	rows, err := s.pool.Query(ctx, "SELECT "+userColumns+" FROM "+s.table+` ORDER BY name_key COLLATE "C", name COLLATE "C"`)
	if pgCode(err) == codeUndefinedTable {
		return out, nil // no directory yet
	}
	if err != nil {
		return nil, fmt.Errorf("users directory: %w", ctxErr(ctx, err))
	}
	defer rows.Close()
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users directory: %w", err)
		}
		out = append(out, *u)
	}
	if err := rows.Err(); pgCode(err) == codeUndefinedTable {
		return []fourd.User{}, nil
	} else if err != nil {
		return nil, fmt.Errorf("users directory: %w", ctxErr(ctx, err))
	}
	return out, nil
}

// create makes the users table if it does not exist, under an advisory
// lock so that nodes adding their first users at once do not race on it.
func (s *UserStore) create(ctx context.Context) error {
	if s.present.Load() {
		return nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ctxErr(ctx, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // committed below, or nothing to keep
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", s.table); err != nil {
		return ctxErr(ctx, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+s.table+` (
		id text PRIMARY KEY,
		name text NOT NULL,
		name_key text NOT NULL UNIQUE,
		hash text NOT NULL,
		privileges text[] NOT NULL,
		created timestamptz NOT NULL,
		updated timestamptz NOT NULL
	)`); err != nil {
		return ctxErr(ctx, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return ctxErr(ctx, err)
	}
	s.present.Store(true)
	return nil
}

// Add creates a user. The password is hashed before anything is written;
// the name's uniqueness (in any case) is the table's unique key, so two
// nodes adding the same name at once give one user and one EINVALID.
func (s *UserStore) Add(ctx context.Context, name, pw string, privileges []string) (*fourd.User, error) {
	if err := fourd.CheckUserName(name); err != nil {
		return nil, err
	}
	if err := fourd.CheckPassword(pw); err != nil {
		return nil, err
	}
	privs, err := fourd.CheckPrivileges(privileges)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if u, _, ok, err := s.find(ctx, name); err != nil {
		return nil, err
	} else if ok {
		return nil, errUserExists(u.Name)
	}
	hash, err := password.Hash(pw, s.Cost)
	if err != nil {
		return nil, err
	}
	if err := s.create(ctx); err != nil {
		return nil, fmt.Errorf("users directory: %w", err)
	}
	now := s.now()
	u := &fourd.User{ID: fourd.NewID(), Name: name, Privileges: privs, Created: now, Updated: now}
	tag, err := s.pool.Exec(ctx, "INSERT INTO "+s.table+" ("+userColumns+", name_key) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name_key) DO NOTHING",
		u.ID, u.Name, hash, u.Privileges, u.Created, u.Updated, fourd.FoldUserName(name))
	if err != nil {
		return nil, fmt.Errorf("users directory: %w", ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 0 { // added meanwhile, here or on another node
		if other, _, ok, err := s.find(ctx, name); err == nil && ok {
			return nil, errUserExists(other.Name)
		}
		return nil, errUserExists(name)
	}
	return u, nil
}

// Remove deletes the user.
func (s *UserStore) Remove(ctx context.Context, name string) error {
	return s.change(ctx, name, "DELETE FROM "+s.table+" WHERE name_key = $1")
}

// SetPassword replaces the user's password hash and updates Updated.
func (s *UserStore) SetPassword(ctx context.Context, name, pw string) error {
	if err := fourd.CheckPassword(pw); err != nil {
		return err
	}
	if _, _, ok, err := s.find(ctx, name); err != nil {
		return err
	} else if !ok {
		return errUnknownUser(name)
	}
	hash, err := password.Hash(pw, s.Cost)
	if err != nil {
		return err
	}
	return s.change(ctx, name, "UPDATE "+s.table+" SET hash = $2, updated = $3 WHERE name_key = $1", hash, s.now())
}

// SetPrivileges replaces the user's privileges and updates Updated.
func (s *UserStore) SetPrivileges(ctx context.Context, name string, privileges []string) error {
	privs, err := fourd.CheckPrivileges(privileges)
	if err != nil {
		return err
	}
	return s.change(ctx, name, "UPDATE "+s.table+" SET privileges = $2, updated = $3 WHERE name_key = $1", privs, s.now())
}

// change runs a statement on the named user's row: ENOTFOUND when there
// is none.
func (s *UserStore) change(ctx context.Context, name, stmt string, args ...any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, stmt, append([]any{fourd.FoldUserName(name)}, args...)...)
	if pgCode(err) == codeUndefinedTable {
		return errUnknownUser(name) // no directory yet
	}
	if err != nil {
		return fmt.Errorf("users directory: %w", ctxErr(ctx, err))
	}
	if tag.RowsAffected() == 0 {
		return errUnknownUser(name)
	}
	return nil
}

// Authenticate returns the user if password is theirs. Every call that
// reaches the database spends one bcrypt comparison: against the user's
// hash, or against a dummy hash at the store's cost when the name is
// unknown or the password longer than bcrypt reads. Wrong password and
// unknown user return the same EUNAUTHORIZED error.
func (s *UserStore) Authenticate(ctx context.Context, name, pw string) (*fourd.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u, hash, ok, err := s.find(ctx, name)
	if err != nil {
		return nil, err
	}
	ok = ok && len(pw) <= fourd.MaxPasswordBytes
	h := password.Dummy(s.Cost)
	if ok {
		h = []byte(hash)
	}
	if err := bcrypt.CompareHashAndPassword(h, []byte(pw)); err != nil || !ok {
		return nil, &fourd.Error{Code: fourd.EUNAUTHORIZED, ErrCode: fourd.ErrCodeBadCredentials, Message: fourd.MsgBadCredentials}
	}
	return u, nil
}

func (s *UserStore) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	// PostgreSQL keeps microseconds; users directories keep milliseconds.
	return now().UTC().Truncate(time.Millisecond)
}

func errUnknownUser(name string) error {
	return fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownUser, "no user named %q", name)
}

func errUserExists(name string) error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeUserExists, "a user named %q exists already (names are case-insensitive)", name)
}

// codeUndefinedTable is the SQLSTATE of a missing table: the users
// directory before its first user.
const codeUndefinedTable = "42P01"
