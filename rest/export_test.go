package rest

// BodyBytesInFlight returns the bytes of request bodies h counts as held
// now, for tests that wait until a body is being read.
func BodyBytesInFlight(h *Handler) int64 { return h.bodies.used.Load() }

// BodyBytesPeak returns the most bytes of request bodies h has counted at
// once.
func BodyBytesPeak(h *Handler) int64 { return h.bodies.peak.Load() }
