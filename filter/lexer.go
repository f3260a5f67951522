package filter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the class of a token.
type tokKind uint8

const (
	tokEOF         tokKind = iota
	tokWord                // a name: a letter, '_' or '$', then letters, digits, '_' or '$'
	tokPunct               // one of ( ) [ ] { } , . :
	tokCompare             // = == === # != !== < <= > >= %
	tokAnd                 // & or &&
	tokOr                  // | or ||
	tokString              // a quoted string, quotes included
	tokUnclosed            // a quote with no closing quote before the end
	tokPlaceholder         // ':' and the name characters after it (values only)
	tokBare                // an unquoted value (values only)
	tokOther               // anything else
)

// token is a piece of the input. text is src[pos:end].
type token struct {
	kind     tokKind
	pos, end int
	text     string
}

// is reports whether t is the punctuation or operator s.
func (t token) is(s string) bool {
	return (t.kind == tokPunct || t.kind == tokCompare) && t.text == s
}

// isWord reports whether t is the word w in any case.
func (t token) isWord(w string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, w)
}

// lexer splits the input into tokens. The parser asks for a token in one of
// two contexts: next reads names, operators and punctuation; nextValue
// reads the value after a comparison operator, where an unquoted word may
// hold characters such as '@', '-', '.' or ':' that are not part of a name.
// The parser backtracks by saving and restoring pos.
type lexer struct {
	src string // the input, up to the end of the part being parsed
	pos int    // byte offset of the next token in src
}

// next returns the next token in the name-and-operator context.
func (lx *lexer) next() token {
	lx.skipSpace()
	start := lx.pos
	if start >= len(lx.src) {
		return token{kind: tokEOF, pos: start, end: start}
	}
	switch c := lx.src[start]; c {
	case '(', ')', '[', ']', '{', '}', ',', '.', ':':
		return lx.emit(tokPunct, start+1)
	case '&', '|':
		end := start + 1
		if end < len(lx.src) && lx.src[end] == c {
			end++
		}
		if c == '&' {
			return lx.emit(tokAnd, end)
		}
		return lx.emit(tokOr, end)
	case '=', '!', '<', '>', '#', '%':
		if n := compareLen(lx.src[start:]); n > 0 {
			return lx.emit(tokCompare, start+n)
		}
		return lx.emit(tokOther, start+1)
	case '\'', '"':
		return lx.quoted()
	}
	r, size := utf8.DecodeRuneInString(lx.src[start:])
	if isNameStart(r) {
		return lx.emit(tokWord, lx.scanName(start+size))
	}
	end := start + size
	for end < len(lx.src) {
		r, size := utf8.DecodeRuneInString(lx.src[end:])
		if unicode.IsSpace(r) || r < utf8.RuneSelf && strings.IndexByte(delimiters, byte(r)) >= 0 {
			break
		}
		end += size
	}
	return lx.emit(tokOther, end)
}

// delimiters are the characters that end a tokOther run.
const delimiters = "()[]{},.:&|=!<>#%'\""

// valueStops are the characters that end an unquoted value.
const valueStops = "()[],&|=!<>'\""

// nextValue returns the next token in the value context: a quoted string,
// a placeholder, an unquoted value, or (for anything that cannot start a
// value) the token next would return.
func (lx *lexer) nextValue() token {
	lx.skipSpace()
	start := lx.pos
	if start >= len(lx.src) {
		return token{kind: tokEOF, pos: start, end: start}
	}
	c := lx.src[start]
	switch {
	case c == '\'' || c == '"' || escapedQuote(lx.src[start:]) != "":
		return lx.quoted()
	case c == ':':
		return lx.emit(tokPlaceholder, lx.scanName(start+1))
	case strings.IndexByte(valueStops, c) >= 0:
		return lx.next()
	}
	end := start
	for end < len(lx.src) {
		r, size := utf8.DecodeRuneInString(lx.src[end:])
		if unicode.IsSpace(r) || r < utf8.RuneSelf && strings.IndexByte(valueStops, byte(r)) >= 0 {
			// A quote inside a bare word is part of it, as in 4D's
			// lastName=O'Reilly; only a value can start with one.
			if end == start || (r != '\'' && r != '"') {
				break
			}
		}
		end += size
	}
	return lx.emit(tokBare, end)
}

// peekByte returns the byte at pos without skipping spaces, or 0 at the end.
func (lx *lexer) peekByte() byte {
	if lx.pos < len(lx.src) {
		return lx.src[lx.pos]
	}
	return 0
}

// name reads a name that starts exactly at pos (no space skipped). It
// returns false, and moves nothing, when no name starts there.
func (lx *lexer) name() (token, bool) {
	if lx.pos >= len(lx.src) {
		return token{}, false
	}
	r, size := utf8.DecodeRuneInString(lx.src[lx.pos:])
	if !isNameStart(r) {
		return token{}, false
	}
	return lx.emit(tokWord, lx.scanName(lx.pos+size)), true
}

