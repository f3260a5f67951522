package rest

import (
	"time"

	"github.com/fourd/fourd"
)

// Limits bound what one request may cost the server, so that no request,
// and no crowd of them, can run it out of memory. docs/security.md lists
// them with their flags. A field at 0 turns that limit off.
type Limits struct {
	// MaxAnswerEntities caps the entities one answer holds: the page and,
	// at every level, the related entities $attributes shows inline
	// (employer.staff.employer.staff multiplies them). A request whose
	// answer would hold more gets 400 (errCode 9017), before the entities
	// are loaded where a count can tell, before anything is written
	// otherwise.
	MaxAnswerEntities int
	// MaxAnswerBytes caps the JSON of one answer. The answer is built
	// before it is sent, so one that grows past it is stopped and answered
	// 400 (errCode 9017): never a truncated 200.
	MaxAnswerBytes int
	// MaxBodyBytes caps one request body: 400 (errCode 9017).
	MaxBodyBytes int64
	// MaxBodyBytesInFlight caps the request bodies held in memory at once,
	// all requests together: a body that does not fit waits for none, it
	// gets 503 (errCode 9018) with Retry-After.
	MaxBodyBytesInFlight int64
	// MaxPageSize caps $top (and $limit), so that one request cannot ask
	// for a whole table of millions of entities in one answer: 400.
	MaxPageSize int
	// MaxDistinct caps the values of a $distinct answer: past it the
	// request is refused (400), never cut short.
	MaxDistinct int
	// MaxEntitySetTimeout caps $timeout, an entity set's lifetime (4D's
	// maxEntitySetTimeout): a larger value is refused with 400.
	MaxEntitySetTimeout time.Duration
}

// DefaultLimits are the limits a Handler has unless told otherwise.
var DefaultLimits = Limits{
	MaxAnswerEntities:    100000,
	MaxAnswerBytes:       64 << 20,
	MaxBodyBytes:         32 << 20,
	MaxBodyBytesInFlight: 64 << 20,
	MaxEntitySetTimeout:  24 * time.Hour,
	MaxPageSize:          10000,
	MaxDistinct:          10000,
}

// checkLimits applies the limits on a data request's parameters: $top
// and $timeout. Without $top, a page is the default 100 entities, or
// MaxPageSize when that is less; without $timeout, a set lives the default
// lifetime, or MaxEntitySetTimeout when that is shorter.
func (h *Handler) checkLimits(p *dataParams) error {
	if max := h.Limits.MaxPageSize; max > 0 && p.top > max {
		if p.topName != "" {
			return badParam("%s=%d: at most %d entities per page; page with $skip, or keep the selection with $method=entityset (limit: --max-page-size)", p.topName, p.top, max)
		}
		p.top = max // the default page, cut to the limit
	}
	if max := h.Limits.MaxEntitySetTimeout; max > 0 && p.timeout > max {
		if p.timeoutSet {
			return badParam("$timeout: an entity set lives at most %d seconds on this server (limit: --max-entity-set-timeout)", max/time.Second)
		}
		p.timeout = max // the default lifetime, cut to the limit
	}
	return nil
}

// errTooLarge is the 400 of a request or an answer past a size limit.
func errTooLarge(format string, args ...any) error {
	return fourd.Errorf(fourd.EINVALID, fourd.ErrCodeTooLarge, format, args...)
}

// answerBudget counts what one answer costs against MaxAnswerEntities.
type answerBudget struct {
	max  int // 0: no limit
	used int
}

// take counts n more entities, or refuses them.
func (b *answerBudget) take(n int) error {
	if b == nil || b.max <= 0 {
		return nil
	}
	b.used += n
	if b.used > b.max {
		return errTooLarge("the answer would hold more than %d entities (the page and the related entities $attributes shows inline); ask for a smaller $top or fewer nested relations (limit: --max-answer-entities)", b.max)
	}
	return nil
}
