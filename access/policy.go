package access

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fourd/fourd"
)

// Action is a permission action of roles.json.
type Action string

// Permission actions.
const (
	ActionRead    Action = "read"    // read attributes; update and drop need it too
	ActionCreate  Action = "create"  // create entities (does not need read)
	ActionUpdate  Action = "update"  // update attributes
	ActionDrop    Action = "drop"    // delete entities
	ActionExecute Action = "execute" // run functions
	ActionPromote Action = "promote" // on a method: privileges the function runs with (see Policy.Promote)
)

var actions = [...]Action{ActionRead, ActionCreate, ActionUpdate, ActionDrop, ActionExecute, ActionPromote}

const numActions = len(actions)

func (a Action) index() int {
	switch a {
	case ActionRead:
		return 0
	case ActionCreate:
		return 1
	case ActionUpdate:
		return 2
	case ActionDrop:
		return 3
	case ActionExecute:
		return 4
	case ActionPromote:
		return 5
	}
	return -1
}

// PermissionTarget is the type of resource a permission applies to.
type PermissionTarget string

// Permission targets, with the applyTo each expects.
const (
	TargetDatastore       PermissionTarget = "datastore"       // "ds"
	TargetDataClass       PermissionTarget = "dataclass"       // "Employee"
	TargetAttribute       PermissionTarget = "attribute"       // "Employee.salary"
	TargetMethod          PermissionTarget = "method"          // "Employee.raise" or "ds.authentify"
	TargetSingleton       PermissionTarget = "singleton"       // "MySingleton": execute on its functions
	TargetSingletonMethod PermissionTarget = "singletonMethod" // "MySingleton.fn"
)

// PrivilegeNone is a reserved privilege name held by nobody: a permission
// listing it alone grants nobody (4D's default roles.json). Like
// fourd.PrivilegeWebAdmin, the other reserved name, it always exists and
// may be listed without being declared.
const PrivilegeNone = "none"

// Roles is a parsed roles.json file. It is read-only once parsed and safe
// for concurrent use. A nil *Roles is the absent file: nothing restricted.
type Roles struct {
	privileges          []rolePrivilege
	roles               []roleDef
	perms               []permission
	forceLogin          bool
	restrictedByDefault bool

	names    []string       // bit index -> name: declared privileges, then the undeclared reserved ones
	exact    map[string]int // name as written -> bit index (fast path of lookup)
	folded   map[string]int // lower-case name -> bit index
	closure  []PrivilegeSet // bit index -> the privilege and all it includes, transitively
	roleSets map[string]PrivilegeSet
	webAdmin int // bit index of WebAdmin
	none     int // bit index of none
}

type rolePrivilege struct {
	name     string
	includes []string
}

type roleDef struct {
	name       string
	privileges []string
}

type permission struct {
	index         int // 1-based position in permissions.allowed
	line          int // line of applyTo
	target        PermissionTarget
	applyTo       string
	owner, member string // "Employee", "salary"; "" for the datastore ("ds.fn": owner "")
	grants        [numActions][]string
	bits          [numActions]PrivilegeSet
}

func foldName(s string) string { return strings.ToLower(s) }

var noRoles = func() *Roles {
	r, err := ParseRoles([]byte("{}"))
	if err != nil {
		panic(err)
	}
	return r
}()

func (r *Roles) get() *Roles {
	if r == nil {
		return noRoles
	}
	return r
}

// ForceLogin reports whether the file sets "forceLogin": true. In that mode
// a guest session (no privilege) may make only the descriptive requests:
// GET /rest/$catalog, /rest/$catalog/$all (and the per-dataclass
// $catalog/{dataClass}), and POST /rest/$catalog/authentify; anything else
// is refused with 401. The REST layer applies that list; CanExecute
// already lets anyone call the datastore's authentify function.
func (r *Roles) ForceLogin() bool { return r.get().forceLogin }

