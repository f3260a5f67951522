// Package layout is what fourd's SQL datastores (sqlite, postgres) record
// of the tables they made from a model, and the rules by which they
// migrate them: every column ever added is remembered with the type it
// was created with, nothing is dropped, and a column keeps its data only
// for an attribute that stores the same kind of value.
package layout

import (
	"fmt"

	"github.com/fourd/fourd"
)

// Schema is what a datastore remembers of the tables it made (kept as
// JSON in its own metadata table): every column ever added, attributes
// removed from the model included, with the type it was created with.
type Schema struct {
	Tables map[string]*Table `json:"tables"`
}

// Table is a dataclass's table in a Schema.
type Table struct {
	PrimaryKey string             `json:"primaryKey"`
	Columns    map[string]*Column `json:"columns"`
}

// Column is an attribute's column in a Table.
type Column struct {
	Kind    fourd.AttributeKind `json:"kind"`
	Type    fourd.AttributeType `json:"type"`              // the stored type (a relation: its key's)
	Related string              `json:"related,omitempty"` // a relation's target
}

// NewSchema returns an empty Schema.
func NewSchema() *Schema { return &Schema{Tables: map[string]*Table{}} }

// CanHold reports whether a column stored as c can hold an attribute that
// wants want: the same kind, target and type, long and long64 being one
// (both are 64-bit integers in fourd's SQL datastores).
func (c *Column) CanHold(want *Column) bool {
	integer := func(t fourd.AttributeType) bool { return t == fourd.AttrLong || t == fourd.AttrLong64 }
	return c.Kind == want.Kind && c.Related == want.Related &&
		(c.Type == want.Type || integer(c.Type) && integer(want.Type))
}

// String describes the column's type for messages.
func (c *Column) String() string {
	if c.Kind == fourd.KindRelatedEntity {
		return "relatedEntity to " + c.Related
	}
	return string(c.Type)
}

// ErrTypeChanged is the error of a migration that finds attribute attr of
// dataclass dc stored as have where the model now wants want.
func ErrTypeChanged(dc, attr string, have, want *Column) error {
	return fmt.Errorf("%s.%s: the type changed from %s to %s; fourd does not convert stored data: give the attribute a new name, or convert the data yourself", dc, attr, have, want)
}

// Migration reports what opening a datastore changed in its schema, and
// what it left in place because the model no longer names it. fourd never
// drops data: a dataclass or attribute removed from the model keeps its
// table or column, and comes back with its data if the model names it
// again with the same type.
type Migration struct {
	Created        bool     // the database was new
	AddedClasses   []string // dataclasses whose table was created
	AddedAttrs     []string // "Class.attribute" whose column was added
	KeptClasses    []string // tables of dataclasses the model no longer has
	KeptAttrs      []string // columns of attributes the model no longer has
	DroppedIndexes []string // indexes of attributes no longer indexed
}
