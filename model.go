package fourd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// AttributeKind is 4D's attribute kind.
type AttributeKind string

// Attribute kinds. fourd stores "storage" attributes in columns, and
// derives the two relation kinds from a foreign key.
const (
	KindStorage         AttributeKind = "storage"
	KindRelatedEntity   AttributeKind = "relatedEntity"   // N->1: holds the key of one entity of RelatedDataClass
	KindRelatedEntities AttributeKind = "relatedEntities" // 1->N: the entities of RelatedDataClass whose Path attribute points here
)

// AttributeType is the type of a storage attribute, with 4D's names.
type AttributeType string

// Storage attribute types and the Go values that carry them in an Entity.
const (
	AttrString AttributeType = "string" // string
	AttrLong   AttributeType = "long"   // int64 (4D's long is 32-bit; fourd stores 64 bits)
	AttrLong64 AttributeType = "long64" // int64
	AttrNumber AttributeType = "number" // float64
	AttrBool   AttributeType = "bool"   // bool
	AttrDate   AttributeType = "date"   // time.Time, UTC midnight
	AttrUUID   AttributeType = "uuid"   // string, 32 uppercase hex characters
	AttrObject AttributeType = "object" // map[string]any, as decoded from JSON
)

// Attribute is one attribute of a dataclass.
type Attribute struct {
	Name string        `json:"name"`
	Kind AttributeKind `json:"kind,omitempty"` // storage when empty in the model file
	Type AttributeType `json:"type,omitempty"` // storage attributes only
	// Indexed asks for an index on a storage attribute (and is set for
	// relatedEntity foreign keys, which are always indexed).
	Indexed bool `json:"indexed,omitempty"`
	// RelatedDataClass is the target of a relation attribute.
	RelatedDataClass string `json:"relatedDataClass,omitempty"`
	// Path is, for a relatedEntities attribute, the name of the
	// relatedEntity attribute of RelatedDataClass that points back here
	// (Company.staff has Path "employer": Employee.employer).
	Path string `json:"path,omitempty"`

	pos int // 1-based position in its dataclass (4D's fieldPos)
}

// Storage reports whether the attribute is stored in its own column.
func (a *Attribute) Storage() bool { return a.Kind == KindStorage }

// Position returns the attribute's 1-based position in its dataclass.
func (a *Attribute) Position() int { return a.pos }

// DataClass is one class of entities (a table).
type DataClass struct {
	Name       string       `json:"name"`
	PrimaryKey string       `json:"primaryKey"` // a storage attribute of type long, long64, uuid or string
	Attributes []*Attribute `json:"attributes"`

	number int // 1-based position in the model (4D's tableNumber)
	byName map[string]*Attribute
}

// Attribute returns the attribute with that name (case-sensitive, as 4D's
// attribute names are), or nil.
func (dc *DataClass) Attribute(name string) *Attribute { return dc.byName[name] }

// Key returns the primary key attribute.
func (dc *DataClass) Key() *Attribute { return dc.byName[dc.PrimaryKey] }

// Number returns the dataclass's 1-based position in the model.
func (dc *DataClass) Number() int { return dc.number }

// Model is the data model of a datastore: its dataclasses.
//
// The model file (model.json in the data directory) is this structure in
// JSON; see docs/model.md.
type Model struct {
	DataClasses []*DataClass `json:"dataClasses"`

	byName map[string]*DataClass
}

// DataClass returns the dataclass with that name (case-sensitive), or nil.
func (m *Model) DataClass(name string) *DataClass { return m.byName[name] }

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// ParseModel reads and validates a model file. Errors name the line of
// the JSON syntax error, or the dataclass and attribute at fault.
func ParseModel(data []byte) (*Model, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Model
	if err := dec.Decode(&m); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("model: line %d: %v", lineOf(data, se.Offset), err)
		case errors.As(err, &te):
			return nil, fmt.Errorf("model: line %d: %s must be %s", lineOf(data, te.Offset), te.Field, te.Type)
		}
		return nil, fmt.Errorf("model: %w", err)
	}
	if err := m.Init(); err != nil {
		return nil, err
	}
	return &m, nil
}

