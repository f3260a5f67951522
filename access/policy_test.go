package access_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
)

// rolesModel is the small data model the roles.json files of
// testdata/roles are written for.
func rolesModel(tb testing.TB) *fourd.Model {
	tb.Helper()
	m := &fourd.Model{DataClasses: []*fourd.DataClass{
		{Name: "Company", PrimaryKey: "ID", Attributes: []*fourd.Attribute{
			{Name: "ID", Type: fourd.AttrLong},
			{Name: "name", Type: fourd.AttrString},
			{Name: "revenue", Type: fourd.AttrNumber},
			{Name: "staff", Kind: fourd.KindRelatedEntities, RelatedDataClass: "Employee", Path: "employer"},
		}},
		{Name: "Employee", PrimaryKey: "ID", Attributes: []*fourd.Attribute{
			{Name: "ID", Type: fourd.AttrLong},
			{Name: "name", Type: fourd.AttrString},
			{Name: "salary", Type: fourd.AttrNumber},
			{Name: "secret", Type: fourd.AttrString},
			{Name: "employer", Kind: fourd.KindRelatedEntity, RelatedDataClass: "Company"},
		}},
		{Name: "Product", PrimaryKey: "ID", Attributes: []*fourd.Attribute{
			{Name: "ID", Type: fourd.AttrLong},
			{Name: "name", Type: fourd.AttrString},
			{Name: "price", Type: fourd.AttrNumber},
		}},
		{Name: "Invoice", PrimaryKey: "ID", Attributes: []*fourd.Attribute{
			{Name: "ID", Type: fourd.AttrLong},
			{Name: "total", Type: fourd.AttrNumber},
		}},
	}}
	if err := m.Init(); err != nil {
		tb.Fatal(err)
	}
	return m
}

