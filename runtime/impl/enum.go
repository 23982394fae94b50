package impl

// AsEnum reads a JSON string as a value of the string enum type T; the generated
// Validate checks that it is one of T's values.
func AsEnum[T ~string](v any) (T, error) {
	s, err := AsString(v)
	return T(s), err
}

// AsTrimmedEnum is AsEnum for enums whose values are trimmed first.
func AsTrimmedEnum[T ~string](v any) (T, error) {
	s, err := AsTrimmedString(v)
	return T(s), err
}

// AppendEnum appends the JSON encoding of an enum value to b.
func AppendEnum[T ~string](b []byte, v T) []byte { return AppendString(b, string(v)) }
