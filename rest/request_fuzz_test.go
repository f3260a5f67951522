package rest

import (
	"net/url"
	"strings"
	"testing"

	"github.com/fourd/fourd"
)

const fuzzModel = `{"dataClasses": [
  {"name": "Company", "primaryKey": "ID", "attributes": [
    {"name": "ID", "type": "long"}, {"name": "name", "type": "string"},
    {"name": "staff", "kind": "relatedEntities", "relatedDataClass": "Employee", "path": "employer"}]},
  {"name": "Employee", "primaryKey": "ID", "attributes": [
    {"name": "ID", "type": "long"}, {"name": "lastName", "type": "string"}, {"name": "extra", "type": "object"},
    {"name": "employer", "kind": "relatedEntity", "relatedDataClass": "Company"}]}
]}`

// FuzzDataRequest feeds paths and query strings to the parsers of data
// requests: whatever they are given, they answer a request or a client
// error (never a panic, never an internal error).
func FuzzDataRequest(f *testing.F) {
	m, err := fourd.ParseModel([]byte(fuzzModel))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][2]string{
		{"Employee", "$filter=lastName%3Dx&$top=1"},
		{"Employee(1)/employer", "$attributes=employer.staff.ID"},
		{"Company:name(Acme)/staff", "$orderby=lastName%20desc&$skip=2"},
		{"Employee/lastName,ID/$entityset/ABC", "$method=entityset&$timeout=10"},
		{"Employee/$entityset/ABC", "$logicOperator=OR&$otherCollection=DEF"},
		{"Employee", "$filter=ID%3D%3A1&$params=%5B1%5D"},
		{"Employee/ID", "$compute=sum&$distinct=true"},
		{"Company(\"x\")", "$attributes=*,staff.*"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, rawQuery string) {
		if strings.HasPrefix(path, "$") {
			return // the $-resources are not data requests
		}
		req, err := parseDataPath(m, path)
		if err != nil {
			clientError(t, err)
			return
		}
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return // refused by withCleanRequest before any parser runs
		}
		if _, err := readDataParams(q, m, req.dc); err != nil {
			clientError(t, err)
		}
	})
}

func clientError(t *testing.T, err error) {
	t.Helper()
	switch fourd.ErrorCode(err) {
	case fourd.EINVALID, fourd.ENOTFOUND, fourd.EUNAUTHORIZED:
	default:
		t.Fatalf("not a client error: %v", err)
	}
}
