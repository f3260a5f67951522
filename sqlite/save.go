package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/query"
)

// errRollback makes write roll an atomic Save back after the results are
// recorded.
var errRollback = errors.New("rollback")

// Save creates or updates entities of dc; see fourd.Datastore.
//
// A creation takes the primary key from Values (or from Key) when given,
// and otherwise generates it: the next rowid for a long key, fourd.NewID for
// a uuid key; a string key must be given. An update changes only the
// attributes in Values, and only if the entity's stamp is still Stamp;
// otherwise its result holds the entity as it is and an ECONFLICT error
// with 4D's errors 1263, then 1046 and 1517 (Error.Also). Every value is
// checked against its attribute's type (ErrCodeBadValue), and a
// relatedEntity value must be the key of an existing entity.
//
// With atomic, all the saves run in one transaction: if one fails, none is
// kept, and the results of the others describe what would have been saved
// (4D echoes them the same way). Without it, each save is kept or not on
// its own (they still commit together, in one transaction). Either way the
// call may share its transaction with other callers' saves (group commit,
// group.go), each in a savepoint of its own: their outcomes never mix, and
// Save returns only once its changes are committed.
func (db *DB) Save(ctx context.Context, dc *fourd.DataClass, saves []fourd.EntitySave, atomic bool) ([]fourd.SaveResult, error) {
	return db.save(ctx, dc, saves, atomic, true)
}

// Validate runs saves as Save does and rolls everything back: see
// fourd.Validator.
func (db *DB) Validate(ctx context.Context, dc *fourd.DataClass, saves []fourd.EntitySave, atomic bool) ([]fourd.SaveResult, error) {
	return db.save(ctx, dc, saves, atomic, false)
}

// save is Save, which keeps what it saved, and Validate, which does not.
func (db *DB) save(ctx context.Context, dc *fourd.DataClass, saves []fourd.EntitySave, atomic, keep bool) ([]fourd.SaveResult, error) {
	t, err := db.table(dc)
	if err != nil {
		return nil, err
	}
	results := make([]fourd.SaveResult, len(saves))
	err = db.writeGroup(ctx, func(tx *sql.Tx) error {
		clear(results)
		failed, saved := false, int64(0)
		for i, s := range saves {
			if err := ctx.Err(); err != nil {
				return err
			}
			// saveOne checks everything before its one write statement, so an
			// entity it refuses has written nothing: no savepoint is needed
			// for the others to be kept.
			e, err := db.saveOne(ctx, wtx{db, tx}, t, s)
			if err != nil && fourd.ErrorCode(err) == fourd.EINTERNAL {
				return err // the database failed, not this entity
			}
			results[i] = fourd.SaveResult{Entity: e, Err: err}
			if err != nil {
				failed = true
			} else {
				saved++
			}
		}
		if atomic && failed || !keep {
			return errRollback
		}
		return bumpStamp(ctx, wtx{db, tx}, saved)
	})
	if err != nil && !errors.Is(err, errRollback) {
		return nil, fmt.Errorf("save %s: %w", t.dc.Name, err)
	}
	return results, nil
}

