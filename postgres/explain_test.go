package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/storetest"
)

func TestQueryPlanAndPath(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t, storetest.DatastoreModel(t))
	storetest.LoadFixture(t, db)
	sel := fourd.Selection{DataClass: db.Model().DataClass("Employee"), Filter: storetest.Query(t, "salary > 50000 AND employer.name = acme")}
	plan, engine, err := db.QueryPlan(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Description != "AND" || len(plan.Steps) != 2 || plan.Steps[0].Description != "Employee.salary > 50000" ||
		!strings.HasPrefix(plan.Steps[1].Description, "Join on Table : Company") {
		t.Errorf("plan %+v", plan)
	}
	var all []string
	var walk func(s []fourd.QueryStep)
	walk = func(s []fourd.QueryStep) {
		for _, x := range s {
			all = append(all, x.Description)
			walk(x.Steps)
		}
	}
	walk(engine)
	if !strings.Contains(strings.Join(all, "\n"), "on Employee t0") {
		t.Errorf("the engine's plan does not read Employee: %q", all)
	}
	path, err := db.QueryPath(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	if path.Found != 1 || len(path.Steps) != 2 || path.Steps[0].Found != 4 || path.Steps[1].Found != 2 ||
		len(path.Steps[1].Steps) != 1 || path.Steps[1].Steps[0].Found != 1 {
		t.Errorf("path %+v", path)
	}
	t.Run("ErrBadFilter", func(t *testing.T) {
		_, _, err := db.QueryPlan(ctx, fourd.Selection{DataClass: db.Model().DataClass("Employee"), Filter: storetest.Query(t, "nope = 1")})
		storetest.WantError(t, err, fourd.EINVALID, fourd.ErrCodeUnknownAttribute)
	})
}
