package access_test

import (
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/access"
)

// Issue 4 sets the target of a permission check on a request at 1 µs or
// less. Run with:
//
//	go test -run '^$' -bench 'Allowed|Readable|CanExecute|PolicySet|ParseRoles|RequestCheck' -benchmem ./access

var (
	sinkBool  bool
	sinkAttrs []*fourd.Attribute
	sinkSet   access.PrivilegeSet
)

func BenchmarkAllowed(b *testing.B) {
	r, p, _ := mustPolicy(b, "shop.json")
	s := shopSessions(r, p)
	for _, bm := range []struct {
		name     string
		session  string
		action   access.Action
		dc, attr string
	}{
		{"DatastoreGrant", "simple", access.ActionRead, "Invoice", ""},
		{"DataclassOverride", "hr", access.ActionRead, "Company", ""},
		{"UpdateNeedsRead", "medium", access.ActionUpdate, "Employee", ""},
		{"Attribute", "boss", access.ActionUpdate, "Employee", "salary"},
		{"Refused", "guest", access.ActionRead, "Employee", ""},
	} {
		b.Run(bm.name, func(b *testing.B) {
			set := s[bm.session]
			for b.Loop() {
				sinkBool = p.Allowed(set, bm.action, bm.dc, bm.attr)
			}
		})
	}
}

func BenchmarkReadable(b *testing.B) {
	r, p, m := mustPolicy(b, "shop.json")
	s := shopSessions(r, p)
	for _, bm := range []struct {
		name    string
		session string
		dc      string
	}{
		{"AllReadable", "simple", "Product"},     // no attribute grant: the model's slice
		{"OneLeftOut", "supervisor", "Employee"}, // salary held, secret ("none") left out: a copy
		{"TwoLeftOut", "simple", "Employee"},     // salary and secret left out: a copy
	} {
		b.Run(bm.name, func(b *testing.B) {
			set, dc := s[bm.session], m.DataClass(bm.dc)
			for b.Loop() {
				sinkAttrs = p.Readable(set, dc)
			}
		})
	}
}

func BenchmarkCanExecute(b *testing.B) {
	r, p, _ := mustPolicy(b, "shop.json")
	s := shopSessions(r, p)
	b.Run("Method", func(b *testing.B) {
		for b.Loop() {
			sinkBool = p.CanExecute(s["hr"], "Employee", "raise")
		}
	})
	b.Run("DataclassFallback", func(b *testing.B) {
		for b.Loop() {
			sinkBool = p.CanExecute(s["manager"], "Company", "topTen")
		}
	})
}

// BenchmarkRequestCheck is what a GET /rest/Employee costs in checks: may
// the session read the dataclass, and which attributes may it see.
func BenchmarkRequestCheck(b *testing.B) {
	r, p, m := mustPolicy(b, "shop.json")
	set, dc := shopSessions(r, p)["simple"], m.DataClass("Employee")
	for b.Loop() {
		if p.Allowed(set, access.ActionRead, dc.Name, "") {
			sinkAttrs = p.Readable(set, dc)
		}
	}
}

// BenchmarkPolicySet is the per-login cost: expand the session's
// privileges and roles, then build its set.
func BenchmarkPolicySet(b *testing.B) {
	r, p, _ := mustPolicy(b, "shop.json")
	for b.Loop() {
		sinkSet = p.Set(r.Expand([]string{"boss"}, []string{"Supervisor"}))
	}
}

func BenchmarkParseRoles(b *testing.B) {
	data := readRoles(b, "shop.json")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := access.ParseRoles(data); err != nil {
			b.Fatal(err)
		}
	}
}
