package query

import (
	"strconv"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/filter"
)

// Selection is a fourd.Selection checked against the model: what a
// datastore compiles.
type Selection struct {
	DataClass *fourd.DataClass
	// Where is the condition; nil selects every entity.
	Where Node
	// OrderBy is the selection's OrderBy, or else its filter's own "order
	// by"; empty for the datastore's own order (ascending RowID). A backend
	// ends every sort with the RowID, so that equal keys keep a stable
	// order and pages do not overlap.
	OrderBy []Order
	// InRows is fourd.Selection.InRows, unchanged.
	InRows []fourd.RowID
}

// Node is one condition of a checked tree: a *Compare, a *Join, a *Logical
// or a *Not. No other type implements it.
type Node interface {
	// String describes the condition in 4D's words, as $queryplan shows
	// it: "Employee.salary > 20000", "Join on Table : Company :
	// Employee.employer = Company.ID", "AND", "NOT".
	String() string
	node()
}

// Logical joins two conditions with filter.And, filter.Or or
// filter.Except. Except holds where Left holds and Right does not, nulls
// included: Right is a set complement, as for Not.
type Logical struct {
	Op          filter.LogicalOp
	Left, Right Node
}

// Not is the set complement of X: every entity X does not select, those
// for which X would compare with null included (SQL's "(X) IS NOT TRUE",
// not SQL's NOT).
type Not struct {
	X Node
}

// Join is a condition on related entities: Cond holds on To, the
// dataclass that Relation (an attribute of From) leads to.
//
// An entity of From and an entity of To are related when the value of
// FromKey (on From) equals the value of ToKey (on To):
//
//   - N->1 (Relation is a relatedEntity attribute, ToMany false): FromKey
//     is Relation itself, the foreign key, and ToKey is To's primary key.
//   - 1->N (Relation is a relatedEntities attribute, ToMany true): FromKey
//     is From's primary key, ToKey the relatedEntity attribute of To named
//     by Relation.Path (the foreign key, pointing back to From). An entity
//     of To whose ToKey is null is related to nothing.
//
// The join holds for an entity of From when some related entity satisfies
// Cond (None false), or when none does (None true, only through a 1->N
// relation: # and !== on a collection mean "no element equals"). With
// OrEmpty it also holds when the entity has no related entity at all (its
// foreign key is null, N->1; no entity of To points to it, 1->N): that is
// how "= null" reads through a relation.
type Join struct {
	From     *fourd.DataClass
	Relation *fourd.Attribute
	To       *fourd.DataClass
	FromKey  *fourd.Attribute
	ToKey    *fourd.Attribute
	ToMany   bool
	None     bool
	OrEmpty  bool
	// Cond is the condition on To. With None it is the positive
	// condition ("staff.name # x" has Cond "name = x").
	Cond Node
	// Step is the condition as the filter wrote it, on To: what $queryplan
	// and $querypath show (and count) under the join. It is Cond, except
	// with None, where it keeps the written operator.
	Step Node
}

// Compare is one comparison of a Field with constants. Op says which of
// Value, Pattern and List hold them.
//
// Text comparisons (Field.Text) ignore case for every operator, ===
// included, as 4D compares text; backends compare the other types
// exactly.
type Compare struct {
	Field Field
	Op    Op
	// Value is the constant of Eq, Ne, Lt, Le, Gt and Ge, converted to the
	// field's type (see Field.Type), and the word of Keyword (a string).
	Value any
	// Pattern is the pattern of Like and NotLike.
	Pattern Pattern
	// List holds the values of In.
	List List

	written filter.Op     // the operator as written (positive in a None join's Cond), for String
	value   *filter.Value // the constant as written, for String
}

// Op is the operator of a Compare: 4D's operators, normalised.
type Op uint8

// The operators of a Compare.
const (
	// Eq: equal (=, ==, === and IS without @ wildcards).
	Eq Op = iota + 1
	// Ne: not equal (#, !=, !== and IS NOT without wildcards). It never
	// holds for a null value, as SQL's <> does not.
	Ne
	// Lt, Le, Gt and Ge: <, <=, > and >=. Null values never match.
	Lt
	Le
	Gt
	Ge
	// IsNull: the value is null (= null, === null, IS null).
	IsNull
	// NotNull: the value is not null (# null, != null, !== null).
	NotNull
	// Like: the text matches Pattern (= with @ wildcards, begin). Only
	// for text fields.
	Like
	// NotLike: the text does not match Pattern (# with @ wildcards); never
	// holds for a null value.
	NotLike
	// Keyword: the text contains Value (a string) as a whole word,
	// ignoring case (4D's %). Words are runs of letters, digits and
	// apostrophes; anything else separates them, so a Value of several
	// words matches nothing. Only for text fields.
	Keyword
	// In: the value is one of List.
	In
)

