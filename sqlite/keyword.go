package sqlite

import (
	"database/sql/driver"
	"strings"
	"unicode"

	msqlite "modernc.org/sqlite"
)

// keywordFunc is the SQL function fourd_keyword(text, word), which the %
// operator compiles to: 1 when text contains word as a whole word,
// ignoring case (Unicode simple folding), else 0; null when text is null.
// A word that is empty or holds a separator matches nothing, as 4D's %
// returns false for several words or part of a word.
func keywordFunc(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	text, ok := args[0].(string)
	if !ok {
		if args[0] == nil {
			return nil, nil
		}
		return int64(0), nil
	}
	word, _ := args[1].(string)
	return boolInt(containsWord(text, word)), nil
}

// isWordRune reports whether r belongs to a word: letters, digits, marks
// (accents written as combining characters) and apostrophes (Today's is
// one word).
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\'' || r == '’'
}

// containsWord reports whether text has word as one of its words.
func containsWord(text, word string) bool {
	if word == "" || strings.IndexFunc(word, func(r rune) bool { return !isWordRune(r) }) >= 0 {
		return false
	}
	for len(text) > 0 {
		i := strings.IndexFunc(text, isWordRune)
		if i < 0 {
			return false
		}
		text = text[i:]
		j := strings.IndexFunc(text, func(r rune) bool { return !isWordRune(r) })
		if j < 0 {
			j = len(text)
		}
		if strings.EqualFold(text[:j], word) {
			return true
		}
		text = text[j:]
	}
	return false
}
