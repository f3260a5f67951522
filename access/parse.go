package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/fourd/fourd"
)

// This file reads roles.json: a JSON tree that keeps where every value
// starts, so that every problem names its line; the checks of structure
// and names; and the file written back.

// RolesError is a problem in a roles.json file: where, and what.
type RolesError struct {
	Line    int    // 1-based
	Column  int    // 1-based, for JSON syntax errors; 0 otherwise
	Problem string // what is wrong
}

// Error returns "roles.json: line L[, column C]: problem".
func (e *RolesError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("roles.json: line %d, column %d: %s", e.Line, e.Column, e.Problem)
	}
	return fmt.Sprintf("roles.json: line %d: %s", e.Line, e.Problem)
}

// ParseRoles reads a roles.json file in 4D's format and checks it: JSON
// syntax, keys and types, the shape of every applyTo for its type, names
// (unique, case-insensitive; the reserved WebAdmin and none), references
// to undeclared privileges, and cycles in includes. An error is a
// *RolesError naming the line (and, for JSON syntax, the column).
// Validate checks the applyTo names against a data model.
func ParseRoles(data []byte) (*Roles, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a byte order mark, as some editors write
	root, err := readTree(data)
	if err != nil {
		return nil, err
	}
	p := &rolesParser{data: data, r: &Roles{}}
	if err := p.decode(root); err != nil {
		return nil, err
	}
	if err := p.link(); err != nil {
		return nil, err
	}
	return p.r, nil
}

// MarshalJSON writes the file back in 4D's format: every declared
// privilege, role and permission in file order, lists that were empty left
// out.
func (r *Roles) MarshalJSON() ([]byte, error) {
	r = r.get()
	type privJSON struct {
		Privilege string   `json:"privilege"`
		Includes  []string `json:"includes"`
	}
	type roleJSON struct {
		Role       string   `json:"role"`
		Privileges []string `json:"privileges"`
	}
	type permJSON struct {
		ApplyTo string           `json:"applyTo"`
		Type    PermissionTarget `json:"type"`
		Read    []string         `json:"read,omitempty"`
		Create  []string         `json:"create,omitempty"`
		Update  []string         `json:"update,omitempty"`
		Drop    []string         `json:"drop,omitempty"`
		Execute []string         `json:"execute,omitempty"`
		Promote []string         `json:"promote,omitempty"`
	}
	type permsJSON struct {
		Allowed []permJSON `json:"allowed"`
	}
	f := struct {
		Privileges          []privJSON `json:"privileges"`
		Roles               []roleJSON `json:"roles"`
		Permissions         permsJSON  `json:"permissions"`
		RestrictedByDefault bool       `json:"restrictedByDefault,omitempty"`
		ForceLogin          bool       `json:"forceLogin"`
	}{
		Privileges:          []privJSON{},
		Roles:               []roleJSON{},
		Permissions:         permsJSON{Allowed: []permJSON{}},
		RestrictedByDefault: r.restrictedByDefault,
		ForceLogin:          r.forceLogin,
	}
	for _, pv := range r.privileges {
		f.Privileges = append(f.Privileges, privJSON{pv.name, append([]string{}, pv.includes...)})
	}
	for _, ro := range r.roles {
		f.Roles = append(f.Roles, roleJSON{ro.name, append([]string{}, ro.privileges...)})
	}
	for _, pm := range r.perms {
		g := &pm.grants
		f.Permissions.Allowed = append(f.Permissions.Allowed, permJSON{pm.applyTo, pm.target, g[0], g[1], g[2], g[3], g[4], g[5]})
	}
	return json.Marshal(f)
}

// jnode is a JSON value with the byte offset where it starts.
type jnode struct {
	off  int
	kind byte // '{' object, '[' array, 's' string, 'b' bool, 'n' number, '0' null
	str  string
	b    bool
	keys []string // object keys, parallel to vals
	koff []int    // object key offsets
	vals []*jnode // object values or array elements
}

