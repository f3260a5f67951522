package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/layout"
	"github.com/jackc/pgx/v5"
)

// schemaVersion is the storage layout this package writes: the tables
// below and what "__fourd" records. A database written by a later layout
// is refused rather than misread.
const schemaVersion = 1

// Hidden columns of every table. Attribute names cannot start with "__", so
// they never collide with an attribute.
const (
	colRow       = `"__row"`       // fourd.RowID: an identity, never reused, below 2^32
	colStamp     = `"__stamp"`     // REST's __STAMP: 1 at creation, +1 per save
	colTimestamp = `"__timestamp"` // REST's __TIMESTAMP: Unix milliseconds of the last save
)

// maxRow is the largest row number, the identity's MAXVALUE: entity sets
// hold rows as 32-bit numbers (fourd.RowID).
const maxRow = 1<<32 - 1

// stampShards is the number of rows of "__fourd_stamp" the global stamp is
// the sum of. A write adds to the row of its backend (see bumpStamp), so
// that writers on several nodes rarely wait for each other's commit on one
// row, while a snapshot still reads the exact sum.
const stampShards = 64

// migrationLock is the first key of the advisory lock that serialises
// migrations (the second is a hash of the schema name): "4D" in ASCII.
const migrationLock = 0x3444

// table is how one dataclass is stored.
type table struct {
	dc     *fourd.DataClass
	name   string // quoted table name
	key    *column
	cols   []*column
	byName map[string]*column
}

// column is how one storage or relatedEntity attribute is stored.
type column struct {
	attr    *fourd.Attribute
	name    string              // quoted column name
	typ     fourd.AttributeType // storage type; for a relatedEntity, the type of the related key
	related *table              // the target of a relatedEntity attribute
}

// quote returns name as an SQL identifier. Names come from the model,
// whose identifiers are letters, digits and "_" (fourd.Model.Init); the
// doubling of '"' is there so that this stays true of any input.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// newTables maps the model to tables, checking the names PostgreSQL would
// refuse or confuse.
func newTables(m *fourd.Model) (map[*fourd.DataClass]*table, error) {
	tables := make(map[*fourd.DataClass]*table, len(m.DataClasses))
	seen := map[string]string{}
	for _, dc := range m.DataClasses {
		lower := strings.ToLower(dc.Name)
		switch {
		case strings.HasPrefix(dc.Name, "__") || strings.HasPrefix(lower, "pg_"):
			return nil, fmt.Errorf("dataclass %s: names starting with \"__\" or \"pg_\" are reserved", dc.Name)
		case seen[lower] != "":
			return nil, fmt.Errorf("dataclasses %s and %s differ only in case, which fourd's tables cannot", seen[lower], dc.Name)
		}
		seen[lower] = dc.Name
		t := &table{dc: dc, name: quote(dc.Name), byName: map[string]*column{}}
		cols := map[string]string{}
		for _, a := range dc.Attributes {
			if a.Kind == fourd.KindRelatedEntities {
				continue
			}
			l := strings.ToLower(a.Name)
			switch {
			case strings.HasPrefix(a.Name, "__"):
				return nil, fmt.Errorf("%s.%s: attribute names starting with \"__\" are reserved", dc.Name, a.Name)
			case cols[l] != "":
				return nil, fmt.Errorf("%s: attributes %s and %s differ only in case, which fourd's columns cannot", dc.Name, cols[l], a.Name)
			}
			cols[l] = a.Name
			c := &column{attr: a, name: quote(a.Name), typ: a.Type}
			t.cols = append(t.cols, c)
			t.byName[a.Name] = c
		}
		t.key = t.byName[dc.PrimaryKey]
		if t.key == nil {
			return nil, fmt.Errorf("dataclass %s: no primary key", dc.Name)
		}
		tables[dc] = t
	}
	for _, t := range tables {
		for _, c := range t.cols {
			if c.attr.Kind == fourd.KindRelatedEntity {
				c.related = tables[m.DataClass(c.attr.RelatedDataClass)]
				c.typ = c.related.key.typ
			}
		}
	}
	return tables, nil
}

