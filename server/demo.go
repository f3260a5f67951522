package server

import (
	"context"
	"encoding/json"
	"math"

	"github.com/fourd/fourd"
	"github.com/fourd/fourd/rest"
)

// registerDemoFunctions registers the demo's class function, when the
// model has what it needs (the demo model, or one like it):
//
//	POST /rest/Employee({key})/raise  with  [percent]
//
// raises the employee's salary by percent (-50 to 100) and answers the
// entity as saved. The save checks the stamp read when the call started:
// if the employee changed since, nothing is saved and the client gets 409
// with 4D's stamp errors; if another session locks the employee, 409 with
// "Already locked".
func registerDemoFunctions(fns *rest.Functions, m *fourd.Model) {
	dc := m.DataClass("Employee")
	if dc == nil || dc.Attribute("salary") == nil || dc.Attribute("raise") != nil ||
		fns.Lookup(rest.KindEntity, "Employee", "raise") != nil {
		return
	}
	fns.Entity("Employee", "raise", raise)
}

// raise is Employee.raise(percent), an entity function.
func raise(ctx context.Context, call *rest.Call) (any, error) {
	var percent float64
	if err := call.Arg(0, &percent); err != nil {
		return nil, err
	}
	if percent < -50 || percent > 100 || math.IsNaN(percent) {
		return nil, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadParameter, "raise: percent must be between -50 and 100, not %v", percent)
	}
	e := call.Entity
	salary, err := number(e.Get("salary"))
	if err != nil {
		return nil, err
	}
	e.Set("salary", math.Round(salary*(100+percent))/100)
	if err := call.Save(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// number reads a numeric attribute value as the datastore gives it.
func number(v any) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case json.Number:
		return x.Float64()
	}
	return 0, fourd.Errorf(fourd.EINVALID, fourd.ErrCodeBadValue, "salary is not a number")
}
