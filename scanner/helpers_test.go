package scanner

// noEnv is an environment with nothing set, so the developer's own
// SSH_AUTH_SOCK never leaks into a test.
func noEnv(string) string { return "" }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