// RestrictedByDefault reports whether resources that no permission covers
// are closed (4D 21's "restrictedByDefault"); by default they are open.
func (r *Roles) RestrictedByDefault() bool { return r.get().restrictedByDefault }

// PrivilegeNames returns the privileges a session may hold, in declaration
// order, WebAdmin included (last when not declared); "none" is left out.
func (r *Roles) PrivilegeNames() []string {
	r = r.get()
	out := make([]string, 0, len(r.names))
	for i, n := range r.names {
		if i != r.none {
			out = append(out, n)
		}
	}
	return out
}

// RoleNames returns the declared roles in declaration order.
func (r *Roles) RoleNames() []string {
	r = r.get()
	out := make([]string, len(r.roles))
	for i, ro := range r.roles {
		out[i] = ro.name
	}
	return out
}

// Expand returns a session's effective privileges: the given privileges
// and the privileges of the given roles, with their includes expanded
// transitively, once each, in declaration order (an undeclared WebAdmin
// comes last). Names are case-insensitive and reported as declared; names
// the file does not declare, and "none", are ignored, as 4D's
// setPrivileges ignores them. This is what Session.getPrivileges and
// $info.privileges report. The result is never nil.
func (r *Roles) Expand(privileges, roles []string) []string {
	r = r.get()
	return r.namesOf(r.set(privileges, roles))
}

func (r *Roles) lookup(name string) (int, bool) {
	if i, ok := r.exact[name]; ok {
		return i, true
	}
	i, ok := r.folded[foldName(name)]
	return i, ok
}

func (r *Roles) set(privileges, roles []string) PrivilegeSet {
	var s PrivilegeSet
	for _, n := range privileges {
		if i, ok := r.lookup(n); ok && i != r.none {
			s = s.union(r.closure[i])
		}
	}
	for _, n := range roles {
		if rs, ok := r.roleSets[foldName(n)]; ok {
			s = s.union(rs)
		}
	}
	return s
}

func (r *Roles) namesOf(s PrivilegeSet) []string {
	out := []string{}
	for i, n := range r.names {
		if s.has(i) {
			out = append(out, n)
		}
	}
	return out
}

// PrivilegeSet is a compact set of privileges, a bitset over the
// privileges of one roles.json: build it with Policy.Set (once per login)
// and use it only with the Policy that built it, or another Policy
// compiled from the same Roles. The zero value is a guest: no privilege.
// A PrivilegeSet is a value; it is never changed once built.
type PrivilegeSet struct {
	lo uint64
	hi []uint64 // bits 64 and up; nil for files of up to 64 privileges
}

// Empty reports whether the set holds no privilege.
func (s PrivilegeSet) Empty() bool {
	if s.lo != 0 {
		return false
	}
	for _, w := range s.hi {
		if w != 0 {
			return false
		}
	}
	return true
}

func (s PrivilegeSet) has(i int) bool {
	if i < 64 {
		return s.lo&(1<<uint(i)) != 0
	}
	w := i/64 - 1
	return w < len(s.hi) && s.hi[w]&(1<<uint(i%64)) != 0
}

func (s PrivilegeSet) with(i int) PrivilegeSet {
	var t PrivilegeSet
	if i < 64 {
		t.lo = 1 << uint(i)
	} else {
		t.hi = make([]uint64, i/64)
		t.hi[i/64-1] = 1 << uint(i%64)
	}
	return s.union(t)
}

// union returns s ∪ t without changing either (hi is copied when it grows).
func (s PrivilegeSet) union(t PrivilegeSet) PrivilegeSet {
	s.lo |= t.lo
	if len(t.hi) == 0 {
		return s
	}
	hi := make([]uint64, max(len(s.hi), len(t.hi)))
	copy(hi, s.hi)
	for i, w := range t.hi {
		hi[i] |= w
	}
	s.hi = hi
	return s
}

func (s *PrivilegeSet) intersects(t *PrivilegeSet) bool {
	if s.lo&t.lo != 0 {
		return true
	}
	n := min(len(s.hi), len(t.hi))
	for i := 0; i < n; i++ {
		if s.hi[i]&t.hi[i] != 0 {
			return true
		}
	}
	return false
}

