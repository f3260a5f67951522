// Package demodata generates fourd's demo data (fourd serve --demo): the
// demo model and its companies and employees, the same on every run and
// for every datastore, so that tests and the side-by-side benchmarks of
// SQLite and PostgreSQL see the same entities.
package demodata

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/fourd/fourd"
)

// Model returns the demo model: Company (ID, name, city, country,
// revenues, staff) and Employee (ID, firstName, lastName, salary,
// birthDate, employer), with Company.name, Employee.lastName and
// Employee.salary indexed. docs/model.md shows it as model.json.
func Model() *fourd.Model {
	m := &fourd.Model{DataClasses: []*fourd.DataClass{
		{Name: "Company", PrimaryKey: "ID", Attributes: []*fourd.Attribute{
			{Name: "ID", Kind: fourd.KindStorage, Type: fourd.AttrLong},
			{Name: "name", Kind: fourd.KindStorage, Type: fourd.AttrString, Indexed: true},
			{Name: "city", Kind: fourd.KindStorage, Type: fourd.AttrString},
			{Name: "country", Kind: fourd.KindStorage, Type: fourd.AttrString},
			{Name: "revenues", Kind: fourd.KindStorage, Type: fourd.AttrNumber},
			{Name: "staff", Kind: fourd.KindRelatedEntities, RelatedDataClass: "Employee", Path: "employer"},
		}},
		{Name: "Employee", PrimaryKey: "ID", Attributes: []*fourd.Attribute{
			{Name: "ID", Kind: fourd.KindStorage, Type: fourd.AttrLong},
			{Name: "firstName", Kind: fourd.KindStorage, Type: fourd.AttrString},
			{Name: "lastName", Kind: fourd.KindStorage, Type: fourd.AttrString, Indexed: true},
			{Name: "salary", Kind: fourd.KindStorage, Type: fourd.AttrNumber, Indexed: true},
			{Name: "birthDate", Kind: fourd.KindStorage, Type: fourd.AttrDate},
			{Name: "employer", Kind: fourd.KindRelatedEntity, RelatedDataClass: "Company"},
		}},
	}}
	if err := m.Init(); err != nil {
		panic("demodata: the demo model is invalid: " + err.Error()) // a bug in this file
	}
	return m
}

// seed makes the demo data the same on every run.
var seed = [2]uint64{4, 0xD0}

// Company is one generated company.
type Company struct {
	Name, City, Country string
	Revenues            float64
}

// Employee is one generated employee; Employer is the index of its
// company among the companies given to Employees.
type Employee struct {
	FirstName, LastName string
	Salary              float64
	BirthDate           time.Time
	Employer            int
}

// Generator draws the demo data: real given names, family names and
// cities with their countries; company names made of two parts, the first
// company being "Acme"; revenues and salaries in log-normal distributions
// (salaries between 25,000 and 250,000, around 55,000); birth dates from
// 1955 to 2005; every employee works for a company, a few large ones and
// many small ones. Draw the companies first, then call Employees, then
// draw the employees.
type Generator struct {
	r         *rand.Rand
	companies int
	order     []int
	zipf      *rand.Zipf
	lo        time.Time
	days      int
}

// New returns a generator at the start of the data.
func New() *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed[0], seed[1]))}
}

// Company draws the next company.
func (g *Generator) Company() Company {
	r := g.r
	name := "Acme"
	if g.companies > 0 {
		name = companyFirst[r.IntN(len(companyFirst))] + " " + companySecond[r.IntN(len(companySecond))]
	}
	g.companies++
	c := cities[r.IntN(len(cities))]
	revenues := math.Round(clamp(math.Exp(r.NormFloat64()*1.5+math.Log(5e7)), 1e5, 5e11)/1000) * 1000
	return Company{Name: name, City: c.city, Country: c.country, Revenues: revenues}
}

// Employees prepares the employees' draw over n companies (n > 0): a
// Zipf distribution over the companies in a shuffled order, so that size
// and key are unrelated.
func (g *Generator) Employees(n int) {
	g.order = g.r.Perm(n)
	g.zipf = rand.NewZipf(g.r, 1.2, 20, uint64(max(n-1, 0)))
	g.lo = time.Date(1955, 1, 1, 0, 0, 0, 0, time.UTC)
	g.days = int(time.Date(2005, 12, 31, 0, 0, 0, 0, time.UTC).Sub(g.lo).Hours() / 24)
}

// Employee draws the next employee.
func (g *Generator) Employee() Employee {
	r := g.r
	salary := math.Round(clamp(math.Exp(r.NormFloat64()*0.45+math.Log(55000)), 25000, 250000)/100) * 100
	birth := g.lo.AddDate(0, 0, r.IntN(g.days+1))
	employer := g.order[g.zipf.Uint64()]
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	return Employee{FirstName: first, LastName: last, Salary: salary, BirthDate: birth, Employer: employer}
}

func clamp(x, lo, hi float64) float64 { return math.Min(math.Max(x, lo), hi) }