// table returns the table of dc, or an error if dc is not of this
// datastore's model.
func (db *DB) table(dc *fourd.DataClass) (*table, error) {
	if dc == nil {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownDataClass, "no dataclass given")
	}
	t := db.tables[dc]
	if t == nil {
		return nil, fourd.Errorf(fourd.ENOTFOUND, fourd.ErrCodeUnknownDataClass, "dataclass %s is not in this datastore's model", dc.Name)
	}
	return t, nil
}

// sqlType returns the column type of an attribute type. Text keeps the
// database's collation, which decides how lower() folds case (see
// textKey); UUIDs are stored as 32 uppercase hex characters and compared
// byte by byte.
func sqlType(typ fourd.AttributeType) string {
	switch typ {
	case fourd.AttrString:
		return "text"
	case fourd.AttrUUID:
		return `text COLLATE "C"`
	case fourd.AttrLong, fourd.AttrLong64:
		return "bigint"
	case fourd.AttrNumber:
		return "double precision"
	case fourd.AttrBool:
		return "boolean"
	case fourd.AttrDate:
		return "date"
	case fourd.AttrObject:
		return "jsonb"
	}
	return "text"
}

// textKey returns the expression text of column expression x compares
// and sorts by: lower(x) COLLATE "C", that is case folded by the
// database's character classification (Unicode with a C.UTF-8 or
// linguistic locale, ASCII with the C locale) and then ordered by code
// point, as SQLite's NOCASE orders. Every index on text is on this
// expression, so that =, begin, a prefix @ and a sort use it
// (docs/performance.md measures it against citext and ICU collations).
func textKey(x string) string { return "lower(" + x + `) COLLATE "C"` }

// keyExpr returns the expression a key is looked up by: its text key for
// a string key (keys are unique regardless of case, as in 4D), the column
// itself for the others.
func (t *table) keyExpr(alias string) string {
	x := t.key.name
	if alias != "" {
		x = alias + "." + x
	}
	if t.key.typ == fourd.AttrString {
		return textKey(x)
	}
	return x
}

// createTable returns the statements that create t and its key index.
func (t *table) createTable() []string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (%s bigint GENERATED ALWAYS AS IDENTITY (MAXVALUE %d) PRIMARY KEY", t.name, colRow, maxRow)
	for _, c := range t.cols {
		fmt.Fprintf(&b, ", %s %s", c.name, sqlType(c.typ))
		if c == t.key {
			b.WriteString(" NOT NULL")
		}
	}
	fmt.Fprintf(&b, ", %s bigint NOT NULL DEFAULT 1, %s bigint NOT NULL DEFAULT 0)", colStamp, colTimestamp)
	return []string{
		b.String(),
		fmt.Sprintf("CREATE UNIQUE INDEX %s ON %s ((%s))", indexName(t.dc.Name, t.key.attr.Name), t.name, t.keyExpr("")),
	}
}

// indexName returns the quoted name of the index of an attribute:
// "Class.attribute" (the dot cannot occur in a model name, so the name is
// unambiguous), or, past PostgreSQL's 63 bytes, its start and a hash.
func indexName(dc, attr string) string { return quote(indexKey(dc, attr)) }

func indexKey(dc, attr string) string {
	name := dc + "." + attr
	if len(name) <= 63 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return name[:46] + "~" + hex.EncodeToString(sum[:8])
}

// wantsIndex reports whether the model asks for an index on c:
// relatedEntity keys always, storage attributes when indexed (the primary
// key has its own).
func (t *table) wantsIndex(c *column) bool {
	return c != t.key && c.attr.Indexed && c.typ != fourd.AttrObject
}

// createIndex returns the CREATE INDEX statement of c (concurrently: not
// in a transaction, and without blocking writes). The row number follows
// the value, so that a sort by the attribute, ties broken by row, reads
// the index in order; nulls come first, as fourd sorts them.
func createIndex(t *table, c *column, concurrently bool) string {
	x := c.name
	switch {
	case c.attr.Kind == fourd.KindRelatedEntity:
	case c.typ == fourd.AttrString:
		x = "(" + textKey(c.name) + ") NULLS FIRST"
	default:
		x += " NULLS FIRST"
	}
	how := "INDEX"
	if concurrently {
		how = "INDEX CONCURRENTLY"
	}
	return fmt.Sprintf("CREATE %s %s ON %s (%s, %s)", how, indexName(t.dc.Name, c.attr.Name), t.name, x, colRow)
}

