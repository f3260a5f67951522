package fourd

import (
	"context"
	"time"

	"github.com/fourd/fourd/filter"
)

// RowID identifies an entity's row inside its dataclass's storage. It is
// what entity sets hold: a dense, stable 32-bit number (SQLite's rowid),
// never the primary key, so that a set of a million entities is a
// compressed bitmap or a packed array of a few megabytes.
type RowID = uint32

// Entity is one entity read from a datastore.
type Entity struct {
	Key       string    // primary key in text form: REST's __KEY
	Stamp     int64     // modification counter: REST's __STAMP
	Timestamp time.Time // last modification: REST's __TIMESTAMP
	Row       RowID
	// Values holds the attributes that were asked for, by name, with the
	// Go types of AttributeType; nil for a null value. A relatedEntity
	// attribute holds the related entity's key in text form, or nil.
	// relatedEntities attributes are never loaded here.
	Values map[string]any
}

// Selection describes entities to read: those of DataClass that match
// Filter (all when nil), in the order of OrderBy, or else of the filter's
// own "order by", or else ascending RowID. Filter must be bound: no
// placeholder left. DataClass must come from the datastore's Model().
//
// InRows, when not nil, restricts the selection to those rows (an entity
// set's, or a page of one): rows that no longer exist are left out, and an
// empty non-nil slice selects nothing. The order is still OrderBy's (or
// ascending RowID), not InRows'.
type Selection struct {
	DataClass *DataClass
	// Filter and OrderBy (or the filter's own "order by") together have
	// at most MaxOrderByTerms sort terms.
	Filter  *filter.Query
	OrderBy filter.OrderBy
	InRows  []RowID
}

// MaxOrderByTerms caps the terms of one sort ($orderby, a filter's "order
// by", $savedorderby): a datastore refuses more with EINVALID (errCode
// 9007). Each term costs the sort a comparison per pair of rows; no real
// client sorts by more.
const MaxOrderByTerms = 32

// Aggregate is a $compute operation.
type Aggregate string

// The $compute operations.
const (
	AggregateCount   Aggregate = "count"
	AggregateSum     Aggregate = "sum"
	AggregateAverage Aggregate = "average"
	AggregateMin     Aggregate = "min"
	AggregateMax     Aggregate = "max"
	AggregateAll     Aggregate = "$all" // every one that applies to the type: a map
)

// EntitySave is one entity to create or update. With Key and Stamp it
// updates that entity if its stamp is still Stamp; without them it
// creates one (a long or uuid primary key is generated when not given).
// Values holds only the attributes to set; a relatedEntity attribute takes
// the related entity's key.
type EntitySave struct {
	Key    string
	Stamp  int64
	Update bool // Key and Stamp were given
	Values map[string]any
}

