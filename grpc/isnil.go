package stampedegrpc

import "reflect"

// isNilFunc reports whether f is a nil function value.
func isNilFunc(f any) bool {
	v := reflect.ValueOf(f)
	return v.Kind() == reflect.Func && v.IsNil()
}