// IndexRef names an index the model asks for (fourd.IndexRef).
type IndexRef = fourd.IndexRef

// Migration reports what Open changed in the database, and what it left in
// place because the model no longer names it (layout.Migration).
type Migration = layout.Migration

// Migration returns what Open changed in the schema.
func (db *DB) Migration() Migration {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.migration
}

// MissingIndexes returns the indexes the model asks for that the database
// does not have (or has invalid, after a failed concurrent build): those
// of indexed attributes added to tables that already held data. Build
// them with BuildIndex, in an Indexing process.
func (db *DB) MissingIndexes() []IndexRef {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.missing)
}

// migrate creates or updates the schema in one transaction, under an
// advisory lock on the schema: nodes that start at once migrate one after
// the other, and a failure leaves the schema as it was.
func (db *DB) migrate(ctx context.Context) error {
	var rep Migration
	var missing []IndexRef
	err := db.write(ctx, func(tx pgx.Tx) error {
		rep, missing = Migration{}, nil
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", migrationLock); err != nil {
			return err
		}
		for _, q := range []string{
			`CREATE TABLE IF NOT EXISTS "__fourd" ("key" text PRIMARY KEY, "value" text NOT NULL)`,
			`CREATE TABLE IF NOT EXISTS "__fourd_stamp" ("shard" smallint PRIMARY KEY, "value" bigint NOT NULL)`,
			fmt.Sprintf(`INSERT INTO "__fourd_stamp" SELECT s, 0 FROM generate_series(0, %d) AS s ON CONFLICT DO NOTHING`, stampShards-1),
			`CREATE TABLE IF NOT EXISTS "__fourd_keys" ("dataclass" text PRIMARY KEY, "last" bigint NOT NULL)`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		stored, version, err := loadSchema(ctx, tx)
		if err != nil {
			return err
		}
		switch {
		case version > schemaVersion:
			return fmt.Errorf("the database has storage layout %d; this fourd reads up to %d", version, schemaVersion)
		case version == 0:
			rep.Created = true
		}
		existing, err := db.existingIndexes(ctx, tx)
		if err != nil {
			return err
		}
		for _, dc := range db.model.DataClasses {
			t := db.tables[dc]
			st := stored.Tables[dc.Name]
			if st == nil {
				if err := db.createTable(ctx, tx, t); err != nil {
					return err
				}
				st = &layout.Table{PrimaryKey: dc.PrimaryKey, Columns: map[string]*layout.Column{}}
				for _, c := range t.cols {
					st.Columns[c.attr.Name] = &layout.Column{Kind: c.attr.Kind, Type: c.typ, Related: c.attr.RelatedDataClass}
				}
				stored.Tables[dc.Name] = st
				rep.AddedClasses = append(rep.AddedClasses, dc.Name)
				continue
			}
			if st.PrimaryKey != dc.PrimaryKey {
				return fmt.Errorf("%s: the primary key changed from %s to %s; fourd cannot change a table's primary key", dc.Name, st.PrimaryKey, dc.PrimaryKey)
			}
			for _, c := range t.cols {
				want := &layout.Column{Kind: c.attr.Kind, Type: c.typ, Related: c.attr.RelatedDataClass}
				have := st.Columns[c.attr.Name]
				if have != nil {
					if !have.CanHold(want) {
						return layout.ErrTypeChanged(dc.Name, c.attr.Name, have, want)
					}
					*have = *want // long and long64 share their storage
					continue
				}
				if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", t.name, c.name, sqlType(c.typ))); err != nil {
					return fmt.Errorf("add %s.%s: %w", dc.Name, c.attr.Name, err)
				}
				st.Columns[c.attr.Name] = want
				rep.AddedAttrs = append(rep.AddedAttrs, dc.Name+"."+c.attr.Name)
			}
			for _, name := range sortedKeys(st.Columns) {
				if t.byName[name] == nil {
					rep.KeptAttrs = append(rep.KeptAttrs, dc.Name+"."+name)
				}
			}
			for _, c := range t.cols {
				if t.wantsIndex(c) && !existing[indexKey(dc.Name, c.attr.Name)] {
					missing = append(missing, IndexRef{DataClass: dc.Name, Attribute: c.attr.Name})
				}
			}
		}
		for _, name := range sortedKeys(stored.Tables) {
			dc := db.model.DataClass(name)
			if dc == nil {
				rep.KeptClasses = append(rep.KeptClasses, name)
				continue
			}
			// Drop the indexes the model no longer asks for: an index holds
			// no data of its own, and keeping it would slow every save.
			t := db.tables[dc]
			for col := range stored.Tables[name].Columns {
				c := t.byName[col]
				if _, ok := existing[indexKey(name, col)]; ok && c != t.key && (c == nil || !t.wantsIndex(c)) {
					if _, err := tx.Exec(ctx, "DROP INDEX "+indexName(name, col)); err != nil {
						return err
					}
					rep.DroppedIndexes = append(rep.DroppedIndexes, name+"."+col)
				}
			}
		}
		slices.Sort(rep.DroppedIndexes)
		return saveSchema(ctx, tx, stored, db.model)
	})
	if err != nil {
		return err
	}
	db.mu.Lock()
	db.migration, db.missing = rep, missing
	db.mu.Unlock()
	return nil
}

