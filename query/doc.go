// Package query checks a parsed $filter and $orderby (package filter)
// against the model (fourd.Model) and returns a typed, validated tree: what
// a datastore compiles to its own query language. Every rule of 4D's
// query semantics that does not depend on the database lives here, once,
// so that backends (sqlite, postgres) only write SQL.
//
//	sel, err := query.Check(model, fourd.Selection{DataClass: emp, Filter: q})
//	// sel.Where is a tree of *Compare, *Join, *Logical and *Not;
//	// sel.OrderBy the sort keys.
//
// Check (and CheckFilter, CheckOrderBy, CheckField) return *fourd.Error
// values, EINVALID with ErrCodeUnknownAttribute or ErrCodeBadFilter, whose
// messages are what REST clients see. A tree that checked compiles:
// nothing in it can be refused by a backend for its meaning (a backend may
// still refuse what exceeds its own limits, such as SQLite's longest LIKE
// pattern).
//
// # What the tree has resolved
//
//   - Names: every Field names its dataclass and attribute (a storage
//     attribute, a relatedEntity attribute compared by its foreign key, or
//     a property path inside an object attribute) and the type of its
//     values (Field.Type).
//   - Relations: a path through a relation is a *Join with both keys
//     (Join.FromKey, Join.ToKey), N->1 or 1->N (Join.ToMany), and its
//     quantifier: some related entity matches, none does (Join.None: # and
//     !== through a 1->N relation), or also no related entity at all
//     (Join.OrEmpty: "= null" through a relation). employer.ID = 3, where
//     ID is the related primary key, is no join: it compares the foreign
//     key. Sort keys through N->1 relations list them in Order.Through.
//   - Constants: converted to the field's type (Field.Type says to which
//     Go type): a string compared with a number attribute is a number, a
//     number or date compared with a text attribute is the text it was
//     written as, UUIDs are upper case without dashes, dates are
//     time.Time at midnight UTC, booleans are bool. A constant that does
//     not convert is an error naming the attribute and the value.
//   - Operators, normalised (Op): = and === are Eq, # and !== are Ne
//     (4D's strict forms differ only in reading @ as a character); an @
//     wildcard, and begin, make a Like (NotLike for #) with the Pattern's
//     literal pieces (Pattern.Prefix, Pattern.Match); = null is IsNull,
//     # null is NotNull; IN is In with its plain values, patterns and null
//     apart (List); % is Keyword.
//
// # What a backend must do
//
//   - Compare text without case, for every operator and in sorts (SQLite:
//     COLLATE NOCASE; PostgreSQL: lower() or a case-insensitive
//     collation). Ne, NotLike and the ordering operators never match a
//     null value; Not and Logical's Except are set complements, which do
//     include the entities whose value is null.
//   - Sort with nulls first in ascending order and last in descending
//     order, and end every sort with the RowID (Selection.OrderBy).
//   - Store and compare dates as dates (or as YYYY-MM-DD text, which sorts
//     as dates), booleans as it stores them, and object properties by
//     their JSON type.
//
// # Query plans
//
// Plan describes a checked condition as $queryplan and $querypath show it,
// in 4D's words; WalkPlan pairs each of its steps with the node and the
// dataclass it describes, so that a backend only counts and times them.
//
// # Saved values
//
// Convert turns a value a client saves (decoded from JSON) into the Go
// value of its attribute's type, with the messages clients see for one
// that does not fit; a backend then stores that value in its own form.
// ParseDate and NormalizeUUID read the forms of dates and UUIDs 4D's
// clients send.
package query