// Datastore reads and writes the entities of a model.
//
// Errors a client should see are *Error values: ENOTFOUND for an unknown
// key (errCode 1801 is not used; see docs/errors.md), EINVALID for a filter
// that does not fit the model (unknown attribute, value of the wrong type),
// and ECONFLICT for a stamp that changed. Implementations are safe for
// concurrent use; every method stops early with ctx's error when ctx is
// cancelled (a process that is aborted stops its query).
type Datastore interface {
	// Model returns the model the datastore serves.
	Model() *Model
	// Rows returns the row IDs of the selection, in order: what an entity
	// set stores.
	Rows(ctx context.Context, sel Selection) ([]RowID, error)
	// Page returns at most top entities of the selection after skipping
	// skip, and the selection's size. attrs names the attributes to load
	// (nil: every storage and relatedEntity attribute).
	Page(ctx context.Context, sel Selection, skip, top int, attrs []string) ([]*Entity, int, error)
	// Load returns the entities of dc with those row IDs, in that order;
	// an entry is nil for a row that no longer exists.
	Load(ctx context.Context, dc *DataClass, rows []RowID, attrs []string) ([]*Entity, error)
	// Entity returns the entity of dc with that primary key (text form),
	// or ENOTFOUND.
	Entity(ctx context.Context, dc *DataClass, key string, attrs []string) (*Entity, error)
	// Sort returns rows ordered by order (a set sorted again). Rows that no
	// longer exist are kept, last, in their given order, so that a set
	// keeps its size.
	Sort(ctx context.Context, dc *DataClass, rows []RowID, order filter.OrderBy) ([]RowID, error)
	// Save creates or updates entities. With atomic, either all are saved
	// or none: on a failure nothing is kept, and the results of the others
	// show what would have been saved, as 4D echoes them. The results say,
	// entity by entity, what was saved or why not; the error is for
	// failures of the whole call. A Key without Update is the new entity's
	// key.
	Save(ctx context.Context, dc *DataClass, saves []EntitySave, atomic bool) ([]SaveResult, error)
	// Delete deletes the entities of dc with those row IDs and returns how
	// many existed.
	Delete(ctx context.Context, dc *DataClass, rows []RowID) (int, error)
	// Compute aggregates attribute attr over the selection: a number or a
	// string for one operation, a map for AggregateAll.
	Compute(ctx context.Context, sel Selection, attr string, op Aggregate) (any, error)
	// Distinct returns the distinct values of attr over the selection,
	// sorted: at most limit of them, all when limit <= 0.
	Distinct(ctx context.Context, sel Selection, attr string, limit int) ([]any, error)
	// GlobalStamp returns the datastore's modification counter: REST's
	// __GlobalStamp.
	GlobalStamp(ctx context.Context) (int64, error)
}

// SaveResult is the outcome of one EntitySave: the entity as saved, or the
// error that kept it from being saved (with the entity as it is, if it
// exists).
type SaveResult struct {
	Entity *Entity
	Err    error
}

// IndexRef names an index the model asks for: the attribute Attribute of
// the dataclass DataClass.
type IndexRef struct {
	DataClass string
	Attribute string
}

// Indexer builds indexes, reporting through a progress indicator.
//
// A datastore opened on new, empty tables creates their indexes at once;
// on tables that hold data (an index the model gained since), it lists
// them in MissingIndexes and leaves them to BuildIndex, which the server
// runs in Indexing processes that can be watched and aborted. BuildIndex
// also rebuilds an index the model already has. It refuses an attribute
// the model does not mark indexed (EINVALID).
type Indexer interface {
	MissingIndexes() []IndexRef
	BuildIndex(ctx context.Context, dc *DataClass, attr string, progress *ProgressIndicator) error
}

// Validator checks saves without keeping them: 4D's $method=validate.
// Validate runs saves as Save would, atomic or not, in a transaction that
// is always rolled back, and returns the results Save would have
// returned: nothing is written and the global stamp does not move.
type Validator interface {
	Validate(ctx context.Context, dc *DataClass, saves []EntitySave, atomic bool) ([]SaveResult, error)
}

// QueryStep is one step of a query, as $queryplan and $querypath show it:
// a condition, a join through a relation (whose Steps hold the condition on
// the related dataclass), or AND, OR, EXCEPT, NOT over its Steps.
type QueryStep struct {
	Description string
	// Found and Time are what running this step alone found and took
	// (QueryPath only).
	Found int
	Time  time.Duration
	Steps []QueryStep
}

// QueryExplainer describes how a datastore runs the filter of a selection:
// 4D's $queryplan and $querypath.
type QueryExplainer interface {
	// QueryPlan returns the filter as the datastore reads it (a tree of
	// steps), and the database engine's own plan of the statement it runs
	// (for SQLite, the rows of EXPLAIN QUERY PLAN as a tree). Nothing is
	// run: Found and Time are zero.
	QueryPlan(ctx context.Context, sel Selection) (plan QueryStep, engine []QueryStep, err error)
	// QueryPath runs the filter step by step, each condition and each
	// combination of conditions on its own, and returns the tree with what
	// each step found and the time it took. The root found the
	// selection's entities.
	QueryPath(ctx context.Context, sel Selection) (QueryStep, error)
}

// Flusher writes what the datastore holds in memory to disk (for SQLite:
// a WAL checkpoint), reporting through a progress indicator.
type Flusher interface {
	Flush(ctx context.Context, progress *ProgressIndicator) error
}