// Validate checks the permissions against a data model: every dataclass,
// attribute and method owner they name must exist (names are
// case-sensitive, as in the model). Function names are not checked: the
// model does not list functions. Singleton permissions are not checked.
func (r *Roles) Validate(m *fourd.Model) error {
	r = r.get()
	if m == nil {
		return nil
	}
	for i := range r.perms {
		pm := &r.perms[i]
		var dc *fourd.DataClass
		switch pm.target {
		case TargetDataClass, TargetAttribute, TargetMethod:
			if pm.owner == "" {
				continue // a datastore method
			}
			if dc = m.DataClass(pm.owner); dc == nil {
				return &RolesError{Line: pm.line, Problem: fmt.Sprintf("permission %d: unknown dataclass %q%s", pm.index, pm.owner, didYouMean(pm.owner, m.DataClasses, func(d *fourd.DataClass) string { return d.Name }))}
			}
		}
		if pm.target == TargetAttribute && dc.Attribute(pm.member) == nil {
			return &RolesError{Line: pm.line, Problem: fmt.Sprintf("permission %d: %s has no attribute %q%s", pm.index, dc.Name, pm.member, didYouMean(pm.member, dc.Attributes, func(a *fourd.Attribute) string { return a.Name }))}
		}
	}
	return nil
}

func didYouMean[T any](name string, list []T, nameOf func(T) string) string {
	for _, v := range list {
		if n := nameOf(v); strings.EqualFold(n, name) {
			return fmt.Sprintf(" (did you mean %q?)", n)
		}
	}
	return ""
}

// Policy is a Roles compiled for fast checks. It is read-only and safe for
// concurrent use. A nil *Policy allows everything (no roles.json) and
// still knows WebAdmin.
type Policy struct {
	roles   *Roles
	ds      [numActions]grant
	classes map[string]*classPolicy
	methods map[string]map[string]*methodPolicy // owner ("" for ds) -> function
	// singletons holds each singleton class's execute grant (under the
	// function name "") and its functions' (singletonMethod).
	singletons map[string]map[string]*methodPolicy
}

// grant is one action's permission on a resource, resolved: open, or
// passed by any of the privileges in any.
type grant struct {
	open bool
	any  PrivilegeSet
}

func (g *grant) pass(s *PrivilegeSet) bool { return g.open || g.any.intersects(s) }

type classPolicy struct {
	act   [numActions]grant             // the dataclass's own grant, or the datastore's
	own   [numActions]bool              // act[i] is the dataclass's own grant
	attrs map[string]*[numActions]grant // attribute grants, needed in addition to act; open where unset
	reads []attrRead                    // the attributes with a read grant, for Readable
}

type attrRead struct {
	name string
	g    grant
}

type methodPolicy struct {
	execute    grant
	executeSet bool
	promote    PrivilegeSet
}

var openPolicy = func() *Policy {
	p, err := noRoles.Compile(nil)
	if err != nil {
		panic(err)
	}
	return p
}()

func (p *Policy) get() *Policy {
	if p == nil {
		return openPolicy
	}
	return p
}

