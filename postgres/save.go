package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/query"
	"github.com/jackc/pgx/v5"
)

// errRollback makes write roll an atomic Save back after the results are
// recorded.
var errRollback = errors.New("rollback")

// Save creates or updates entities of dc; see fourd.Datastore.
//
// Everything happens in one PostgreSQL transaction, which also adds the
// number of entities saved to the global stamp, so that other nodes see
// the entities and the stamp change together.
//
// A creation takes the primary key from Values (or from Key) when given,
// and otherwise generates it: for a long key, one more than the largest
// key the dataclass ever had (its row in "__fourd_keys", locked until the
// commit, orders concurrent creations on every node); fourd.NewID for a
// uuid key; a string key must be given. An update locks the entity's row
// (SELECT ... FOR UPDATE) and changes only the attributes in Values, and
// only if the entity's stamp is still Stamp: a concurrent update of the
// same entity, on this node or another, waits for the first to commit and
// then sees its stamp, so it fails with ECONFLICT (4D's errors 1263, then
// 1046 and 1517, in Error.Also) and no update is lost. Every value is
// checked against its attribute's type (ErrCodeBadValue), and a
// relatedEntity value must be the key of an existing entity.
//
// With atomic, if one save fails none is kept, and the results of the
// others describe what would have been saved (4D echoes them the same
// way). Without it, each save is kept or not on its own. A transaction
// that PostgreSQL ends for a deadlock between nodes is run again, up to
// three times.
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
	err = db.writeRetry(ctx, func(tx pgx.Tx) error {
		clear(results)
		failed, saved := false, int64(0)
		for i, s := range saves {
			if err := ctx.Err(); err != nil {
				return err
			}
			// saveOne checks everything before its one write statement, and
			// that statement cannot fail for a reason of the entity's (a
			// duplicate key is ON CONFLICT DO NOTHING): an entity it refuses
			// has written nothing and left the transaction usable.
			e, err := db.saveOne(ctx, tx, t, s)
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
		return bumpStamp(ctx, tx, saved)
	})
	if err != nil && !errors.Is(err, errRollback) {
		if pgCode(err) == codeSequenceLimit {
			return nil, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeNewEntityNotSaved, "%s is full: its row numbers are exhausted", t.dc.Name)
		}
		return nil, fmt.Errorf("save %s: %w", t.dc.Name, err)
	}
	return results, nil
}

// writeRetry is write, run again (up to three times in all) when
// PostgreSQL ends the transaction to break a deadlock with another
// transaction (entities updated in different orders by two nodes): fn
// must start from scratch on each call.
func (db *DB) writeRetry(ctx context.Context, fn func(tx pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.write(ctx, fn)
		if c := pgCode(err); attempt < 3 && (c == codeDeadlockDetected || c == codeSerialization) {
			continue
		}
		return err
	}
}

// bumpStamp adds n to the global stamp, in the shard of the transaction's
// backend (its process ID modulo stampShards: connections working at once,
// on any node, mostly write different rows). It is the transaction's last
// statement, so that the shard's row stays locked only for the commit.
func bumpStamp(ctx context.Context, tx pgx.Tx, n int64) error {
	if n == 0 {
		return nil
	}
	tag, err := tx.Exec(ctx, `UPDATE "__fourd_stamp" SET "value" = "value" + $1 WHERE "shard" = pg_backend_pid() % $2`, n, stampShards)
	if err == nil && tag.RowsAffected() != 1 {
		err = fmt.Errorf("global stamp: %d shard rows updated, want 1", tag.RowsAffected())
	}
	return err
}

func badValue(t *table, format string, args ...any) *fourd.Error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadValue, "%s.%s", t.dc.Name, fmt.Sprintf(format, args...))
}