func readRoles(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "roles", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// mustPolicy parses testdata/roles/name and compiles it against rolesModel.
func mustPolicy(tb testing.TB, name string) (*access.Roles, *access.Policy, *fourd.Model) {
	tb.Helper()
	r, err := access.ParseRoles(readRoles(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	m := rolesModel(tb)
	p, err := r.Compile(m)
	if err != nil {
		tb.Fatal(err)
	}
	return r, p, m
}

// shopSessions are the sessions of shop.json: each given privileges
// and roles as a login would, then expanded.
func shopSessions(r *access.Roles, p *access.Policy) map[string]access.PrivilegeSet {
	login := func(privileges, roles []string) access.PrivilegeSet { return p.Set(r.Expand(privileges, roles)) }
	return map[string]access.PrivilegeSet{
		"guest":      {},
		"simple":     login([]string{"simple"}, nil),
		"medium":     login([]string{"medium"}, nil),
		"manager":    login([]string{"manager"}, nil),
		"hr":         login([]string{"hr"}, nil),
		"writer":     login([]string{"writer"}, nil),
		"auditor":    login([]string{"auditor"}, nil),
		"boss":       login([]string{"boss"}, nil),
		"supervisor": login(nil, []string{"supervisor"}),
		"admin":      login(nil, []string{"Admin"}),
	}
}

func TestRolesExpand(t *testing.T) {
	r, _, _ := mustPolicy(t, "shop.json")
	tests := []struct {
		name              string
		privileges, roles []string
		want              []string
	}{
		{"IncludesTransitively", []string{"manager"}, nil, []string{"simple", "medium", "manager"}},
		{"RoleExpanded", nil, []string{"Supervisor"}, []string{"simple", "medium", "hr"}},
		{"CaseInsensitiveAsDeclared", []string{"MANAGER", "Hr"}, []string{"clerk"}, []string{"simple", "medium", "manager", "hr"}},
		{"DeduplicatedInDeclarationOrder", []string{"hr", "simple", "medium", "simple"}, []string{"Clerk"}, []string{"simple", "medium", "hr"}},
		{"UndeclaredWebAdminLast", []string{"boss"}, nil, []string{"simple", "medium", "manager", "hr", "boss", "WebAdmin"}},
		{"WebAdminReservedWithoutDeclaration", []string{"webADMIN"}, nil, []string{"WebAdmin"}},
		{"RoleGivingWebAdmin", nil, []string{"admin"}, []string{"WebAdmin"}},
		{"UnknownNamesIgnored", []string{"nobody", "none", "Clerk"}, []string{"simple", "ghost"}, []string{}},
		{"Guest", nil, nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Expand(tt.privileges, tt.roles)
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("Expand(%q, %q) = %#v, want %#v", tt.privileges, tt.roles, got, tt.want)
			}
		})
	}
	t.Run("Names", func(t *testing.T) {
		if got, want := r.PrivilegeNames(), []string{"simple", "medium", "manager", "hr", "writer", "auditor", "boss", "WebAdmin"}; !slices.Equal(got, want) {
			t.Errorf("PrivilegeNames() = %q, want %q", got, want)
		}
		if got, want := r.RoleNames(), []string{"Clerk", "Supervisor", "Admin"}; !slices.Equal(got, want) {
			t.Errorf("RoleNames() = %q, want %q", got, want)
		}
	})
}

func TestPolicyAllowed(t *testing.T) {
	r, p, _ := mustPolicy(t, "shop.json")
	s := shopSessions(r, p)
	const (
		read, create, update, drop = access.ActionRead, access.ActionCreate, access.ActionUpdate, access.ActionDrop
		execute, promote           = access.ActionExecute, access.ActionPromote
	)
	tests := []struct {
		name     string
		session  string
		action   access.Action
		dc, attr string
		want     bool
	}{
		// The datastore grant applies to every dataclass without its own.
		{"DatastoreGrant/SimpleReadsEmployee", "simple", read, "Employee", "", true},
		{"DatastoreGrant/SimpleReadsDatastore", "simple", read, "", "", true},
		{"DatastoreGrant/GuestCannotRead", "guest", read, "Employee", "", false},
		{"DatastoreGrant/HRCannotReadEmployee", "hr", read, "Employee", "", false},
		{"DatastoreGrant/IncludedPrivilegePasses", "manager", read, "Employee", "", true},
		{"DatastoreGrant/UnknownDataClassFallsBack", "simple", read, "Nowhere", "", true},
		// A dataclass grant overrides the datastore one, narrower or wider.
		{"DataclassOverride/NarrowerRefusesSimple", "simple", read, "Company", "", false},
		{"DataclassOverride/NarrowerAllowsHR", "hr", read, "Company", "", true},
		{"DataclassOverride/WiderAllowsAuditor", "auditor", read, "Product", "", true},
		{"DataclassOverride/WiderKeepsSimple", "simple", read, "Product", "", true},
		{"DataclassOverride/OnlyItsActions", "medium", create, "Company", "", true},
		{"DataclassOverride/OtherActionsFromDatastore", "hr", create, "Company", "", false},
		{"DataclassOverride/EmptyListKeepsDatastore", "hr", update, "Company", "", false},
		// Attribute grants add to the dataclass's: both are needed.
		{"AttributeAdds/DataclassAloneRefused", "simple", read, "Employee", "salary", false},
		{"AttributeAdds/AttributeAloneRefused", "hr", read, "Employee", "salary", false},
		{"AttributeAdds/BothAllowed", "supervisor", read, "Employee", "salary", true},
		{"AttributeAdds/NoneRefusesEveryone", "boss", read, "Employee", "secret", false},
		{"AttributeAdds/UngrantedAttributeInherits", "simple", read, "Employee", "name", true},
		{"AttributeAdds/UnknownAttributeInherits", "simple", read, "Employee", "nickname", true},
		{"AttributeAdds/UpdateNeedsAttributeUpdateAndRead", "manager", update, "Employee", "salary", false},
		{"AttributeAdds/UpdateWithAll", "boss", update, "Employee", "salary", true},
		{"AttributeAdds/UpdateWithoutAttributeUpdate", "supervisor", update, "Employee", "salary", false},
		// Update and drop need read too; create does not.
		{"UpdateNeedsRead/WriterRefused", "writer", update, "Employee", "", false},
		{"UpdateNeedsRead/MediumAllowed", "medium", update, "Employee", "", true},
		{"DropNeedsRead/WriterRefused", "writer", drop, "Employee", "", false},
		{"DropNeedsRead/ManagerAllowed", "manager", drop, "Employee", "", true},
		{"DropNeedsRead/MediumRefused", "medium", drop, "Employee", "", false},
		{"CreateWithoutRead/WriterCreatesInvoice", "writer", create, "Invoice", "", true},
		{"CreateWithoutRead/WriterCannotReadInvoice", "writer", read, "Invoice", "", false},
		{"CreateWithoutRead/WriterCannotUpdateInvoice", "writer", update, "Invoice", "", false},
		{"CreateWithoutRead/MediumCannotCreateInvoice", "medium", create, "Invoice", "", false},
		// Execute at dataclass level; promote is not a permission.
		{"Execute/DatastoreGrant", "manager", execute, "Employee", "", true},
		{"Execute/DataclassOverride", "auditor", execute, "Product", "", true},
		{"Execute/DataclassOverrideRefusesManager", "manager", execute, "Product", "", false},
		{"Promote/NeverAllowed", "boss", promote, "Employee", "", false},
		{"UnknownAction/Refused", "boss", access.Action("describe"), "Employee", "", false},
		// Roles and transitive includes.
		{"Roles/SupervisorUpdates", "supervisor", update, "Employee", "", true},
		{"Roles/AdminRoleIsNotADataSuperuser", "admin", read, "Employee", "", false},
		{"Includes/BossDropsThroughManager", "boss", drop, "Product", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Allowed(s[tt.session], tt.action, tt.dc, tt.attr); got != tt.want {
				t.Errorf("Allowed(%s, %s, %q, %q) = %v, want %v", tt.session, tt.action, tt.dc, tt.attr, got, tt.want)
			}
		})
	}
}