// createTable creates t with its indexes, which cost nothing on an empty
// table, and its key counter.
func (db *DB) createTable(ctx context.Context, tx pgx.Tx, t *table) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND lower(tablename) = lower($2))`, db.schema, t.dc.Name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("%s: the schema %s has a table of that name that fourd did not make", t.dc.Name, db.schema)
	}
	for _, q := range t.createTable() {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("create %s: %w", t.dc.Name, err)
		}
	}
	for _, c := range t.cols {
		if t.wantsIndex(c) {
			if _, err := tx.Exec(ctx, createIndex(t, c, false)); err != nil {
				return fmt.Errorf("index %s.%s: %w", t.dc.Name, c.attr.Name, err)
			}
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO "__fourd_keys" ("dataclass", "last") VALUES ($1, 0) ON CONFLICT DO NOTHING`, t.dc.Name)
	return err
}

// existingIndexes returns the names of the schema's indexes, each with
// whether it is valid (a CREATE INDEX CONCURRENTLY that failed leaves an
// invalid one behind, which BuildIndex replaces).
func (db *DB) existingIndexes(ctx context.Context, tx pgx.Tx) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname, i.indisvalid FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1`, db.schema)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	var name string
	var valid bool
	_, err = pgx.ForEachRow(rows, []any{&name, &valid}, func() error {
		out[name] = valid
		return nil
	})
	return out, err
}

// loadSchema reads what "__fourd" remembers; version 0 means a new schema.
func loadSchema(ctx context.Context, tx pgx.Tx) (*layout.Schema, int, error) {
	s := layout.NewSchema()
	var version, data string
	err := tx.QueryRow(ctx, `SELECT "value" FROM "__fourd" WHERE "key" = 'schemaVersion'`).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var v int
	if _, err := fmt.Sscan(version, &v); err != nil {
		return nil, 0, fmt.Errorf("read the stored schema version %q: %w", version, err)
	}
	if err := tx.QueryRow(ctx, `SELECT "value" FROM "__fourd" WHERE "key" = 'schema'`).Scan(&data); err != nil {
		return nil, 0, fmt.Errorf("read the stored schema: %w", err)
	}
	if err := json.Unmarshal([]byte(data), s); err != nil {
		return nil, 0, fmt.Errorf("read the stored schema: %w", err)
	}
	if s.Tables == nil {
		s.Tables = map[string]*layout.Table{}
	}
	return s, v, nil
}

// saveSchema records the schema and the model as last applied.
func saveSchema(ctx context.Context, tx pgx.Tx, s *layout.Schema, m *fourd.Model) error {
	schema, err := json.Marshal(s)
	if err != nil {
		return err
	}
	model, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO "__fourd" ("key", "value") VALUES
		('schemaVersion', $1), ('schema', $2), ('model', $3)
		ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"`,
		fmt.Sprint(schemaVersion), string(schema), string(model))
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// StoredModel returns the model (as model.json) the datastore at url was
// last opened with, or nil when its schema holds no fourd tables: a node
// without a model file of its own serves the model the others serve.
func StoredModel(ctx context.Context, url string) ([]byte, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('"__fourd"') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return nil, err
	}
	var model string
	err = conn.QueryRow(ctx, `SELECT "value" FROM "__fourd" WHERE "key" = 'model'`).Scan(&model)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []byte(model), nil
}