// readTree parses data into a tree of values with their offsets: a first
// pass finds syntax errors with their position, a second walks the
// tokens, noting where each value starts.
func readTree(data []byte) (*jnode, error) {
	// Into a RawMessage, Unmarshal checks the syntax only: a number too
	// large for a float64 (1e999) is no error here, and the structure
	// checks that follow refuse it where it stands, with its line.
	var v json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return nil, fmt.Errorf("roles.json: %w", err)
		}
		off := int(se.Offset) - 1
		if strings.HasPrefix(se.Error(), "unexpected end") {
			off = len(bytes.TrimRight(data, " \t\r\n"))
		}
		line, col := lineCol(data, max(off, 0))
		return nil, &RolesError{Line: line, Column: col, Problem: se.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return walk(dec, data)
}

func walk(dec *json.Decoder, data []byte) (*jnode, error) {
	n := &jnode{off: skipSep(data, int(dec.InputOffset()))}
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("roles.json: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		n.kind = byte(t)
		for dec.More() {
			if n.kind == '{' {
				koff := skipSep(data, int(dec.InputOffset()))
				k, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("roles.json: %w", err)
				}
				key, _ := k.(string)
				n.keys, n.koff = append(n.keys, key), append(n.koff, koff)
			}
			v, err := walk(dec, data)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, fmt.Errorf("roles.json: %w", err)
		}
	case string:
		n.kind, n.str = 's', t
	case bool:
		n.kind, n.b = 'b', t
	case json.Number:
		n.kind = 'n'
	default:
		n.kind = '0'
	}
	return n, nil
}

// skipSep skips the white space and separators between the end of a
// token (the decoder's InputOffset) and the start of the next.
func skipSep(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
		off++
	}
	return off
}

func lineCol(data []byte, off int) (line, col int) {
	off = min(off, len(data))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return 1 + bytes.Count(data[:off], []byte{'\n'}), 1 + utf8.RuneCount(data[start:off])
}

type rolesParser struct {
	data  []byte
	r     *Roles
	privs []parsedPrivilege
	roles []parsedRole
	perms []parsedPermission
}

type nameAt struct {
	name string
	off  int
}

type parsedPrivilege struct {
	name     nameAt
	includes []nameAt
}

type parsedRole struct {
	name       nameAt
	privileges []nameAt
}

type parsedPermission struct {
	off    int
	grants [numActions][]nameAt
}

func (p *rolesParser) fail(off int, format string, args ...any) error {
	line, _ := lineCol(p.data, off)
	return &RolesError{Line: line, Problem: fmt.Sprintf(format, args...)}
}

var (
	topKeys        = []string{"privileges", "roles", "permissions", "forceLogin", "restrictedByDefault"}
	privilegeKeys  = []string{"privilege", "includes"}
	roleKeys       = []string{"role", "privileges"}
	permissionKeys = []string{"applyTo", "type", "read", "create", "update", "drop", "execute", "promote"}
	targetNames    = "datastore, dataclass, attribute, method, singleton, singletonMethod"
)

// fields checks that n is an object holding only known keys, each once,
// and returns its values by key. where prefixes the messages ("" for the
// top level); ignored keys are accepted without being listed.
func (p *rolesParser) fields(n *jnode, where string, known []string, ignored ...string) (map[string]*jnode, error) {
	if n.kind != '{' {
		if where == "" {
			return nil, p.fail(n.off, "the file must hold a JSON object")
		}
		return nil, p.fail(n.off, "%s must be an object", where)
	}
	f := make(map[string]*jnode, len(n.keys))
	for i, k := range n.keys {
		if !slices.Contains(known, k) && !slices.Contains(ignored, k) {
			return nil, p.fail(n.koff[i], "%sunknown key %q (%s)", prefix(where), k, strings.Join(known, ", "))
		}
		if f[k] != nil {
			return nil, p.fail(n.koff[i], "%sduplicate key %q", prefix(where), k)
		}
		f[k] = n.vals[i]
	}
	return f, nil
}

func prefix(where string) string {
	if where == "" {
		return ""
	}
	return where + ": "
}

func (p *rolesParser) array(n *jnode, where, key string) ([]*jnode, error) {
	if n == nil {
		return nil, nil
	}
	if n.kind != '[' {
		return nil, p.fail(n.off, "%s%s must be an array", prefix(where), key)
	}
	return n.vals, nil
}