var opNames = [...]string{Eq: "=", Ne: "!=", Lt: "<", Le: "<=", Gt: ">", Ge: ">=",
	IsNull: "IS NULL", NotNull: "IS NOT NULL", Like: "LIKE", NotLike: "NOT LIKE", Keyword: "%", In: "IN"}

// String returns the operator's name: "=", "!=", "<", "LIKE", "IN", ...
func (op Op) String() string {
	if int(op) < len(opNames) && opNames[op] != "" {
		return opNames[op]
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// Pattern is a text pattern: literal pieces, with any run of characters
// (possibly none) between two consecutive pieces. There are at least two
// pieces; only the first and the last can be empty. 'A@' is ["A", ""],
// '@mit@' is ["", "mit", ""], and begin 'Jo' is ["Jo", ""].
type Pattern []string

// Prefix returns the literal text every match begins with (possibly
// empty): what an index range can serve.
func (p Pattern) Prefix() string {
	if len(p) == 0 {
		return ""
	}
	return p[0]
}

// Match returns the pattern's shape: filter.MatchPrefix, MatchSuffix,
// MatchContains, MatchAny or MatchPattern.
func (p Pattern) Match() filter.Match {
	return filter.Value{Kind: filter.KindString, Wildcard: true, Pattern: p}.Match()
}

// List is the right side of In: the comparison holds when the value
// equals one of Values, matches one of Patterns, or (with Null) is null.
// An empty List matches nothing.
type List struct {
	Values   []any // converted as Compare.Value is
	Patterns []Pattern
	Null     bool
}

// Field is what a comparison, a sort key, $compute or $distinct reads on
// an entity of DataClass: a storage attribute, a relatedEntity attribute
// (its foreign key: the related entity's primary key), or a property of
// an object attribute.
type Field struct {
	DataClass *fourd.DataClass
	// Attribute is a storage or relatedEntity attribute of DataClass.
	Attribute *fourd.Attribute
	// Property is the property path inside an object attribute
	// (info.address.city: ["address", "city"]); nil otherwise. Names are
	// letters, digits, _ and $, as the filter grammar reads them.
	Property filter.Path
	// Type is the type of the field's values, which constants are
	// converted to: the attribute's type; for a relatedEntity attribute,
	// the type of the related primary key; "" for an object property,
	// whose values have their JSON type.
	//
	// Constants are Go values: string (string and uuid; a UUID that parses
	// is 32 uppercase hexadecimal characters), int64 (long and long64, or
	// float64 for a constant with a fraction), float64 (number), bool,
	// time.Time (date, midnight UTC). For an object property, the
	// constant's own type: int64, float64, bool, time.Time for a date, or
	// string.
	Type fourd.AttributeType
	// Path is the field's path as written, from DataClass: [salary],
	// [employer ID] (a foreign key compared with the related key),
	// [info address city] (an object property).
	Path filter.Path
}

// Name names the field in messages: "Employee.salary",
// "Employee.info.address.city".
func (f Field) Name() string { return f.DataClass.Name + "." + f.Path.String() }

// Text reports whether the field holds text (string, uuid, or an object
// property): the fields that Like and Keyword apply to, compared without
// case.
func (f Field) Text() bool {
	return f.Type == fourd.AttrString || f.Type == fourd.AttrUUID || f.Type == ""
}

// Order is one checked sort key: Field, reached from the selection's
// dataclass through the N->1 relations Through (each a relatedEntity
// attribute of the dataclass the previous one leads to). Through is
// empty for a field of the selection's own dataclass. An entity whose
// relation is empty sorts as if the field were null. Nulls sort before
// every other value in ascending order, after them in descending order.
type Order struct {
	Through []*fourd.Attribute
	Field   Field
	Desc    bool
}

func (*Compare) node() {}
func (*Join) node()    {}
func (*Logical) node() {}
func (*Not) node()     {}

// String returns the comparison as written, its path relative to its
// dataclass, after the dataclass's name: "Employee.lastName = 'Smith'",
// "Company.name = 'Acme@'" under a join.
func (c *Compare) String() string {
	if c.value == nil {
		return c.Field.Name() + " " + c.Op.String()
	}
	return c.Field.DataClass.Name + "." + (&filter.Comparison{Path: c.Field.Path, Op: c.written, Value: *c.value}).String()
}

// String returns 4D's description of the join: "Join on Table : Company :
// Employee.employer = Company.ID".
func (j *Join) String() string {
	return "Join on Table : " + j.To.Name + " : " + j.From.Name + "." + j.FromKey.Name + " = " + j.To.Name + "." + j.ToKey.Name
}

// String returns "AND", "OR" or "EXCEPT".
func (l *Logical) String() string { return l.Op.String() }

// String returns "NOT".
func (*Not) String() string { return "NOT" }