func attrNames(attrs []*fourd.Attribute) []string {
	if attrs == nil {
		return nil
	}
	out := []string{}
	for _, a := range attrs {
		out = append(out, a.Name)
	}
	return out
}

func TestPolicyReadable(t *testing.T) {
	r, p, m := mustPolicy(t, "shop.json")
	s := shopSessions(r, p)
	tests := []struct {
		name    string
		session string
		dc      string
		want    []string
	}{
		{"AttributesLeftOut", "simple", "Employee", []string{"ID", "name", "employer"}},
		{"AttributeGrantHeld", "supervisor", "Employee", []string{"ID", "name", "salary", "employer"}},
		{"NoneHiddenFromEveryone", "boss", "Employee", []string{"ID", "name", "salary", "employer"}},
		{"DataclassRefusedIsNil", "guest", "Employee", nil},
		{"DataclassOverrideRefusedIsNil", "simple", "Company", nil},
		{"DataclassOverrideAllowed", "hr", "Company", []string{"ID", "name", "revenue", "staff"}},
		{"NoAttributeGrantAll", "auditor", "Product", []string{"ID", "name", "price"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := attrNames(p.Readable(s[tt.session], m.DataClass(tt.dc)))
			if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("Readable(%s, %s) = %q, want %q", tt.session, tt.dc, got, tt.want)
			}
		})
	}
	t.Run("AllReadableSharesTheModelSlice", func(t *testing.T) {
		dc := m.DataClass("Product")
		if got := p.Readable(s["simple"], dc); len(got) == 0 || &got[0] != &dc.Attributes[0] {
			t.Errorf("Readable returned a copy; want dc.Attributes itself")
		}
	})
	t.Run("ManyAttributesLeftOut", func(t *testing.T) {
		// Ten attributes with a read grant: past the fast path's eight.
		wide := &fourd.Model{DataClasses: []*fourd.DataClass{{Name: "Wide", PrimaryKey: "ID"}}}
		var perms []string
		wide.DataClasses[0].Attributes = []*fourd.Attribute{{Name: "ID", Type: fourd.AttrLong}}
		for i := range 12 {
			name := fmt.Sprintf("a%d", i)
			wide.DataClasses[0].Attributes = append(wide.DataClasses[0].Attributes, &fourd.Attribute{Name: name, Type: fourd.AttrString})
			grant := "hr"
			if i%6 == 0 {
				grant = "simple"
			}
			if i < 10 {
				perms = append(perms, fmt.Sprintf(`{"applyTo": "Wide.%s", "type": "attribute", "read": [%q]}`, name, grant))
			}
		}
		if err := wide.Init(); err != nil {
			t.Fatal(err)
		}
		wr, err := access.ParseRoles([]byte(`{"privileges": [{"privilege": "simple"}, {"privilege": "hr"}], "permissions": {"allowed": [` + strings.Join(perms, ",") + `]}}`))
		if err != nil {
			t.Fatal(err)
		}
		wp, err := wr.Compile(wide)
		if err != nil {
			t.Fatal(err)
		}
		got := attrNames(wp.Readable(wp.Set([]string{"simple"}), wide.DataClass("Wide")))
		if want := []string{"ID", "a0", "a6", "a10", "a11"}; !slices.Equal(got, want) {
			t.Errorf("Readable(simple, Wide) = %q, want %q", got, want)
		}
	})
	t.Run("NilDataClass", func(t *testing.T) {
		if got := p.Readable(s["boss"], nil); got != nil {
			t.Errorf("Readable(nil) = %v, want nil", got)
		}
	})
	t.Run("DataclassWithoutAnyGrant", func(t *testing.T) {
		// Invoice has no read grant of its own: the datastore's applies.
		if got, want := attrNames(p.Readable(s["simple"], m.DataClass("Invoice"))), []string{"ID", "total"}; !slices.Equal(got, want) {
			t.Errorf("Readable(simple, Invoice) = %q, want %q", got, want)
		}
	})
}