func (p *rolesParser) names(n *jnode, where, key string) ([]nameAt, error) {
	if n == nil {
		return nil, nil
	}
	if n.kind != '[' {
		return nil, p.fail(n.off, "%s%s must be an array of names", prefix(where), key)
	}
	out := make([]nameAt, 0, len(n.vals))
	for _, v := range n.vals {
		if v.kind != 's' || v.str == "" {
			return nil, p.fail(v.off, "%s%s must be an array of names", prefix(where), key)
		}
		out = append(out, nameAt{v.str, v.off})
	}
	return out, nil
}

func (p *rolesParser) name(f map[string]*jnode, obj *jnode, where, key string) (nameAt, error) {
	n := f[key]
	switch {
	case n == nil:
		return nameAt{}, p.fail(obj.off, "%s: missing %q", where, key)
	case n.kind != 's' || n.str == "":
		return nameAt{}, p.fail(n.off, "%s: %s must be a non-empty string", where, key)
	}
	return nameAt{n.str, n.off}, nil
}

func (p *rolesParser) boolean(n *jnode, key string) (bool, error) {
	if n == nil {
		return false, nil
	}
	if n.kind != 'b' {
		return false, p.fail(n.off, "%s must be true or false", key)
	}
	return n.b, nil
}

// decode checks the structure of every element, in file order.
func (p *rolesParser) decode(root *jnode) error {
	top, err := p.fields(root, "", topKeys)
	if err != nil {
		return err
	}
	if p.r.forceLogin, err = p.boolean(top["forceLogin"], "forceLogin"); err != nil {
		return err
	}
	if p.r.restrictedByDefault, err = p.boolean(top["restrictedByDefault"], "restrictedByDefault"); err != nil {
		return err
	}
	list, err := p.array(top["privileges"], "", "privileges")
	if err != nil {
		return err
	}
	for i, el := range list {
		where := fmt.Sprintf("privilege %d", i+1)
		f, err := p.fields(el, where, privilegeKeys)
		if err != nil {
			return err
		}
		var pv parsedPrivilege
		if pv.name, err = p.name(f, el, where, "privilege"); err != nil {
			return err
		}
		if pv.includes, err = p.names(f["includes"], where, "includes"); err != nil {
			return err
		}
		p.privs = append(p.privs, pv)
	}
	if list, err = p.array(top["roles"], "", "roles"); err != nil {
		return err
	}
	for i, el := range list {
		where := fmt.Sprintf("role %d", i+1)
		f, err := p.fields(el, where, roleKeys)
		if err != nil {
			return err
		}
		var ro parsedRole
		if ro.name, err = p.name(f, el, where, "role"); err != nil {
			return err
		}
		if ro.privileges, err = p.names(f["privileges"], where, "privileges"); err != nil {
			return err
		}
		p.roles = append(p.roles, ro)
	}
	if n := top["permissions"]; n != nil {
		f, err := p.fields(n, "permissions", []string{"allowed"})
		if err != nil {
			return err
		}
		if list, err = p.array(f["allowed"], "permissions", "allowed"); err != nil {
			return err
		}
		for i, el := range list {
			if err := p.permission(i+1, el); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *rolesParser) permission(index int, el *jnode) error {
	where := fmt.Sprintf("permission %d", index)
	f, err := p.fields(el, where, permissionKeys, "describe")
	if err != nil {
		return err
	}
	applyTo, err := p.name(f, el, where, "applyTo")
	if err != nil {
		return err
	}
	typ, err := p.name(f, el, where, "type")
	if err != nil {
		return err
	}
	pm := permission{index: index, target: PermissionTarget(typ.name), applyTo: applyTo.name}
	pm.line, _ = lineCol(p.data, applyTo.off)
	owner, member, dotted := strings.Cut(applyTo.name, ".")
	bad := func(format string, args ...any) error {
		return p.fail(applyTo.off, "%s: "+format, append([]any{where}, args...)...)
	}
	switch pm.target {
	case TargetDatastore:
		if applyTo.name != "ds" {
			return bad("a datastore permission applies to \"ds\", not %q", applyTo.name)
		}
	case TargetDataClass, TargetSingleton:
		switch {
		case pm.target == TargetDataClass && applyTo.name == "ds":
			return bad(`"ds" is the datastore: use type "datastore"`)
		case dotted && pm.target == TargetDataClass:
			return bad("dataclass %q has a dot: use type \"attribute\" or \"method\"", applyTo.name)
		case dotted || !isName(owner):
			return bad("%s %q must be a class name", pm.target, applyTo.name)
		}
		pm.owner = owner
	case TargetAttribute:
		if !dotted || owner == "ds" || !isName(owner) || !isName(member) {
			return bad("attribute %q must be written Dataclass.attribute", applyTo.name)
		}
		pm.owner, pm.member = owner, member
	case TargetMethod, TargetSingletonMethod:
		if !dotted || !isName(owner) || !isName(member) || pm.target == TargetSingletonMethod && owner == "ds" {
			if pm.target == TargetMethod {
				return bad("method %q must be written Dataclass.function or ds.function", applyTo.name)
			}
			return bad("singletonMethod %q must be written Class.function", applyTo.name)
		}
		pm.owner, pm.member = owner, member
		if pm.target == TargetMethod && owner == "ds" {
			pm.owner = ""
		}
	default:
		return p.fail(typ.off, "%s: unknown type %q (%s)", where, typ.name, targetNames)
	}
	var pp parsedPermission
	pp.off = applyTo.off
	for a, act := range actions {
		if pp.grants[a], err = p.names(f[string(act)], where, string(act)); err != nil {
			return err
		}
		for _, n := range pp.grants[a] {
			pm.grants[a] = append(pm.grants[a], n.name)
		}
	}
	if _, err := p.names(f["describe"], where, "describe"); err != nil {
		return err
	}
	p.r.perms = append(p.r.perms, pm)
	p.perms = append(p.perms, pp)
	return nil
}

// isName reports whether s is a 4D name: a letter or _, then letters,
// digits or _.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || unicode.IsLetter(c) || i > 0 && unicode.IsDigit(c)) {
			return false
		}
	}
	return true
}