func lineOf(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// Init validates a model built in Go (ParseModel calls it) and indexes
// its names: identifiers, unique names, a valid primary key, relations
// whose targets exist and whose paths point back.
func (m *Model) Init() error {
	if len(m.DataClasses) == 0 {
		return errors.New("model: no dataclass")
	}
	m.byName = make(map[string]*DataClass, len(m.DataClasses))
	for i, dc := range m.DataClasses {
		if !identifier.MatchString(dc.Name) {
			return fmt.Errorf("model: dataclass name %q: use letters, digits and _, starting with a letter", dc.Name)
		}
		if m.byName[dc.Name] != nil {
			return fmt.Errorf("model: dataclass %s is declared twice", dc.Name)
		}
		m.byName[dc.Name] = dc
		dc.number = i + 1
		dc.byName = make(map[string]*Attribute, len(dc.Attributes))
		for j, a := range dc.Attributes {
			if !identifier.MatchString(a.Name) {
				return fmt.Errorf("model: %s: attribute name %q: use letters, digits and _, starting with a letter", dc.Name, a.Name)
			}
			if dc.byName[a.Name] != nil {
				return fmt.Errorf("model: %s.%s is declared twice", dc.Name, a.Name)
			}
			if a.Kind == "" {
				a.Kind = KindStorage
			}
			a.pos = j + 1
			dc.byName[a.Name] = a
		}
	}
	for _, dc := range m.DataClasses {
		if err := m.checkDataClass(dc); err != nil {
			return err
		}
	}
	return nil
}

func (m *Model) checkDataClass(dc *DataClass) error {
	key := dc.Key()
	switch {
	case dc.PrimaryKey == "":
		return fmt.Errorf("model: %s: no primaryKey", dc.Name)
	case key == nil:
		return fmt.Errorf("model: %s: primaryKey %q is not one of its attributes", dc.Name, dc.PrimaryKey)
	case !key.Storage() || (key.Type != AttrLong && key.Type != AttrLong64 && key.Type != AttrUUID && key.Type != AttrString):
		return fmt.Errorf("model: %s: primaryKey %s must be a storage attribute of type long, long64, uuid or string", dc.Name, key.Name)
	}
	for _, a := range dc.Attributes {
		where := dc.Name + "." + a.Name
		switch a.Kind {
		case KindStorage:
			switch a.Type {
			case AttrString, AttrLong, AttrLong64, AttrNumber, AttrBool, AttrDate, AttrUUID, AttrObject:
			case "":
				return fmt.Errorf("model: %s: a storage attribute needs a type", where)
			default:
				return fmt.Errorf("model: %s: unknown type %q (string, long, long64, number, bool, date, uuid, object)", where, a.Type)
			}
			if a.Type == AttrObject && a.Indexed {
				return fmt.Errorf("model: %s: an object attribute cannot be indexed", where)
			}
			if a.RelatedDataClass != "" || a.Path != "" {
				return fmt.Errorf("model: %s: relatedDataClass and path are for relation attributes", where)
			}
		case KindRelatedEntity:
			target := m.DataClass(a.RelatedDataClass)
			if target == nil {
				return fmt.Errorf("model: %s: relatedDataClass %q is not a dataclass", where, a.RelatedDataClass)
			}
			if a.Type != "" || a.Path != "" {
				return fmt.Errorf("model: %s: a relatedEntity attribute has no type and no path", where)
			}
			a.Indexed = true
		case KindRelatedEntities:
			target := m.DataClass(a.RelatedDataClass)
			if target == nil {
				return fmt.Errorf("model: %s: relatedDataClass %q is not a dataclass", where, a.RelatedDataClass)
			}
			back := target.Attribute(a.Path)
			if back == nil || back.Kind != KindRelatedEntity || back.RelatedDataClass != dc.Name {
				return fmt.Errorf("model: %s: path %q must name a relatedEntity attribute of %s that points to %s", where, a.Path, target.Name, dc.Name)
			}
			if a.Type != "" || a.Indexed {
				return fmt.Errorf("model: %s: a relatedEntities attribute has no type and no index", where)
			}
		default:
			return fmt.Errorf("model: %s: unknown kind %q (storage, relatedEntity, relatedEntities)", where, a.Kind)
		}
	}
	return nil
}
