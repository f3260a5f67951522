package filter_test

import (
	"fmt"

	"github.com/fourd/fourd/filter"
)

func ExampleParse() {
	q, err := filter.Parse(`"salary>20000 AND employer.name!=acme@ order by lastName DESC"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)
	c := q.Expr.(*filter.Logical).Right.(*filter.Comparison)
	fmt.Println(c.Path, c.Op, c.Value.Kind, c.Value.Match() == filter.MatchPrefix, c.Value.Pattern[0])
	// Output:
	// salary > 20000 AND employer.name != 'acme@' order by lastName desc
	// employer.name != string true acme
}

func ExampleParse_error() {
	_, err := filter.Parse(`"salary >= "`)
	fmt.Println(err)
	// Output:
	// filter: at column 12: expected a value after ">=", found end of input
}

func ExampleQuery_Bind() {
	q, _ := filter.Parse(`firstName=:1 AND salary>:2`)
	fmt.Println(q.Placeholders())
	bound, err := q.Bind([]any{"john", 20000.0}) // $params='["john",20000]'
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(bound)
	// Output:
	// [1 2]
	// firstName = 'john' AND salary > 20000
}

func ExampleParseOrderBy() {
	ob, _ := filter.ParseOrderBy(`"salary DESC,lastName ASC"`)
	fmt.Println(ob)
	// Output:
	// salary desc, lastName
}
