package layout

import (
	"encoding/json"
	"testing"

	"github.com/fourd/fourd"
)

func TestColumnCanHold(t *testing.T) {
	long := &Column{Kind: fourd.KindStorage, Type: fourd.AttrLong}
	for _, tc := range []struct {
		name string
		want *Column
		ok   bool
	}{
		{"OKSameType", &Column{Kind: fourd.KindStorage, Type: fourd.AttrLong}, true},
		{"OKLongToLong64", &Column{Kind: fourd.KindStorage, Type: fourd.AttrLong64}, true},
		{"ErrOtherType", &Column{Kind: fourd.KindStorage, Type: fourd.AttrString}, false},
		{"ErrOtherKind", &Column{Kind: fourd.KindRelatedEntity, Type: fourd.AttrLong, Related: "Company"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := long.CanHold(tc.want); got != tc.ok {
				t.Errorf("long can hold %s: %v, want %v", tc.want, got, tc.ok)
			}
		})
	}
}

// TestSchemaJSON pins the stored form: databases made before hold it.
func TestSchemaJSON(t *testing.T) {
	s := NewSchema()
	s.Tables["Employee"] = &Table{PrimaryKey: "ID", Columns: map[string]*Column{
		"employer": {Kind: fourd.KindRelatedEntity, Type: fourd.AttrLong, Related: "Company"},
	}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"tables":{"Employee":{"primaryKey":"ID","columns":{"employer":{"kind":"relatedEntity","type":"long","related":"Company"}}}}}`
	if string(b) != want {
		t.Errorf("stored schema %s, want %s", b, want)
	}
}
