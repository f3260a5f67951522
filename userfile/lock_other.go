//go:build !unix

package userfile

import "context"

// lockFile is a no-op where flock is missing (Windows, Plan 9, wasm): the
// Store still serialises its own writers, and every write is an atomic
// rename, but two processes writing at the same moment may lose one of the
// two changes.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	return func() {}, ctx.Err()
}

// syncDir does nothing: directories cannot be fsynced on these systems.
func syncDir(dir string) error { return nil }