// skipSpace moves pos past white space.
func (lx *lexer) skipSpace() {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		if c < utf8.RuneSelf {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f' {
				return
			}
			lx.pos++
			continue
		}
		r, size := utf8.DecodeRuneInString(lx.src[lx.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		lx.pos += size
	}
}

// emit returns the token from pos to end and moves pos to end.
func (lx *lexer) emit(kind tokKind, end int) token {
	t := token{kind: kind, pos: lx.pos, end: end, text: lx.src[lx.pos:end]}
	lx.pos = end
	return t
}

// scanName returns the end of the run of name characters from i.
func (lx *lexer) scanName(i int) int {
	for i < len(lx.src) {
		r, size := utf8.DecodeRuneInString(lx.src[i:])
		if !isNamePart(r) {
			break
		}
		i += size
	}
	return i
}

// quoted reads a string in single or double quotes starting at pos, or
// between two of 4D's escaped quotes (\u0022 or \u0027), which close only
// on the same escape. A backslash escapes the next character, so \' and \"
// never close a string, nor \u0022 one that a raw quote opened.
func (lx *lexer) quoted() token {
	if esc := escapedQuote(lx.src[lx.pos:]); esc != "" {
		for i := lx.pos + len(esc); i < len(lx.src); i++ {
			if lx.src[i] == '\\' {
				if strings.HasPrefix(lx.src[i:], esc) {
					return lx.emit(tokString, i+len(esc))
				}
				i++
			}
		}
		return lx.emit(tokUnclosed, len(lx.src))
	}
	q := lx.src[lx.pos]
	for i := lx.pos + 1; i < len(lx.src); i++ {
		switch lx.src[i] {
		case '\\':
			i++
		case q:
			return lx.emit(tokString, i+1)
		}
	}
	return lx.emit(tokUnclosed, len(lx.src))
}

// The escapes 4D's $filter documentation prescribes for quotes in a URL:
// "\u0022" for a double quote and "\u0027" for a single quote.
const (
	escDouble = `\u0022`
	escSingle = `\u0027`
)

// escapedQuote returns the escaped quote s starts with, or "".
func escapedQuote(s string) string {
	switch {
	case strings.HasPrefix(s, escDouble):
		return escDouble
	case strings.HasPrefix(s, escSingle):
		return escSingle
	}
	return ""
}

// quoteWidth returns the width of the quote that opens a quoted token's
// text: 1 for a quote character, 6 for an escaped one.
func quoteWidth(text string) int {
	if n := len(escapedQuote(text)); n > 0 {
		return n
	}
	return 1
}

// unescapeQuotes replaces 4D's escaped quotes in a bare value by the
// quotes they stand for.
func unescapeQuotes(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	return strings.NewReplacer(escDouble, `"`, escSingle, "'").Replace(s)
}

// compareLen returns the length of the comparison operator at the start of
// s, or 0 if there is none (a lone '!').
func compareLen(s string) int {
	switch {
	case strings.HasPrefix(s, "==="), strings.HasPrefix(s, "!=="):
		return 3
	case strings.HasPrefix(s, "=="), strings.HasPrefix(s, "!="),
		strings.HasPrefix(s, "<="), strings.HasPrefix(s, ">="):
		return 2
	case s[0] == '!':
		return 0
	}
	return 1
}

func isNameStart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r)
}

func isNamePart(r rune) bool {
	return isNameStart(r) || unicode.IsDigit(r)
}

// unescape resolves the escapes of a quoted string's body: \\, \', \" and
// \@ stand for the character after the backslash, \u0022 and \u0027 for a
// double and a single quote; a backslash before any other character is
// kept. It returns the text, with every @ in it, and the
// pieces between the unescaped @ (nil when there is none).
func unescape(body string) (str string, pieces []string) {
	if strings.IndexByte(body, '\\') < 0 {
		if strings.IndexByte(body, '@') < 0 {
			return body, nil
		}
		return body, strings.Split(body, "@")
	}
	var all, piece strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\\' && i+1 < len(body) {
			if esc := escapedQuote(body[i:]); esc != "" {
				q := byte('"')
				if esc == escSingle {
					q = '\''
				}
				all.WriteByte(q)
				piece.WriteByte(q)
				i += len(esc) - 1
				continue
			}
			switch n := body[i+1]; n {
			case '\\', '\'', '"', '@':
				all.WriteByte(n)
				piece.WriteByte(n)
				i++
				continue
			}
		}
		all.WriteByte(c)
		if c == '@' {
			pieces = append(pieces, piece.String())
			piece.Reset()
			continue
		}
		piece.WriteByte(c)
	}
	if pieces != nil {
		pieces = append(pieces, piece.String())
	}
	return all.String(), pieces
}