// saveOne creates or updates one entity in tx and returns it as saved.
// Errors meant for the client are *fourd.Error; others are the database's.
func (db *DB) saveOne(ctx context.Context, tx pgx.Tx, t *table, s fourd.EntitySave) (*fourd.Entity, error) {
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
func (db *DB) valueOf(ctx context.Context, tx pgx.Tx, t *table, c *column, v any) (any, error) {
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
		err := tx.QueryRow(ctx, "SELECT t0."+c.related.key.name+" FROM "+c.related.name+" AS t0 WHERE "+c.related.keyWhere("t0", 1), k).Scan(&stored)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
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
	i, err := query.Convert(fourd.AttrLong, v)
	if err != nil {
		return "", false
	}
	return keyText(i), true
}

// nextKey allocates the next generated key of t's long key: its counter
// row, which stays locked until the commit, so that concurrent creations
// on every node get distinct keys in commit order, and a key is never
// given twice (a deleted entity's key included).
func nextKey(ctx context.Context, tx pgx.Tx, t *table) (int64, error) {
	var k int64
	err := tx.QueryRow(ctx, `UPDATE "__fourd_keys" SET "last" = "last" + 1 WHERE "dataclass" = $1 RETURNING "last"`, t.dc.Name).Scan(&k)
	return k, err
}

// usedKey records that a given long key k is taken, so that generated
// keys come after it.
func usedKey(ctx context.Context, tx pgx.Tx, t *table, k int64) error {
	_, err := tx.Exec(ctx, `UPDATE "__fourd_keys" SET "last" = $2 WHERE "dataclass" = $1 AND "last" < $2`, t.dc.Name, k)
	return err
}

// create inserts a new entity.
func (db *DB) create(ctx context.Context, tx pgx.Tx, t *table, s fourd.EntitySave, key any, cols []*column, vals []any, now int64) (*fourd.Entity, error) {
	if key == nil && s.Key != "" {
		k, ok := keyArg(t.key.typ, s.Key)
		if !ok {
			return nil, badValue(t, "%s: %q cannot be a %s key", t.key.attr.Name, truncate(s.Key, 64), t.key.typ)
		}
		key = k
	}
	integer := t.key.typ == fourd.AttrLong || t.key.typ == fourd.AttrLong64
	switch {
	case key == nil && t.key.typ == fourd.AttrUUID:
		key = fourd.NewID()
	case key == nil && t.key.typ == fourd.AttrString:
		return nil, badValue(t, "%s: a string primary key must be given", t.key.attr.Name)
	case key != nil && integer:
		k := key.(int64)
		if k < 1 || k > maxKey {
			return nil, badValue(t, "%s: %d is out of the range of keys (1 to %d)", t.key.attr.Name, k, int64(maxKey))
		}
		if err := usedKey(ctx, tx, t, k); err != nil {
			return nil, err
		}
	case key == nil && integer:
		k, err := nextKey(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		if k > maxKey {
			return nil, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeNewEntityNotSaved, "%s is full: its keys are exhausted", t.dc.Name)
		}
		key = k
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " AS t0 (" + colStamp + ", " + colTimestamp + ", " + t.key.name)
	args := []any{int64(1), now, key}
	casts := []string{"bigint", "bigint", paramType(t.key.typ)}
	for i, c := range cols {
		b.WriteString(", " + c.name)
		args = append(args, vals[i])
		casts = append(casts, paramType(c.typ))
	}
	b.WriteString(") VALUES (")
	for i, cast := range casts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+1) + "::" + cast)
	}
	b.WriteString(") ON CONFLICT DO NOTHING RETURNING " + t.selectList("t0", t.cols))
	e, err := entityQuery(ctx, tx, t, t.cols, b.String(), args...)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, badValue(t, "%s: an entity with key %s exists already", t.key.attr.Name, keyText(key))
	}
	return e, nil
}

// update changes an existing entity if its stamp is still s.Stamp.
func (db *DB) update(ctx context.Context, tx pgx.Tx, t *table, s fourd.EntitySave, key any, cols []*column, vals []any, now int64) (*fourd.Entity, error) {
	k, ok := keyArg(t.key.typ, s.Key)
	if !ok {
		return nil, notFound(t, s.Key)
	}
	cur, err := entityQuery(ctx, tx, t, t.cols, "SELECT "+t.selectList("t0", t.cols)+" FROM "+t.name+" AS t0 WHERE "+t.keyWhere("t0", 1)+" FOR UPDATE", k)
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
	b.WriteString("UPDATE " + t.name + " AS t0 SET " + colStamp + " = t0." + colStamp + " + 1, " + colTimestamp + " = $1::bigint")
	args := []any{now}
	for i, c := range cols {
		args = append(args, vals[i])
		b.WriteString(", " + c.name + " = $" + strconv.Itoa(len(args)) + "::" + paramType(c.typ))
	}
	args = append(args, int64(cur.Row))
	b.WriteString(" WHERE t0." + colRow + " = $" + strconv.Itoa(len(args)) + " RETURNING " + t.selectList("t0", t.cols))
	e, err := entityQuery(ctx, tx, t, t.cols, b.String(), args...)
	if err != nil {
		return nil, err
	}
	if e == nil { // the row is locked: only a bug gets here
		return nil, fmt.Errorf("%s row %d vanished while locked", t.dc.Name, cur.Row)
	}
	return e, nil
}

// stampConflict is 4D's error for a stamp that changed: 1263, then the
// more general 1046 and 1517, with 4D's messages. 4D counts records from
// 0, which is the row number minus one.
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
// stamp, in the same transaction.
func (db *DB) Delete(ctx context.Context, dc *fourd.DataClass, rows []fourd.RowID) (int, error) {
	t, err := db.table(dc)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	var n int64
	err = db.writeRetry(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM "+t.name+" WHERE "+colRow+" = ANY ($1::bigint[])", rowArray(rows))
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		return bumpStamp(ctx, tx, n)
	})
	if err != nil {
		return 0, fmt.Errorf("delete from %s: %w", t.dc.Name, err)
	}
	return int(n), nil
}
