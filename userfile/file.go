package userfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/fourd/fourd"
)

// fileVersion is the version of users.json's format written by this
// package; a file without one is read as version 1.
const fileVersion = 1

// fileJSON is users.json:
//
//	{
//	  "version": 1,
//	  "users": [
//	    {
//	      "id": "3F2504E04F8911D39A0C0305E82C3301",
//	      "name": "alice",
//	      "hash": "$2a$10$...",
//	      "privileges": ["WebAdmin"],
//	      "created": "2026-11-22T10:00:00.000Z",
//	      "updated": "2026-11-22T10:00:00.000Z"
//	    }
//	  ]
//	}
//
// One field a line, so that an error can name the line of the user.
type fileJSON struct {
	Version int          `json:"version"`
	Users   []recordJSON `json:"users"`
}

type recordJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Hash       string   `json:"hash"`
	Privileges []string `json:"privileges"`
	Created    string   `json:"created"`
	Updated    string   `json:"updated"`
}

// readFile reads the users file at path; a missing file is an empty state.
func readFile(path string) (*state, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return newState(nil), nil
	}
	if err != nil {
		return nil, fmt.Errorf("users directory: %w", err)
	}
	defer f.Close()
	// The stamp comes from the open file, so it describes exactly the
	// contents read even if the file is replaced meanwhile.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("users directory: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("users directory: read %s: %w", path, err)
	}
	st, err := parse(path, data)
	if err != nil {
		return nil, err
	}
	st.stamp = fi
	return st, nil
}

// parse reads users.json. Its errors read "path:line: problem", the line
// being where the problem is or where the faulty user begins.
func parse(path string, data []byte) (*state, error) {
	p := parser{path: path, data: data}
	// A syntax error first, from a decoder over the whole file, whose
	// offsets count from its beginning.
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, p.errorf(se.Offset, "%s", strings.TrimPrefix(se.Error(), "json: "))
		}
		return nil, p.errorf(0, "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return nil, p.errorf(p.next(0), `want an object {"version": 1, "users": [...]}`)
	}
	var users []record
	lineOf := map[string]int{} // folded name or ID -> line, to name both lines of a duplicate
	for dec.More() {
		keyAt := p.next(dec.InputOffset())
		tok, _ := dec.Token()
		switch tok {
		case "version":
			valueAt := p.next(dec.InputOffset())
			var v int
			if err := dec.Decode(&v); err != nil || v != fileVersion {
				return nil, p.errorf(valueAt, `"version": want %d, the only version this fourd reads`, fileVersion)
			}
		case "users":
			if tok, _ := dec.Token(); tok != json.Delim('[') {
				return nil, p.errorf(keyAt, `"users": want a list of users`)
			}
			for n := 1; dec.More(); n++ {
				r, err := p.record(dec, n, lineOf)
				if err != nil {
					return nil, err
				}
				users = append(users, r)
			}
			if _, err := dec.Token(); err != nil { // ]
				return nil, p.errorf(dec.InputOffset(), "%v", err)
			}
		default:
			return nil, p.errorf(keyAt, `unknown key %q; want "version" and "users"`, tok)
		}
	}
	return newState(users), nil
}

type parser struct {
	path string
	data []byte
}

// errorf returns an error naming the file and the line of offset off.
func (p *parser) errorf(off int64, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.path, p.line(off), fmt.Sprintf(format, args...))
}

func (p *parser) line(off int64) int {
	off = min(max(off, 0), int64(len(p.data)))
	return 1 + bytes.Count(p.data[:off], []byte("\n"))
}

// next returns the offset of the first byte at or after off that is not
// white space, a comma or a colon: where the next token begins.
func (p *parser) next(off int64) int64 {
	for off < int64(len(p.data)) && strings.IndexByte(" \t\r\n,:", p.data[off]) >= 0 {
		off++
	}
	return off
}

