package debitura

// Ptr returns a pointer to a copy of v. Use it for the optional fields of request and option
// types, where nil means "not set" and the zero value is a real value, for example
// ClientListOptions.OnboardingDone = debitura.Ptr(false).
func Ptr[T any](v T) *T {
	return &v
}