// link resolves names: unique declarations, the reserved names,
// references, cycles; then builds the bit tables.
func (p *rolesParser) link() error {
	r := p.r
	r.exact, r.folded, r.roleSets = map[string]int{}, map[string]int{}, map[string]PrivilegeSet{}
	declared := map[string]int{} // folded -> index in p.privs
	webAdmin, none := foldName(fourd.PrivilegeWebAdmin), foldName(PrivilegeNone)
	for i, pv := range p.privs {
		k := foldName(pv.name.name)
		if j, dup := declared[k]; dup {
			return p.fail(pv.name.off, "privilege %d: %q is already declared at line %d", i+1, pv.name.name, p.line(p.privs[j].name.off))
		}
		switch {
		case k == webAdmin && len(pv.includes) > 0:
			return p.fail(pv.name.off, "privilege %d: %q is reserved and cannot include other privileges", i+1, pv.name.name)
		case k == none && len(pv.includes) > 0:
			return p.fail(pv.name.off, "privilege %d: %q is reserved (held by nobody) and cannot include other privileges", i+1, pv.name.name)
		}
		declared[k] = i
		r.addName(pv.name.name, k)
		r.privileges = append(r.privileges, rolePrivilege{name: pv.name.name})
	}
	for _, reserved := range []string{fourd.PrivilegeWebAdmin, PrivilegeNone} {
		if _, ok := r.folded[foldName(reserved)]; !ok {
			r.addName(reserved, foldName(reserved))
		}
	}
	r.webAdmin, r.none = r.folded[webAdmin], r.folded[none]
	for i := range r.names { // reserved names keep their spelling
		switch i {
		case r.webAdmin:
			r.names[i] = fourd.PrivilegeWebAdmin
		case r.none:
			r.names[i] = PrivilegeNone
		}
	}
	rolesDeclared := map[string]int{}
	for i, ro := range p.roles {
		k := foldName(ro.name.name)
		if j, dup := rolesDeclared[k]; dup {
			return p.fail(ro.name.off, "role %d: %q is already declared at line %d", i+1, ro.name.name, p.line(p.roles[j].name.off))
		}
		if k == webAdmin || k == none {
			return p.fail(ro.name.off, "role %d: %q is a reserved privilege name", i+1, ro.name.name)
		}
		if j, clash := declared[k]; clash {
			return p.fail(ro.name.off, "role %d: %q is already the name of a privilege (line %d)", i+1, ro.name.name, p.line(p.privs[j].name.off))
		}
		rolesDeclared[k] = i
	}
	isRole := func(name string) bool {
		_, ok := rolesDeclared[foldName(name)]
		return ok
	}
	// ref resolves a reference to a privilege, for a privilege's includes
	// or a role (nobody may hold "none") or a permission (it may list it).
	ref := func(n nameAt, where string, noneOK bool) (int, error) {
		i, ok := r.folded[foldName(n.name)]
		switch {
		case !ok && isRole(n.name):
			return 0, p.fail(n.off, "%s: %q is a role, not a privilege", where, n.name)
		case !ok:
			return 0, p.fail(n.off, "%s: unknown privilege %q", where, n.name)
		case i == r.none && !noneOK:
			return 0, p.fail(n.off, "%s: %q is held by nobody and cannot be given", where, n.name)
		}
		return i, nil
	}
	edges := make([][]nameAt, len(r.names))
	for i, pv := range p.privs {
		for _, inc := range pv.includes {
			if _, err := ref(inc, fmt.Sprintf("privilege %d: includes", i+1), false); err != nil {
				return err
			}
			r.privileges[i].includes = append(r.privileges[i].includes, inc.name)
		}
		edges[r.folded[foldName(pv.name.name)]] = pv.includes
	}
	if err := p.closures(edges); err != nil {
		return err
	}
	for i, ro := range p.roles {
		def := roleDef{name: ro.name.name}
		var set PrivilegeSet
		for _, n := range ro.privileges {
			j, err := ref(n, fmt.Sprintf("role %d", i+1), false)
			if err != nil {
				return err
			}
			set = set.union(r.closure[j])
			def.privileges = append(def.privileges, n.name)
		}
		r.roles = append(r.roles, def)
		r.roleSets[foldName(ro.name.name)] = set
	}
	seen := map[string]int{} // type + applyTo -> index in r.perms
	for i := range r.perms {
		pm, pp := &r.perms[i], &p.perms[i]
		key := string(pm.target) + " " + pm.applyTo
		if j, dup := seen[key]; dup {
			return p.fail(pp.off, "permission %d: %s (%s) already has permission %d at line %d", pm.index, pm.applyTo, pm.target, r.perms[j].index, r.perms[j].line)
		}
		seen[key] = i
		for a, act := range actions {
			for _, n := range pp.grants[a] {
				j, err := ref(n, fmt.Sprintf("permission %d: %s", pm.index, act), true)
				if err != nil {
					return err
				}
				pm.bits[a] = pm.bits[a].with(j)
			}
		}
	}
	return nil
}