// record decodes and checks the n-th user.
func (p *parser) record(dec *json.Decoder, n int, lineOf map[string]int) (record, error) {
	start := p.next(dec.InputOffset())
	// The decoder's offsets inside a value count from just after the
	// comma that precedes it.
	base := dec.InputOffset()
	for base < start && p.data[base] != ',' {
		base++
	}
	if base < start {
		base++
	}
	var j recordJSON
	if err := dec.Decode(&j); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return record{}, p.errorf(base+te.Offset, "user %d: %q: %s, want %s", n, te.Field, te.Value, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.TrimPrefix(err.Error(), "json: unknown field ")
			at := start
			if i := bytes.Index(p.data[start:], []byte(field)); i >= 0 {
				at += int64(i)
			}
			return record{}, p.errorf(at, "user %d: unknown field %s", n, field)
		}
		return record{}, p.errorf(start, "user %d: %v", n, err)
	}
	bad := func(format string, args ...any) (record, error) {
		return record{}, p.errorf(start, "user %d (%q): %s", n, j.Name, fmt.Sprintf(format, args...))
	}
	if err := fourd.CheckUserName(j.Name); err != nil {
		return bad("%s", fourd.ErrorMessage(err))
	}
	line := p.line(start)
	key := fourd.FoldUserName(j.Name)
	if l, ok := lineOf["name:"+key]; ok {
		return bad("same name as the user on line %d (names are case-insensitive)", l)
	}
	lineOf["name:"+key] = line
	if !fourd.ValidID(j.ID) {
		return bad(`"id" %q: want 32 hexadecimal characters`, j.ID)
	}
	id := strings.ToUpper(j.ID)
	if l, ok := lineOf["id:"+id]; ok {
		return bad("same ID as the user on line %d", l)
	}
	lineOf["id:"+id] = line
	if _, err := bcrypt.Cost([]byte(j.Hash)); err != nil {
		return bad(`"hash": not a bcrypt hash (%v)`, err)
	}
	privs, err := fourd.CheckPrivileges(j.Privileges)
	if err != nil {
		return bad("%s", fourd.ErrorMessage(err))
	}
	created, err := fourd.ParseTime(j.Created)
	if err != nil {
		return bad(`"created" %q: want a date-time such as 2026-11-22T10:00:00.000Z`, j.Created)
	}
	updated, err := fourd.ParseTime(j.Updated)
	if err != nil {
		return bad(`"updated" %q: want a date-time such as 2026-11-22T10:00:00.000Z`, j.Updated)
	}
	return record{ID: id, Name: j.Name, Hash: j.Hash, Privileges: privs, Created: created.UTC(), Updated: updated.UTC()}, nil
}

// encode returns st as users.json.
func encode(st *state) ([]byte, error) {
	f := fileJSON{Version: fileVersion, Users: make([]recordJSON, len(st.users))}
	for i, r := range st.users {
		privs := r.Privileges
		if privs == nil {
			privs = []string{}
		}
		f.Users[i] = recordJSON{
			ID:         r.ID,
			Name:       r.Name,
			Hash:       r.Hash,
			Privileges: privs,
			Created:    fourd.FormatTime(r.Created),
			Updated:    fourd.FormatTime(r.Updated),
		}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeFile replaces the file at path with st atomically and durably: a
// temporary file in the same directory (so that the rename does not cross
// file systems), mode 0600, written and fsynced, renamed over path, then
// the directory fsynced so that the rename survives a crash. It returns
// the new file's stamp, taken from the file it wrote.
func writeFile(path string, st *state) (fs.FileInfo, error) {
	b, err := encode(st)
	if err != nil {
		return nil, fmt.Errorf("users directory: encode: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("users directory: %w", err)
	}
	tmp := f.Name()
	fi, err := func() (fs.FileInfo, error) {
		defer f.Close()
		if err := f.Chmod(0o600); err != nil {
			return nil, err
		}
		if _, err := f.Write(b); err != nil {
			return nil, err
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
		return f.Stat()
	}()
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("users directory: write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("users directory: sync %s: %w", dir, err)
	}
	return fi, nil
}