// Compile validates the file against m (when m is not nil) and returns its
// fast form. 4D's rules, resolved here once: a dataclass permission
// overrides the datastore one action by action; an attribute permission
// adds to its dataclass's; a method permission overrides its dataclass's
// and the datastore's execute; a resource no permission covers is open,
// or closed under restrictedByDefault.
func (r *Roles) Compile(m *fourd.Model) (*Policy, error) {
	r = r.get()
	if err := r.Validate(m); err != nil {
		return nil, err
	}
	p := &Policy{roles: r, classes: map[string]*classPolicy{}, methods: map[string]map[string]*methodPolicy{}, singletons: map[string]map[string]*methodPolicy{}}
	def := grant{open: !r.restrictedByDefault}
	for i := range p.ds {
		p.ds[i] = def
	}
	class := func(name string) *classPolicy {
		cp := p.classes[name]
		if cp == nil {
			cp = &classPolicy{}
			p.classes[name] = cp
		}
		return cp
	}
	for i := range r.perms {
		pm := &r.perms[i]
		switch pm.target {
		case TargetDatastore:
			for a := range numActions {
				if len(pm.grants[a]) > 0 {
					p.ds[a] = grant{any: pm.bits[a]}
				}
			}
		case TargetDataClass:
			cp := class(pm.owner)
			for a := range numActions {
				if len(pm.grants[a]) > 0 {
					cp.act[a], cp.own[a] = grant{any: pm.bits[a]}, true
				}
			}
		case TargetAttribute:
			cp := class(pm.owner)
			if cp.attrs == nil {
				cp.attrs = map[string]*[numActions]grant{}
			}
			ag := new([numActions]grant)
			for a := range numActions {
				ag[a] = grant{open: len(pm.grants[a]) == 0, any: pm.bits[a]}
			}
			cp.attrs[pm.member] = ag
			if !ag[0].open {
				cp.reads = append(cp.reads, attrRead{pm.member, ag[0]})
			}
		case TargetMethod, TargetSingleton, TargetSingletonMethod:
			table := p.methods
			if pm.target != TargetMethod {
				table = p.singletons
			}
			fns := table[pm.owner]
			if fns == nil {
				fns = map[string]*methodPolicy{}
				table[pm.owner] = fns
			}
			mp := &methodPolicy{}
			if ex := ActionExecute.index(); len(pm.grants[ex]) > 0 {
				mp.execute, mp.executeSet = grant{any: pm.bits[ex]}, true
			}
			for _, n := range pm.grants[ActionPromote.index()] {
				if i, ok := r.lookup(n); ok && i != r.none {
					mp.promote = mp.promote.union(r.closure[i])
				}
			}
			fns[pm.member] = mp
		}
	}
	for _, cp := range p.classes {
		for a := range numActions {
			if !cp.own[a] {
				cp.act[a] = p.ds[a]
			}
		}
	}
	return p, nil
}

// Roles returns the file the policy was compiled from (nil Policy: an
// empty file).
func (p *Policy) Roles() *Roles { return p.get().roles }

// ForceLogin reports whether the file sets forceLogin; see Roles.ForceLogin.
func (p *Policy) ForceLogin() bool { return p.get().roles.forceLogin }

// Set returns the set of the named privileges with their includes
// expanded: build it once per login from the session's privileges (the
// names Expand returned; role names are not privilege names and, like
// unknown names and "none", are ignored).
func (p *Policy) Set(names []string) PrivilegeSet { return p.get().roles.set(names, nil) }

// Names lists the privileges in a set, in declaration order.
func (p *Policy) Names(effective PrivilegeSet) []string { return p.get().roles.namesOf(effective) }

// Has reports whether the set holds the named privilege (case-insensitive;
// false for unknown names and for "none"): Session.hasPrivilege.
func (p *Policy) Has(effective PrivilegeSet, name string) bool {
	r := p.get().roles
	i, ok := r.lookup(name)
	return ok && i != r.none && effective.has(i)
}

// Allowed reports whether a session with the effective privileges may do
// action on dataClass ("" for the datastore level) or, when attribute is
// not "", on that attribute of it. The dataclass's permission for the
// action applies when it has one, the datastore's otherwise; an
// attribute's permission is needed in addition. Update and drop also need
// read; create does not. Execute is the dataclass-wide execute (see
// CanExecute for one function). Promote is not a permission to check:
// Allowed reports false for it and for unknown actions (see Promote).
// Unknown dataclasses and attributes fall back to the levels above.
func (p *Policy) Allowed(effective PrivilegeSet, action Action, dataClass, attribute string) bool {
	p = p.get()
	a := action.index()
	if a < 0 || action == ActionPromote {
		return false
	}
	acts := &p.ds
	var cp *classPolicy
	if dataClass != "" {
		if cp = p.classes[dataClass]; cp != nil {
			acts = &cp.act
		}
	}
	needRead := action == ActionUpdate || action == ActionDrop
	if !acts[a].pass(&effective) || needRead && !acts[0].pass(&effective) {
		return false
	}
	if attribute == "" || cp == nil || cp.attrs == nil {
		return true
	}
	ag := cp.attrs[attribute]
	return ag == nil || ag[a].pass(&effective) && (!needRead || ag[0].pass(&effective))
}