// execer is what a transaction and a wtx have in common for writing.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// bumpStamp adds n to the global stamp.
func bumpStamp(ctx context.Context, tx execer, n int64) error {
	if n == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE "__fourd" SET "value" = "value" + ? WHERE "key" = 'globalStamp'`, n)
	return err
}

func badValue(t *table, format string, args ...any) *fourd.Error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadValue, "%s.%s", t.dc.Name, fmt.Sprintf(format, args...))
}

// saveOne creates or updates one entity in tx and returns it as saved.
// Errors meant for the client are *fourd.Error; others are the database's.
func (db *DB) saveOne(ctx context.Context, tx wtx, t *table, s fourd.EntitySave) (*fourd.Entity, error) {
	var cols []*column
	var vals []any
	var key any
	for _, name := range sortedKeys(s.Values) {
		c := t.byName[name]
		if c == nil {
			if a := t.dc.Attribute(name); a != nil && a.Kind == fourd.KindRelatedEntities {
				return nil, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadValue, "%s.%s lists related entities: set the relation from the other side (%s.%s)", t.dc.Name, name, a.RelatedDataClass, a.Path)
			}
			return nil, unknownAttribute(t.dc, name)
		}
		v, err := db.valueOf(ctx, tx, t, c, s.Values[name])
		if err != nil {
			return nil, err
		}
		if c == t.key {
			key = v
			continue
		}
		cols = append(cols, c)
		vals = append(vals, v)
	}
	now := db.Now().UnixMilli()
	if s.Update {
		return db.update(ctx, tx, t, s, key, cols, vals, now)
	}
	return db.create(ctx, tx, t, s, key, cols, vals, now)
}

// valueOf converts a value given for column c, checking that a related key
// names an existing entity.
func (db *DB) valueOf(ctx context.Context, tx wtx, t *table, c *column, v any) (any, error) {
	if c.attr.Kind != fourd.KindRelatedEntity {
		x, err := toSQL(c.typ, v)
		if err != nil {
			return nil, badValue(t, "%s: %v", c.attr.Name, err)
		}
		return x, nil // a null key is no key: generated on creation, unchanged on update
	}
	text, ok := relatedKeyText(v)
	if !ok {
		return nil, badValue(t, "%s: expected the key of a %s, found %s", c.attr.Name, c.related.dc.Name, query.Describe(v))
	}
	if text == "" {
		return nil, nil
	}
	// The key as the related entity stores it: a string key given in
	// another case is stored as the related entity has it.
	var stored any
	k, ok := keyArg(c.typ, text)
	if ok {
		err := tx.QueryRowContext(ctx, "SELECT "+c.related.key.name+" FROM "+c.related.name+" WHERE "+c.related.key.name+" = ?", k).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			ok = false
		case err != nil:
			return nil, err
		}
	}
	if !ok {
		return nil, badValue(t, "%s: %s has no entity with key %q", c.attr.Name, c.related.dc.Name, truncate(text, 64))
	}
	return stored, nil
}

// relatedKeyText reads the value of a relatedEntity attribute: a key (text
// or number), an object with __KEY (an entity as REST sends it), or null
// (""), and reports whether it is one of those.
func relatedKeyText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, x != ""
	case map[string]any:
		if k, ok := x["__KEY"]; ok && k != nil {
			return relatedKeyText(k)
		}
		return "", false
	case bool, []any:
		return "", false
	}
	i, err := query.Convert(fourd.AttrLong64, v)
	if err != nil {
		return "", false
	}
	return keyText(i), true
}

// create inserts a new entity.
func (db *DB) create(ctx context.Context, tx wtx, t *table, s fourd.EntitySave, key any, cols []*column, vals []any, now int64) (*fourd.Entity, error) {
	if key == nil && s.Key != "" {
		k, ok := keyArg(t.key.typ, s.Key)
		if !ok {
			return nil, badValue(t, "%s: %q cannot be a %s key", t.key.attr.Name, truncate(s.Key, 64), t.key.typ)
		}
		key = k
	}
	switch {
	case key == nil && t.key.typ == fourd.AttrUUID:
		key = fourd.NewID()
	case key == nil && t.key.typ == fourd.AttrString:
		return nil, badValue(t, "%s: a string primary key must be given", t.key.attr.Name)
	case key != nil && t.keyRowid:
		if k := key.(int64); k < 1 || k > maxRowKey {
			return nil, badValue(t, "%s: %d is out of the range of keys (1 to %d)", t.key.attr.Name, k, int64(maxRowKey))
		}
	}
	if key != nil {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+t.name+" WHERE "+t.key.name+" = ?", key).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, badValue(t, "%s: an entity with key %s exists already", t.key.attr.Name, keyText(key))
		}
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " (" + colStamp + ", " + colTimestamp)
	args := []any{int64(1), now}
	if key != nil {
		b.WriteString(", " + t.key.name)
		args = append(args, key)
	}
	for _, c := range cols {
		b.WriteString(", " + c.name)
	}
	args = append(args, vals...)
	// The entity as saved comes back from the INSERT itself (RETURNING
	// gives the row's values after type affinity and defaults, as a SELECT
	// of it would), not from a second statement.
	b.WriteString(") VALUES (?" + strings.Repeat(", ?", len(args)-1) + ") RETURNING " + t.selectList(t.name, t.cols))
	rows, err := tx.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("insert into %s returned no row", t.dc.Name)
	}
	e, err := newScanner(t, t.cols, 0).scan(rows)
	if err != nil {
		return nil, err
	}
	if int64(e.Row) > maxRowKey {
		return nil, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeNewEntityNotSaved, "%s is full: its row numbers are exhausted", t.dc.Name)
	}
	return e, nil // SQLite made the whole change in the first step
}

// update changes an existing entity if its stamp is still s.Stamp.
func (db *DB) update(ctx context.Context, tx wtx, t *table, s fourd.EntitySave, key any, cols []*column, vals []any, now int64) (*fourd.Entity, error) {
	k, ok := keyArg(t.key.typ, s.Key)
	if !ok {
		return nil, notFound(t, s.Key)
	}
	cur, err := entityWhere(ctx, tx, t, t.cols, "t0."+t.key.name+" = ?", k)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, notFound(t, s.Key)
	}
	if cur.Stamp != s.Stamp {
		return cur, db.stampConflict(t, cur)
	}
	if key != nil && !strings.EqualFold(keyText(key), cur.Key) {
		return nil, badValue(t, "%s: the primary key cannot change (%s to %s)", t.key.attr.Name, cur.Key, keyText(key))
	}
	var b strings.Builder
	b.WriteString("UPDATE " + t.name + " SET " + colStamp + " = " + colStamp + " + 1, " + colTimestamp + " = ?")
	args := []any{now}
	for i, c := range cols {
		b.WriteString(", " + c.name + " = ?")
		args = append(args, vals[i])
	}
	b.WriteString(" WHERE " + t.rowCol + " = ? AND " + colStamp + " = ?")
	args = append(args, int64(cur.Row), cur.Stamp)
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return nil, err
	}
	return entityWhere(ctx, tx, t, t.cols, "t0."+t.rowCol+" = ?", int64(cur.Row))
}

// stampConflict is 4D's error for a stamp that changed: 1263, then the
// more general 1046 and 1517, with 4D's messages. 4D counts records from
// 0, which is the rowid minus one.
func (db *DB) stampConflict(t *table, cur *fourd.Entity) *fourd.Error {
	record := int64(cur.Row) - 1
	return &fourd.Error{
		Code: fourd.ECONFLICT, ErrCode: fourd.ErrCodeStampMismatch, Component: fourd.ComponentDB,
		Message: fmt.Sprintf("Given stamp does not match current one for record# %d of table %s", record, t.dc.Name),
		Also: []*fourd.Error{
			{Code: fourd.ECONFLICT, ErrCode: fourd.ErrCodeCannotSaveRecord, Component: fourd.ComponentDB,
				Message: fmt.Sprintf("Cannot save record %d in table %s of database %s", record, t.dc.Name, db.name)},
			{Code: fourd.ECONFLICT, ErrCode: fourd.ErrCodeEntityNotSaved, Component: fourd.ComponentDB,
				Message: fmt.Sprintf("The entity# %s in the %q dataclass cannot be saved", cur.Key, t.dc.Name)},
		},
	}
}

// Delete deletes the entities of dc with those row IDs and returns how many
// existed. Entities that point to a deleted one keep their relation value
// (4D's "leave related many intact"). Each deletion adds 1 to the global
// stamp.
func (db *DB) Delete(ctx context.Context, dc *fourd.DataClass, rows []fourd.RowID) (int, error) {
	t, err := db.table(dc)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	var n int64
	err = db.writeGroup(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM "+t.name+" WHERE "+t.rowCol+` IN (SELECT "value" FROM json_each(?))`, rowsJSON(rows))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		return bumpStamp(ctx, tx, n)
	})
	if err != nil {
		return 0, fmt.Errorf("delete from %s: %w", t.dc.Name, err)
	}
	return int(n), nil
}