func TestPolicyCanExecute(t *testing.T) {
	r, p, _ := mustPolicy(t, "shop.json")
	s := shopSessions(r, p)
	tests := []struct {
		name    string
		session string
		dc, fn  string
		want    bool
	}{
		{"DatastoreExecuteCoversDataclassFunctions", "manager", "Company", "topTen", true},
		{"DatastoreExecuteCoversDatastoreFunctions", "manager", "", "cleanup", true},
		{"DatastoreExecuteRefused", "simple", "Company", "topTen", false},
		{"DataclassExecuteOverrides", "auditor", "Product", "reprice", true},
		{"DataclassExecuteRefusesManager", "manager", "Product", "reprice", false},
		{"MethodOverridesDatastore", "hr", "Employee", "raise", true},
		{"MethodRefusesManager", "manager", "Employee", "raise", false},
		{"OtherMethodOfDataclassFromDatastore", "manager", "Employee", "fire", true},
		{"DatastoreMethod", "auditor", "", "stats", true},
		{"DatastoreMethodRefusesManager", "manager", "", "stats", false},
		{"AuthentifyOpenToGuests", "guest", "", "authentify", true},
		{"AuthentifyOfADataclassIsNotSpecial", "guest", "Employee", "authentify", false},
		{"SingletonPermissionIsNotADataclassOne", "simple", "Cache", "stats", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.CanExecute(s[tt.session], tt.dc, tt.fn); got != tt.want {
				t.Errorf("CanExecute(%s, %q, %q) = %v, want %v", tt.session, tt.dc, tt.fn, got, tt.want)
			}
		})
	}
}

func TestPolicyCanExecuteSingleton(t *testing.T) {
	r, p, _ := mustPolicy(t, "shop.json")
	s := shopSessions(r, p)
	tests := []struct {
		name      string
		session   string
		class, fn string
		want      bool
	}{
		{"SingletonMethodOverrides", "manager", "Cache", "clear", true},
		{"SingletonMethodRefusesSingletonGrant", "simple", "Cache", "clear", false},
		{"SingletonCoversItsFunctions", "simple", "Cache", "stats", true},
		{"SingletonRefusesGuest", "guest", "Cache", "stats", false},
		{"DatastoreCoversOtherSingletons", "manager", "Clock", "now", true},
		{"DatastoreRefused", "simple", "Clock", "now", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.CanExecuteSingleton(s[tt.session], tt.class, tt.fn); got != tt.want {
				t.Errorf("CanExecuteSingleton(%s, %q, %q) = %v, want %v", tt.session, tt.class, tt.fn, got, tt.want)
			}
		})
	}
	var open *access.Policy
	if !open.CanExecuteSingleton(access.PrivilegeSet{}, "Cache", "clear") {
		t.Error("without roles.json a singleton function is refused")
	}
}

func TestPolicyPromote(t *testing.T) {
	r, p, _ := mustPolicy(t, "shop.json")
	s := shopSessions(r, p)
	t.Run("PromotedWithIncludes", func(t *testing.T) {
		got := p.Promote(s["hr"], "Employee", "raise")
		if names, want := p.Names(got), []string{"simple", "medium", "manager", "hr"}; !slices.Equal(names, want) {
			t.Errorf("Promote(hr, Employee.raise) = %q, want %q", names, want)
		}
		if !p.Allowed(got, access.ActionDrop, "Employee", "") {
			t.Error("the promoted privileges do not pass drop on Employee")
		}
	})
	t.Run("SessionUnchanged", func(t *testing.T) {
		_ = p.Promote(s["hr"], "Employee", "raise")
		if names, want := p.Names(s["hr"]), []string{"hr"}; !slices.Equal(names, want) {
			t.Errorf("session after Promote = %q, want %q", names, want)
		}
	})
	t.Run("NoPromotion", func(t *testing.T) {
		if names, want := p.Names(p.Promote(s["auditor"], "", "stats")), []string{"auditor"}; !slices.Equal(names, want) {
			t.Errorf("Promote(auditor, ds.stats) = %q, want %q", names, want)
		}
	})
}