// Readable returns the attributes of dc a session with the effective
// privileges may read: all of them when the dataclass may be read and no
// attribute permission stops it; nil when the dataclass itself may not be
// read (the request is then refused, see Allowed). Attributes left out are
// omitted from responses, not refused. The result may be dc.Attributes
// itself: do not modify it. Reading through a relation attribute also
// needs read on the related dataclass, which is the caller's check.
func (p *Policy) Readable(effective PrivilegeSet, dc *fourd.DataClass) []*fourd.Attribute {
	p = p.get()
	if dc == nil {
		return nil
	}
	cp := p.classes[dc.Name]
	if cp == nil {
		if !p.ds[0].pass(&effective) {
			return nil
		}
		return dc.Attributes
	}
	if !cp.act[0].pass(&effective) {
		return nil
	}
	// Compare names with the few attributes left out rather than look
	// every attribute up.
	var hidden [8]string
	n, many := 0, false
	for i := range cp.reads {
		if !cp.reads[i].g.pass(&effective) {
			if n == len(hidden) {
				many = true
				break
			}
			hidden[n] = cp.reads[i].name
			n++
		}
	}
	if n == 0 {
		return dc.Attributes
	}
	out := make([]*fourd.Attribute, 0, len(dc.Attributes))
	for _, a := range dc.Attributes {
		var left bool
		if many {
			ag := cp.attrs[a.Name]
			left = ag != nil && !ag[0].pass(&effective)
		} else {
			left = slices.Contains(hidden[:n], a.Name)
		}
		if !left {
			out = append(out, a)
		}
	}
	return out
}

// CanExecute reports whether a session with the effective privileges may
// call function of dataClass ("" for a datastore function; entity and
// entity selection functions count as their dataclass's). The method's own
// execute permission applies when it has one, else the dataclass's, else
// the datastore's. The datastore's authentify function is always
// executable, as in 4D: it is how a guest logs in.
func (p *Policy) CanExecute(effective PrivilegeSet, dataClass, function string) bool {
	p = p.get()
	if dataClass == "" && function == "authentify" {
		return true
	}
	if mp := p.methods[dataClass][function]; mp != nil && mp.executeSet {
		return mp.execute.pass(&effective)
	}
	ex := ActionExecute.index()
	if cp := p.classes[dataClass]; cp != nil {
		return cp.act[ex].pass(&effective)
	}
	return p.ds[ex].pass(&effective)
}

// CanExecuteSingleton reports whether a session with the effective
// privileges may call function of the singleton class: the
// singletonMethod permission applies when it has an execute list, else the
// singleton's, else the datastore's execute.
func (p *Policy) CanExecuteSingleton(effective PrivilegeSet, class, function string) bool {
	p = p.get()
	fns := p.singletons[class]
	if mp := fns[function]; mp != nil && mp.executeSet {
		return mp.execute.pass(&effective)
	}
	if mp := fns[""]; mp != nil && mp.executeSet {
		return mp.execute.pass(&effective)
	}
	return p.ds[ActionExecute.index()].pass(&effective)
}

// Promote returns the privileges function runs with: the session's, plus
// those its method permission promotes (with their includes). 4D adds them
// to the running process only, for the call; they are never reported by
// Session.getPrivileges.
func (p *Policy) Promote(effective PrivilegeSet, dataClass, function string) PrivilegeSet {
	p = p.get()
	if mp := p.methods[dataClass][function]; mp != nil {
		return effective.union(mp.promote)
	}
	return effective
}
