package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/fourd/fourd/rest"
	"github.com/fourd/fourd/server"
)

// A Go program embedding fourd registers class functions that 4D's REST
// clients call at 4D's URLs: here a dataclass function, an entity
// selection function, an entity function that saves, and a singleton
// function that may also be called with GET.
func Example_classFunctions() {
	dir, err := os.MkdirTemp("", "fourd-functions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	model := `{"dataClasses": [{"name": "City", "primaryKey": "ID", "attributes": [
		{"name": "ID", "type": "long"}, {"name": "name", "type": "string"}, {"name": "population", "type": "number"}]}]}`
	if err := os.WriteFile(filepath.Join(dir, server.ModelFile), []byte(model), 0o600); err != nil {
		log.Fatal(err)
	}

	srv := server.New()
	srv.Addr = "127.0.0.1:0"
	srv.DataDir = dir
	srv.Logger = slog.New(slog.DiscardHandler)

	// POST /rest/City/getCity with ["Aguada"]: an entity, written as
	// GET /rest/City(1) writes it.
	srv.Functions.DataClass("City", "getCity", func(ctx context.Context, call *rest.Call) (any, error) {
		var name string
		if err := call.Arg(0, &name); err != nil {
			return nil, err // a 400 for the client
		}
		sel, err := call.Query(ctx, "City", "name = :1", name)
		if err != nil {
			return nil, err
		}
		cities, err := call.Entities(ctx, sel)
		if err != nil || len(cities) == 0 {
			return nil, err
		}
		return cities[0], nil
	})
	// POST /rest/City/totalPopulation, …/totalPopulation/$entityset/{id}, or with $filter.
	srv.Functions.EntitySelection("City", "totalPopulation", func(ctx context.Context, call *rest.Call) (any, error) {
		cities, err := call.Entities(ctx, call.Selection)
		if err != nil {
			return nil, err
		}
		total := 0.0
		for _, c := range cities {
			total += c.Get("population").(float64)
		}
		return total, nil
	})
	// POST /rest/City(1)/grow with [10]: saved only if nobody changed the
	// city since it was read (else a 409 with 4D's stamp errors).
	srv.Functions.Entity("City", "grow", func(ctx context.Context, call *rest.Call) (any, error) {
		var percent float64
		if err := call.Arg(0, &percent); err != nil {
			return nil, err
		}
		city := call.Entity
		city.Set("population", city.Get("population").(float64)*(1+percent/100))
		if err := call.Save(ctx, city); err != nil {
			return nil, err
		}
		return city.Get("population"), nil
	})
	// GET /rest/$singleton/Greeter/hello?$params='["John"]' (or POST).
	srv.Functions.Singleton("Greeter", "hello", func(ctx context.Context, call *rest.Call) (any, error) {
		var name string
		if err := call.Arg(0, &name); err != nil {
			return nil, err
		}
		return fmt.Sprintf("Hello %s, from process %q", name, call.Process.Name()), nil
	}).OnHTTPGet()

	if err := srv.Open(); err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	call := func(method, path, body string) string {
		req, _ := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	call("POST", "/rest/City?$method=update", `[{"name": "Aguada", "population": 41959}, {"name": "Paris", "population": 2102650}]`)

	var city map[string]any
	json.Unmarshal([]byte(call("POST", "/rest/City/getCity", `["Aguada"]`)), &city)
	fmt.Println(city["__DATACLASS"], city["__KEY"], city["name"])
	fmt.Println(call("POST", "/rest/City/totalPopulation", ""))
	fmt.Println(call("POST", "/rest/City/totalPopulation?$filter="+url.QueryEscape("population < 100000"), ""))
	fmt.Println(call("POST", "/rest/City(1)/grow", "[10]"))
	fmt.Println(call("GET", "/rest/$singleton/Greeter/hello?$params="+url.QueryEscape(`'["John"]'`), ""))

	// Output:
	// City 1 Aguada
	// {"result":2144609}
	// {"result":41959}
	// {"result":46154.9}
	// {"result":"Hello John, from process \"Greeter.hello\""}
}