func TestPolicyAdmin(t *testing.T) {
	r, p, _ := mustPolicy(t, "shop.json")
	s := shopSessions(r, p)
	for _, tt := range []struct {
		session string
		want    bool
	}{
		{"boss", true}, {"admin", true}, {"manager", false}, {"guest", false},
	} {
		t.Run(tt.session, func(t *testing.T) {
			if got := p.Has(s[tt.session], fourd.PrivilegeWebAdmin); got != tt.want {
				t.Errorf("Has(%s, WebAdmin) = %v, want %v", tt.session, got, tt.want)
			}
		})
	}
	t.Run("SetIsCaseInsensitive", func(t *testing.T) {
		if !p.Has(p.Set([]string{"WEBADMIN"}), fourd.PrivilegeWebAdmin) {
			t.Error("Has(Set(WEBADMIN), WebAdmin) = false")
		}
	})
	t.Run("Has", func(t *testing.T) {
		for _, tt := range []struct {
			session, name string
			want          bool
		}{
			{"medium", "SIMPLE", true},
			{"medium", "manager", false},
			{"boss", "webadmin", true},
			{"boss", "none", false},
			{"boss", "ghost", false},
		} {
			if got := p.Has(s[tt.session], tt.name); got != tt.want {
				t.Errorf("Has(%s, %q) = %v, want %v", tt.session, tt.name, got, tt.want)
			}
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if !s["guest"].Empty() || s["simple"].Empty() || !p.Set([]string{"none", "ghost"}).Empty() {
			t.Error("Empty() is wrong for guest, simple or a set of ignored names")
		}
	})
}

// everything checks every action on every dataclass for one session.
func everything(p *access.Policy, m *fourd.Model, s access.PrivilegeSet) (allowed, refused int) {
	for _, dc := range m.DataClasses {
		for _, a := range []access.Action{access.ActionRead, access.ActionCreate, access.ActionUpdate, access.ActionDrop, access.ActionExecute} {
			if p.Allowed(s, a, dc.Name, "") {
				allowed++
			} else {
				refused++
			}
		}
		if p.CanExecute(s, dc.Name, "fn") {
			allowed++
		} else {
			refused++
		}
		if p.Readable(s, dc) != nil {
			allowed++
		} else {
			refused++
		}
	}
	return allowed, refused
}

func TestPolicyDefault4DFile(t *testing.T) {
	// 4D's default roles.json (20 R6+): "none" on every action of ds.
	r, p, m := mustPolicy(t, "default.json")
	if !r.ForceLogin() || !p.ForceLogin() {
		t.Error("ForceLogin() = false, want true")
	}
	for name, s := range map[string]access.PrivilegeSet{
		"Guest":         {},
		"WebAdmin":      p.Set([]string{"WebAdmin"}),
		"GivenNone":     p.Set([]string{"none"}),
		"GivenUnknowns": p.Set([]string{"simple", "admin"}),
	} {
		t.Run(name+"RefusedEverything", func(t *testing.T) {
			if allowed, _ := everything(p, m, s); allowed != 0 {
				t.Errorf("%d checks allowed, want none", allowed)
			}
		})
	}
	t.Run("AuthentifyStillOpen", func(t *testing.T) {
		if !p.CanExecute(access.PrivilegeSet{}, "", "authentify") || p.CanExecute(access.PrivilegeSet{}, "", "other") {
			t.Error("want authentify open and other datastore functions closed")
		}
	})
	t.Run("NoneIsNeverHeld", func(t *testing.T) {
		if got := r.Expand([]string{"none", "NONE"}, nil); len(got) != 0 {
			t.Errorf("Expand(none) = %q, want []", got)
		}
		if got, want := r.PrivilegeNames(), []string{"WebAdmin"}; !slices.Equal(got, want) {
			t.Errorf("PrivilegeNames() = %q, want %q", got, want)
		}
	})
}

func TestPolicyNoRestriction(t *testing.T) {
	m := rolesModel(t)
	empty, err := access.ParseRoles(readRoles(t, "empty.json"))
	if err != nil {
		t.Fatal(err)
	}
	def21, err := access.ParseRoles(readRoles(t, "default21.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*access.Roles{
		"NoFile":           nil,
		"EmptyPermissions": empty,
		"EmptyLists4D21":   def21,
	} {
		t.Run(name+"AllowsEverything", func(t *testing.T) {
			p, err := r.Compile(m)
			if err != nil {
				t.Fatal(err)
			}
			if r.ForceLogin() {
				t.Error("ForceLogin() = true")
			}
			if _, refused := everything(p, m, access.PrivilegeSet{}); refused != 0 {
				t.Errorf("%d checks refused to a guest, want none", refused)
			}
			if !p.Allowed(access.PrivilegeSet{}, access.ActionUpdate, "Employee", "salary") {
				t.Error("attribute update refused")
			}
		})
	}
	t.Run("NilPolicyAllowsEverythingAndKnowsWebAdmin", func(t *testing.T) {
		var p *access.Policy
		if _, refused := everything(p, m, access.PrivilegeSet{}); refused != 0 {
			t.Errorf("%d checks refused, want none", refused)
		}
		admin := p.Set([]string{"webadmin", "simple"})
		if !p.Has(admin, fourd.PrivilegeWebAdmin) || p.Has(access.PrivilegeSet{}, fourd.PrivilegeWebAdmin) {
			t.Error("Has(WebAdmin) wrong with a nil Policy")
		}
		if got, want := p.Names(admin), []string{"WebAdmin"}; !slices.Equal(got, want) {
			t.Errorf("Names = %q, want %q", got, want)
		}
		if got, want := (*access.Roles)(nil).Expand([]string{"webadmin", "simple"}, []string{"Clerk"}), []string{"WebAdmin"}; !slices.Equal(got, want) {
			t.Errorf("nil Roles: Expand = %q, want %q", got, want)
		}
	})
}

func TestPolicyRestrictedByDefault(t *testing.T) {
	r, p, m := mustPolicy(t, "restricted.json")
	if !r.RestrictedByDefault() || !r.ForceLogin() {
		t.Fatal("restrictedByDefault or forceLogin not parsed")
	}
	simple := p.Set([]string{"simple"})
	tests := []struct {
		name     string
		s        access.PrivilegeSet
		action   access.Action
		dc, attr string
		want     bool
	}{
		{"GrantedDataclass", simple, access.ActionRead, "Product", "", true},
		{"GrantedDataclassGuestRefused", access.PrivilegeSet{}, access.ActionRead, "Product", "", false},
		{"UncoveredActionClosed", simple, access.ActionCreate, "Product", "", false},
		{"UncoveredDataclassClosed", simple, access.ActionRead, "Employee", "", false},
		{"AttributeGrantDoesNotOpenDataclass", simple, access.ActionUpdate, "Product", "price", false},
		{"UngrantedAttributeInherits", simple, access.ActionRead, "Product", "name", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Allowed(tt.s, tt.action, tt.dc, tt.attr); got != tt.want {
				t.Errorf("Allowed = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("FunctionsClosed", func(t *testing.T) {
		if p.CanExecute(simple, "", "stats") || p.CanExecute(simple, "Product", "reprice") {
			t.Error("an uncovered function is executable")
		}
	})
	t.Run("ReadableUncoveredIsNil", func(t *testing.T) {
		if got := p.Readable(simple, m.DataClass("Employee")); got != nil {
			t.Errorf("Readable = %q, want nil", attrNames(got))
		}
	})
}

func TestRolesForceLogin(t *testing.T) {
	for _, tt := range []struct {
		file string
		want bool
	}{
		{"shop.json", true}, {"default.json", true}, {"default21.json", false}, {"empty.json", false},
	} {
		t.Run(tt.file, func(t *testing.T) {
			r, err := access.ParseRoles(readRoles(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.ForceLogin(); got != tt.want {
				t.Errorf("ForceLogin() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRolesReservedNames(t *testing.T) {
	t.Run("WebAdminDeclaredWithoutIncludes", func(t *testing.T) {
		r, err := access.ParseRoles([]byte(`{"privileges": [{"privilege": "webadmin", "includes": []}, {"privilege": "simple"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := r.Expand([]string{"simple", "WebAdmin"}, nil), []string{"WebAdmin", "simple"}; !slices.Equal(got, want) {
			t.Errorf("Expand = %q, want %q (declaration order, reserved spelling)", got, want)
		}
	})
	t.Run("NoneReferencedWithoutDeclaration", func(t *testing.T) {
		r, err := access.ParseRoles([]byte(`{"permissions": {"allowed": [{"applyTo": "ds", "type": "datastore", "drop": ["NONE"]}]}}`))
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.Compile(nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Allowed(p.Set([]string{"none", "WebAdmin"}), access.ActionDrop, "Employee", "") {
			t.Error("drop allowed under none")
		}
		if !p.Allowed(access.PrivilegeSet{}, access.ActionRead, "Employee", "") {
			t.Error("read refused though only drop is restricted")
		}
	})
}

func TestParseRolesByteOrderMark(t *testing.T) {
	r, err := access.ParseRoles(append([]byte("\xef\xbb\xbf"), readRoles(t, "default.json")...))
	if err != nil {
		t.Fatal(err)
	}
	if !r.ForceLogin() {
		t.Error("ForceLogin() = false")
	}
	_, err = access.ParseRoles([]byte("\xef\xbb\xbf{\"forceLogin\": 1}"))
	if want := "roles.json: line 1: forceLogin must be true or false"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestPrivilegeSetBeyond64Privileges(t *testing.T) {
	// 100 privileges, p1 ... p100, each including the one before: the set
	// spans two words and includes run deep.
	var b strings.Builder
	b.WriteString(`{"privileges": [{"privilege": "p1"}`)
	for i := 2; i <= 100; i++ {
		fmt.Fprintf(&b, `, {"privilege": "p%d", "includes": ["p%d"]}`, i, i-1)
	}
	b.WriteString(`], "roles": [{"role": "top", "privileges": ["p100", "WebAdmin"]}], "permissions": {"allowed": [
		{"applyTo": "ds", "type": "datastore", "read": ["p90"], "update": ["p3"]},
		{"applyTo": "Employee.salary", "type": "attribute", "read": ["p99"]}]}}`)
	r, err := access.ParseRoles([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	m := rolesModel(t)
	p, err := r.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	p95, p10 := p.Set([]string{"p95"}), p.Set([]string{"p10"})
	top := p.Set(r.Expand(nil, []string{"top"}))
	if got := len(p.Names(p95)); got != 95 {
		t.Errorf("p95 holds %d privileges, want 95", got)
	}
	for _, tt := range []struct {
		name string
		got  bool
		want bool
	}{
		{"HighPrivilegeReads", p.Allowed(p95, access.ActionRead, "Employee", ""), true},
		{"LowPrivilegeCannotRead", p.Allowed(p10, access.ActionRead, "Employee", ""), false},
		{"UpdateNeedsReadAcrossWords", p.Allowed(p10, access.ActionUpdate, "Employee", ""), false},
		{"AttributeInHighWord", p.Allowed(p95, access.ActionRead, "Employee", "salary"), false},
		{"TopReadsAttribute", p.Allowed(top, access.ActionRead, "Employee", "salary"), true},
		{"TopIsAdmin", p.Has(top, fourd.PrivilegeWebAdmin), true},
		{"P95NotAdmin", p.Has(p95, fourd.PrivilegeWebAdmin), false},
		{"HasAcrossWords", p.Has(top, "P70"), true},
	} {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if got := attrNames(p.Readable(p95, m.DataClass("Employee"))); slices.Contains(got, "salary") {
		t.Errorf("Readable(p95) = %q, want salary left out", got)
	}
}

func TestParseRolesBroken(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"syntax.json", `roles.json: line 4, column 5: invalid character '{' after array element`},
		{"trailing-comma.json", `roles.json: line 4, column 1: invalid character '}' looking for beginning of object key string`},
		{"truncated.json", `roles.json: line 2, column 18: unexpected end of JSON input`},
		{"empty-file.json", `roles.json: line 1, column 1: unexpected end of JSON input`},
		{"not-object.json", `roles.json: line 1: the file must hold a JSON object`},
		{"unknown-type.json", `roles.json: line 12: permission 3: unknown type "table" (datastore, dataclass, attribute, method, singleton, singletonMethod)`},
		{"attribute-no-dot.json", `roles.json: line 8: permission 2: attribute "salary" must be written Dataclass.attribute`},
		{"dataclass-dot.json", `roles.json: line 5: permission 1: dataclass "Employee.salary" has a dot: use type "attribute" or "method"`},
		{"datastore-not-ds.json", `roles.json: line 6: permission 1: a datastore permission applies to "ds", not "Employee"`},
		{"method-no-dot.json", `roles.json: line 5: permission 1: method "raise" must be written Dataclass.function or ds.function`},
		{"unknown-include.json", `roles.json: line 6: privilege 2: includes: unknown privilege "smple"`},
		{"unknown-role-privilege.json", `roles.json: line 6: role 2: unknown privilege "chief"`},
		{"unknown-permission-privilege.json", `roles.json: line 10: permission 1: update: unknown privilege "editor"`},
		{"role-in-permission.json", `roles.json: line 8: permission 2: read: "clerk" is a role, not a privilege`},
		{"cycle.json", `roles.json: line 5: privileges include each other in a cycle: a -> b -> c -> a`},
		{"self-include.json", `roles.json: line 4: privileges include each other in a cycle: loop -> loop`},
		{"duplicate-privilege.json", `roles.json: line 5: privilege 3: "Simple" is already declared at line 3`},
		{"duplicate-role.json", `roles.json: line 5: role 2: "clerk" is already declared at line 4`},
		{"role-named-like-privilege.json", `roles.json: line 7: role 1: "manager" is already the name of a privilege (line 4)`},
		{"role-named-webadmin.json", `roles.json: line 3: role 1: "webAdmin" is a reserved privilege name`},
		{"webadmin-includes.json", `roles.json: line 4: privilege 2: "WebAdmin" is reserved and cannot include other privileges`},
		{"none-includes.json", `roles.json: line 4: privilege 2: "None" is reserved (held by nobody) and cannot include other privileges`},
		{"none-included.json", `roles.json: line 4: privilege 2: includes: "none" is held by nobody and cannot be given`},
		{"none-in-role.json", `roles.json: line 3: role 1: "none" is held by nobody and cannot be given`},
		{"unknown-key.json", `roles.json: line 3: unknown key "permission" (privileges, roles, permissions, forceLogin, restrictedByDefault)`},
		{"unknown-privilege-key.json", `roles.json: line 3: privilege 1: unknown key "include" (privilege, includes)`},
		{"unknown-permission-key.json", `roles.json: line 9: permission 1: unknown key "denied" (applyTo, type, read, create, update, drop, execute, promote)`},
		{"unknown-permissions-key.json", `roles.json: line 4: permissions: unknown key "denied" (allowed)`},
		{"includes-not-array.json", `roles.json: line 5: privilege 2: includes must be an array of names`},
		{"includes-number.json", `roles.json: line 5: privilege 2: includes must be an array of names`},
		{"duplicate-permission.json", `roles.json: line 7: permission 3: Employee (dataclass) already has permission 1 at line 5`},
		{"missing-type.json", `roles.json: line 5: permission 1: missing "type"`},
		{"missing-name.json", `roles.json: line 4: privilege 2: missing "privilege"`},
		{"empty-name.json", `roles.json: line 3: role 1: role must be a non-empty string`},
		{"forcelogin-string.json", `roles.json: line 3: forceLogin must be true or false`},
		{"duplicate-key.json", `roles.json: line 5: duplicate key "roles"`},
		{"privileges-object.json", `roles.json: line 2: privileges must be an array`},
		{"privilege-not-object.json", `roles.json: line 4: privilege 2 must be an object`},
		{"huge-number.json", `roles.json: line 3: forceLogin must be true or false`},
	}
	files, err := os.ReadDir(filepath.Join("testdata", "roles", "broken"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(tests) {
		t.Errorf("testdata/roles/broken has %d files, the table %d", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			r, err := access.ParseRoles(readRoles(t, filepath.Join("broken", tt.file)))
			if err == nil {
				t.Fatalf("ParseRoles = %v, nil; want error %s", r, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseRoles error:\n got %s\nwant %s", err, tt.want)
			}
			var re *access.RolesError
			if !errors.As(err, &re) || re.Line < 1 {
				t.Errorf("error %T is not a *RolesError with a line", err)
			}
		})
	}
}

func TestRolesValidate(t *testing.T) {
	m := rolesModel(t)
	for _, file := range []string{"shop.json", "default.json", "default21.json", "empty.json", "restricted.json"} {
		t.Run("OK/"+file, func(t *testing.T) {
			r, err := access.ParseRoles(readRoles(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Validate(m); err != nil {
				t.Errorf("Validate = %v", err)
			}
		})
	}
	tests := []struct {
		file string
		want string
	}{
		{"unknown-dataclass.json", `roles.json: line 7: permission 3: unknown dataclass "employee" (did you mean "Employee"?)`},
		{"unknown-attribute.json", `roles.json: line 7: permission 2: Employee has no attribute "wage"`},
		{"unknown-method-owner.json", `roles.json: line 6: permission 2: unknown dataclass "Staff"`},
		{"unknown-attribute-owner.json", `roles.json: line 5: permission 1: unknown dataclass "Staff"`},
	}
	for _, tt := range tests {
		t.Run("Err/"+strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			r, err := access.ParseRoles(readRoles(t, filepath.Join("model", tt.file)))
			if err != nil {
				t.Fatalf("ParseRoles: %v", err)
			}
			if err := r.Validate(m); err == nil || err.Error() != tt.want {
				t.Errorf("Validate error:\n got %v\nwant %s", err, tt.want)
			}
			if _, err := r.Compile(m); err == nil || err.Error() != tt.want {
				t.Errorf("Compile error:\n got %v\nwant %s", err, tt.want)
			}
			if _, err := r.Compile(nil); err != nil {
				t.Errorf("Compile without a model: %v", err)
			}
		})
	}
}

func TestRolesMarshalRoundTrip(t *testing.T) {
	for _, file := range []string{"shop.json", "default.json", "default21.json", "empty.json", "restricted.json"} {
		t.Run(file, func(t *testing.T) {
			r, err := access.ParseRoles(readRoles(t, file))
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			again, err := access.ParseRoles(out)
			if err != nil {
				t.Fatalf("reparse %s: %v", out, err)
			}
			out2, _ := again.MarshalJSON()
			if !bytes.Equal(out, out2) {
				t.Errorf("round trip changed the file:\n%s\n%s", out, out2)
			}
			if got, want := again.Expand(again.PrivilegeNames(), again.RoleNames()), r.Expand(r.PrivilegeNames(), r.RoleNames()); !slices.Equal(got, want) {
				t.Errorf("round trip changed privileges: %q, want %q", got, want)
			}
		})
	}
}

func FuzzParseRoles(f *testing.F) {
	for _, dir := range []string{"", "broken", "model"} {
		files, err := os.ReadDir(filepath.Join("testdata", "roles", dir))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range files {
			if !e.IsDir() {
				f.Add(readRoles(f, filepath.Join(dir, e.Name())))
			}
		}
	}
	f.Add([]byte(`{"privileges":[{"privilege":"a","includes":["b"]},{"privilege":"b"}],"roles":[{"role":"R","privileges":["A"]}]}`))
	f.Add([]byte(`{"permissions":{"allowed":[{"applyTo":"ds.authentify","type":"method","execute":["none"]}]}}`))
	m := rolesModel(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := access.ParseRoles(data)
		if err != nil {
			var re *access.RolesError
			if !errors.As(err, &re) || re.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		p, err := r.Compile(nil)
		if err != nil {
			t.Fatalf("a parsed file does not compile: %v", err)
		}
		if err := r.Validate(m); err == nil {
			if _, err := r.Compile(m); err != nil {
				t.Fatalf("validated but does not compile: %v", err)
			}
		}
		all := p.Set(r.Expand(r.PrivilegeNames(), r.RoleNames()))
		_ = p.Allowed(all, access.ActionUpdate, "Employee", "salary")
		_ = p.Readable(all, m.DataClass("Employee"))
		out, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		again, err := access.ParseRoles(out)
		if err != nil {
			t.Fatalf("a parsed file does not re-parse once written: %v\n%s", err, out)
		}
		if out2, _ := again.MarshalJSON(); !bytes.Equal(out, out2) {
			t.Fatalf("written twice differently:\n%s\n%s", out, out2)
		}
	})
}
