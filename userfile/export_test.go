package userfile

// SetCompareHash replaces the bcrypt comparison of Authenticate for a test
// and returns a function that puts the real one back.
func SetCompareHash(f func(hash, password []byte) error) (restore func()) {
	old := compareHash
	compareHash = f
	return func() { compareHash = old }
}
