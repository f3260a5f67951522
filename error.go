package fourd

import (
	"errors"
	"fmt"
)

// Error codes. Each names a class of failure the client can act on; the rest
// package maps each to one HTTP status in a single table (see
// docs/errors.md). Anything that is not a *Error is an internal error: it is
// logged and the client sees a generic message.
const (
	EINVALID      = "invalid"       // malformed request: bad parameter, bad JSON, bad filter (400)
	EUNAUTHORIZED = "unauthorized"  // permission refused (401; 4D never uses 403)
	ESESSIONLIMIT = "session_limit" // maximum number of sessions reached (402)
	ENOTFOUND     = "not_found"     // unknown resource, dataclass, entity, entity set, process or session (404)
	EMETHOD       = "method"        // the resource exists but not for this HTTP method (405)
	ECONFLICT     = "conflict"      // the entity changed since it was read: stamp mismatch (409)
	EABORTED      = "aborted"       // the request's process was aborted, or its session ended, while it ran (409)
	EQUOTA        = "quota"         // a quota is reached (429)
	EUNAVAILABLE  = "unavailable"   // the server is shutting down (503)
	EINTERNAL     = "internal"      // a real server fault (500)
)

// Component signatures written in the 4D __ERROR envelope.
const (
	// ComponentDB is 4D's database engine signature, used with 4D's own error numbers.
	ComponentDB = "dbmg"
	// ComponentServer is fourd's signature, used with fourd's own error numbers.
	ComponentServer = "fourd"
)

// 4D and fourd error numbers (the envelope's errCode). The 4D numbers are
// the ones 4D documents; the others are fourd's and are listed in
// docs/errors.md.
const (
	ErrCodeInterrupted       = 1006 // 4D: program interrupted (the process was aborted)
	ErrCodeCannotSaveRecord  = 1046 // 4D: cannot save record
	ErrCodeStampMismatch     = 1263 // 4D: given stamp does not match the current one
	ErrCodeEntityNotSaved    = 1517 // 4D: the entity cannot be saved
	ErrCodeNewEntityNotSaved = 1534 // 4D: the new entity cannot be saved
	ErrCodeEntitySetNotFound = 1802 // 4D: entity set not found

	ErrCodeUnknownResource  = 9001 // fourd: no such REST resource
	ErrCodeBadParameter     = 9002 // fourd: a query parameter has a bad value
	ErrCodeMethodNotAllowed = 9003 // fourd: the resource exists but not for this HTTP method
	ErrCodeUnknownProcess   = 9004 // fourd: no process with that number or ID
	ErrCodeUnknownSession   = 9005 // fourd: no session with that ID
	ErrCodeShuttingDown     = 9006 // fourd: the server is shutting down
	ErrCodeBadFilter        = 9007 // fourd: $filter or $orderby does not parse or does not fit the model
	ErrCodeUnknownDataClass = 9008 // fourd: no such dataclass
	ErrCodeUnknownAttribute = 9009 // fourd: no such attribute
	ErrCodeUnknownEntity    = 9010 // fourd: no entity with that key
	ErrCodeBadValue         = 9011 // fourd: a value does not fit its attribute's type
	ErrCodeCacheFull        = 9012 // fourd: an entity set is larger than the whole cache
	ErrCodeAdminOnly        = 9013 // fourd: an admin resource asked without the admin privilege
	ErrCodePermission       = 9014 // fourd: roles.json does not allow the session this action
	ErrCodeSessionLimit     = 9015 // fourd: the maximum number of sessions is reached (402)
	ErrCodeQuota            = 9016 // fourd: a quota is reached (429)
	ErrCodeTooLarge         = 9017 // fourd: a request body or an answer exceeds a size limit (400)
	ErrCodeBusy             = 9018 // fourd: the memory budget for request bodies is spent; retry later (503)
	ErrCodeLocked           = 9025 // fourd: the entity is locked by another session (409)
	ErrCodeImporting        = 9030 // fourd: the data is being imported, or its import did not finish (503)
	ErrCodeNodeUnreachable  = 9040 // fourd: the node that may run the process did not answer in time (503)
	ErrCodeInternal         = 9999 // fourd: internal error, details in the server log
)

// Error is an error meant to be seen by a client: a Code that says what kind
// of failure it is, the 4D error number and component, and a message that
// is safe to show. Err, when set, is the underlying cause; it is logged,
// never shown.
type Error struct {
	Code      string // one of the E* constants
	ErrCode   int    // the envelope's errCode
	Component string // the envelope's componentSignature; ComponentServer when empty
	Message   string // safe to show to the client
	Err       error  // underlying cause, for logs and errors.Is; may be nil
	// Also lists more general errors that follow this one in the __ERROR
	// envelope (4D writes the most specific error first: 1263, then 1046,
	// then 1517 for a stamp conflict).
	Also []*Error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a *Error with the given code and 4D error number and a
// formatted message.
func Errorf(code string, errCode int, format string, args ...any) *Error {
	return &Error{Code: code, ErrCode: errCode, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, or a generic message for any other error.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}