func (p *rolesParser) line(off int) int {
	l, _ := lineCol(p.data, off)
	return l
}

func (r *Roles) addName(name, folded string) {
	i := len(r.names)
	r.names = append(r.names, name)
	r.folded[folded] = i
	r.exact[name] = i
}

// closures finds cycles in includes (edges: bit index -> included names)
// and computes, for every privilege, itself plus all it includes.
func (p *rolesParser) closures(edges [][]nameAt) error {
	r := p.r
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(r.names))
	r.closure = make([]PrivilegeSet, len(r.names))
	var stack []int
	var visit func(i int) error
	visit = func(i int) error {
		state[i] = active
		stack = append(stack, i)
		set := PrivilegeSet{}.with(i)
		for _, inc := range edges[i] {
			j := r.folded[foldName(inc.name)]
			switch state[j] {
			case active:
				from := slices.Index(stack, j)
				path := make([]string, 0, len(stack)-from+1)
				for _, k := range stack[from:] {
					path = append(path, r.names[k])
				}
				path = append(path, r.names[j])
				return p.fail(inc.off, "privileges include each other in a cycle: %s", strings.Join(path, " -> "))
			case unseen:
				if err := visit(j); err != nil {
					return err
				}
			}
			set = set.union(r.closure[j])
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		r.closure[i] = set
		return nil
	}
	for i := range r.names {
		if state[i] == unseen {
			if err := visit(i); err != nil {
				return err
			}
		}
	}
	return nil
}
