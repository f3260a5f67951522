package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/internal/layout"
)

// schemaVersion is the version of fourd's storage layout (the __fourd
// table, the hidden columns, how each type is stored). A database written
// by a later layout is refused rather than misread.
const schemaVersion = 1

// Hidden columns of every table. Attribute names cannot start with "__", so
// they never collide with an attribute.
const (
	colRow       = `"__row"`       // the rowid when the primary key is not an integer
	colStamp     = `"__stamp"`     // REST's __STAMP: 1 at creation, +1 per save
	colTimestamp = `"__timestamp"` // REST's __TIMESTAMP: Unix milliseconds of the last save
)

// table is how one dataclass is stored.
type table struct {
	dc       *fourd.DataClass
	name     string // quoted table name
	key      *column
	rowCol   string // quoted name of the INTEGER PRIMARY KEY column: the rowid, fourd.RowID
	keyRowid bool   // the primary key is the rowid itself
	cols     []*column
	byName   map[string]*column
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

// newTables maps the model to tables, checking the names SQLite would
// refuse or confuse.
func newTables(m *fourd.Model) (map[*fourd.DataClass]*table, error) {
	tables := make(map[*fourd.DataClass]*table, len(m.DataClasses))
	seen := map[string]string{}
	for _, dc := range m.DataClasses {
		lower := strings.ToLower(dc.Name)
		switch {
		case strings.HasPrefix(dc.Name, "__") || strings.HasPrefix(lower, "sqlite_"):
			return nil, fmt.Errorf("dataclass %s: names starting with \"__\" or \"sqlite_\" are reserved", dc.Name)
		case seen[lower] != "":
			return nil, fmt.Errorf("dataclasses %s and %s differ only in case, which SQLite table names cannot", seen[lower], dc.Name)
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
				return nil, fmt.Errorf("%s: attributes %s and %s differ only in case, which SQLite column names cannot", dc.Name, cols[l], a.Name)
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
		t.keyRowid = t.key.typ == fourd.AttrLong || t.key.typ == fourd.AttrLong64
		t.rowCol = colRow
		if t.keyRowid {
			t.rowCol = t.key.name
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

// sqlType returns the column definition of a type. Strings and UUIDs are
// COLLATE NOCASE so that =, <, ORDER BY, DISTINCT, min/max and the indexes
// that serve them are case-insensitive, as 4D compares text.
func sqlType(typ fourd.AttributeType) string {
	switch typ {
	case fourd.AttrString, fourd.AttrUUID:
		return "TEXT COLLATE NOCASE"
	case fourd.AttrLong, fourd.AttrLong64, fourd.AttrBool:
		return "INTEGER"
	case fourd.AttrNumber:
		return "REAL"
	case fourd.AttrDate, fourd.AttrObject:
		return "TEXT"
	}
	return "ANY"
}

// createTable returns the CREATE TABLE statement of t. Tables are STRICT,
// so that a value of the wrong type is an error instead of being stored.
// AUTOINCREMENT keeps SQLite from reusing the rowid of a deleted row, which
// an entity set may still hold.
func (t *table) createTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (", t.name)
	if t.keyRowid {
		fmt.Fprintf(&b, "%s INTEGER PRIMARY KEY AUTOINCREMENT", t.key.name)
	} else {
		fmt.Fprintf(&b, "%s INTEGER PRIMARY KEY AUTOINCREMENT, %s %s NOT NULL UNIQUE", colRow, t.key.name, sqlType(t.key.typ))
	}
	for _, c := range t.cols {
		if c == t.key {
			continue
		}
		fmt.Fprintf(&b, ", %s %s", c.name, sqlType(c.typ))
	}
	fmt.Fprintf(&b, ", %s INTEGER NOT NULL DEFAULT 1, %s INTEGER NOT NULL DEFAULT 0) STRICT", colStamp, colTimestamp)
	return b.String()
}

// indexName returns the quoted name of the index of an attribute. The dot
// cannot occur in a model name, so the name is unambiguous.
func indexName(dc, attr string) string { return quote(dc + "." + attr) }

// wantsIndex reports whether the model asks for an index on c:
// relatedEntity keys always, storage attributes when indexed (the primary
// key has its own).
func (t *table) wantsIndex(c *column) bool {
	return c != t.key && c.attr.Indexed && c.typ != fourd.AttrObject
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
// does not have yet: those of indexed attributes added to tables that
// already held data. Build them with BuildIndex, in an Indexing process.
func (db *DB) MissingIndexes() []IndexRef {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.missing)
}

// migrate creates or updates the schema, in one write transaction: a
// failure leaves the database as it was.
func (db *DB) migrate(ctx context.Context) error {
	var rep Migration
	var missing []IndexRef
	err := db.write(ctx, func(tx *sql.Tx) error {
		rep, missing = Migration{}, nil
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS "__fourd" ("key" TEXT PRIMARY KEY, "value" ANY) STRICT`); err != nil {
			return err
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
		existing, err := existingIndexes(ctx, tx)
		if err != nil {
			return err
		}
		for _, dc := range db.model.DataClasses {
			t := db.tables[dc]
			st := stored.Tables[dc.Name]
			if st == nil {
				if err := createTable(ctx, tx, t); err != nil {
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
				if _, err := tx.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", t.name, c.name, sqlType(c.typ))); err != nil {
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
				if t.wantsIndex(c) && !existing[dc.Name+"."+c.attr.Name] {
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
				if existing[name+"."+col] && (c == nil || !t.wantsIndex(c)) {
					if _, err := tx.ExecContext(ctx, "DROP INDEX "+indexName(name, col)); err != nil {
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
// table.
func createTable(ctx context.Context, tx *sql.Tx, t *table) error {
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE`, t.dc.Name).Scan(&exists); err != nil {
		return err
	}
	if exists > 0 {
		return fmt.Errorf("%s: the database has a table of that name that fourd did not make", t.dc.Name)
	}
	if _, err := tx.ExecContext(ctx, t.createTable()); err != nil {
		return fmt.Errorf("create %s: %w", t.dc.Name, err)
	}
	for _, c := range t.cols {
		if t.wantsIndex(c) {
			if _, err := tx.ExecContext(ctx, createIndex(t, c)); err != nil {
				return fmt.Errorf("index %s.%s: %w", t.dc.Name, c.attr.Name, err)
			}
		}
	}
	return nil
}

func createIndex(t *table, c *column) string {
	return fmt.Sprintf("CREATE INDEX %s ON %s (%s)", indexName(t.dc.Name, c.attr.Name), t.name, c.name)
}

// existingIndexes returns the names ("Class.attribute") of fourd's indexes
// in the database.
func existingIndexes(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out[name] = true
	}
	return out, rows.Err()
}

// loadSchema reads what __fourd remembers; version 0 means a new database.
func loadSchema(ctx context.Context, tx *sql.Tx) (*layout.Schema, int, error) {
	s := layout.NewSchema()
	var version int
	err := tx.QueryRowContext(ctx, `SELECT "value" FROM "__fourd" WHERE "key" = 'schemaVersion'`).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return s, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var data string
	if err := tx.QueryRowContext(ctx, `SELECT "value" FROM "__fourd" WHERE "key" = 'schema'`).Scan(&data); err != nil {
		return nil, 0, fmt.Errorf("read the stored schema: %w", err)
	}
	if err := json.Unmarshal([]byte(data), s); err != nil {
		return nil, 0, fmt.Errorf("read the stored schema: %w", err)
	}
	if s.Tables == nil {
		s.Tables = map[string]*layout.Table{}
	}
	return s, version, nil
}

// saveSchema records the schema and the model as last applied. The global
// stamp starts at 0 and is kept.
func saveSchema(ctx context.Context, tx *sql.Tx, s *layout.Schema, m *fourd.Model) error {
	schema, err := json.Marshal(s)
	if err != nil {
		return err
	}
	model, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO "__fourd" ("key", "value") VALUES
		('schemaVersion', ?), ('schema', ?), ('model', ?), ('globalStamp', 0)
		ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value" WHERE "key" <> 'globalStamp'`,
		schemaVersion, string(schema), string(model))
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
