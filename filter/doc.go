// Package filter reads the ORDA query language of the REST $filter
// parameter, and $orderby values, into a typed tree.
//
// It does not run queries. A compiler elsewhere turns a *Query into
// parameterized SQL; for that the tree carries every value typed (string,
// int, float, bool, null, date, list, placeholder), every string with its
// wildcards already located (Value.Wildcard, Value.Pattern, Value.Match),
// and no text that would need to be parsed again. The package uses only the
// standard library.
//
//	q, err := filter.Parse(`"salary>:1 AND employer.name=Acme@ order by lastName"`)
//	q, err = q.Bind([]any{20000.0}) // $params, decoded from JSON
//
// # Grammar
//
// In EBNF (keywords in any case unless noted; white space is allowed
// between tokens but not inside a path):
//
//	query      = expr [ "order" "by" orderList ] .
//	expr       = operand { conj operand } .
//	operand    = comparison | "(" expr ")" | "NOT" "(" expr ")" .
//	conj       = "AND" | "&" | "&&" | "OR" | "|" | "||" | "EXCEPT" .
//	comparison = path op value .
//	path       = segment { "." segment } .
//	segment    = name [ "[]" | "[" letter "]" | "{" digits "}" ] .
//	name       = ( letter | "_" | "$" ) { letter | digit | "_" | "$" } .
//	op         = "=" | "==" | "===" | "IS" | "#" | "!=" | "!==" | "IS" "NOT"
//	           | "<" | "<=" | ">" | ">=" | "IN" | "%" | "begin" .
//	value      = quoted | bare | placeholder | list .  (a list only after IN)
//	list       = "[" [ item { "," item } ] "]" .       (IN takes a list or a placeholder)
//	item       = quoted | bare | placeholder .
//	quoted     = "'" { char } "'" | `"` { char } `"` | `\u0022` { char } `\u0022` | `\u0027` { char } `\u0027` .
//	placeholder = ":" digits .                        (:1 to :128)
//	bare       = any run of characters up to white space or one of ( ) [ ] , & | = ! < > (a quote may not start it)
//	orderList  = orderKey { "," orderKey } .
//	orderKey   = path [ "asc" | "desc" ] .
//
// Names (attributes, properties) are case-sensitive: employer.name is not
// Employer.Name.
//
// # Precedence
//
// AND, OR and EXCEPT have the same precedence and are read from left to
// right, the way 4D evaluates a query: "a OR b AND c" means "(a OR b) AND
// c", not the SQL reading "a OR (b AND c)". Parentheses change the order.
// NOT applies to the parenthesized expression that must follow it:
// "NOT(a OR b)". The tree keeps this: a chain is a left-leaning tree of
// *Logical, and parentheses leave no node of their own.
//
// # Values
//
// A bare word is a constant: true and false (lower case only, as in 4D)
// are booleans; null finds null and undefined values (only after =, ==,
// ===, IS, #, !=, !== and IS NOT); -?digits[.digits] is a number (KindInt,
// or KindFloat when it has a fraction or does not fit an int64); a valid
// YYYY-MM-DD is a date; anything else is a string: lastName begin j,
// employer.name=acme. Quoted text is always a string, except a quoted
// valid YYYY-MM-DD, which is a date, since 4D documents dates as
// "YYYY-MM-DD". Value.Str keeps the text of every constant as written, so
// that a compiler can convert a number or date compared with a text
// attribute back to text.
//
// # Quoting
//
// Strings may be in single or double quotes. Inside them a backslash
// escapes the next character: \' \" \\ and \@ (a literal @ where @ would be
// a wildcard); before any other character the backslash is kept as is.
// Doubling a quote is not an escape: inside a string, a pair of single
// quotes ends the string and opens another, which is an error.
// Placeholders remain the better way to pass arbitrary text.
//
// 4D's $filter documentation prescribes \u0022 for a double quote and
// \u0027 for a single quote, so that quotes survive in a URL. They work as
// the quotes they stand for: lastName=\u0022John Smith\u0022 is the quoted
// string "John Smith" (a string opened by an escaped quote closes on the
// same escape), and inside any string or bare word they are the literal
// character: \u0022O\u0027Reilly\u0022, 'say \u0022hi\u0022' and
// O\u0027Reilly. A quote inside a bare word is part of it, as 4D documents
// lastName=O'Reilly.
//
// REST clients often wrap the whole parameter in double quotes:
// $filter="lastName=Smith" (or \u0022lastName=Smith\u0022). Parse and
// ParseOrderBy accept and drop one such pair (Unquote does the same for
// other parameters); error positions still count from the start of the
// text as received.
//
// # Wildcards
//
// After =, ==, #, != and IN (Op.Wildcards), an @ in a string value matches
// any run of characters: 'A@' begins with A, '@son' ends with son, '@mit@'
// contains mit. The @ of a bare word is always a wildcard there; in quoted
// text \@ is a literal @. After ===, IS, !==, IS NOT, begin, % and the
// ordering operators, @ is an ordinary character. Value.Pattern holds the
// pieces between wildcards and Value.Match names the common shapes.
//
// # Placeholders
//
// :1, :2, ... stand for the values of $params (1-based). Placeholders
// returns the numbers a query uses; Bind returns a copy with the values in
// place. Only values can be placeholders, not attribute paths.
//
// # Limits
//
// Parse refuses text longer than MaxLength, invalid UTF-8, nesting deeper
// than MaxDepth and more than MaxConditions comparisons, so that no input
// can exhaust the stack or yield SQL the database refuses. It never panics.
// Errors are *SyntaxError values whose message gives the column, what was
// expected and what was found:
//
//	filter: at column 14: expected a value after ">=", found end of input
//
// # Canonical text
//
// Query.String prints a canonical form: strings quoted, one space around
// operators, AND/OR/EXCEPT in capitals, parentheses only where the tree
// needs them (so "(a = 1 OR b = 2) AND c = 3" prints without them, read left
// to right like the input). Parsing it gives an equivalent tree with the same
// String (positions aside, and with :01 written :1 and x@@ written x@), which
// makes it fit for $savedfilter and logs.
package filter
