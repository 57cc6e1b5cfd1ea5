// Package settings applies the defaults that hookrun's configuration
// structs declare, so that each setting is declared once: one field of one
// struct, whose `env` tag names its environment variable, whose
// `envDefault` tag is its default, whose doc comment says what it means
// (zero included), and whose struct's Validate checks it.
//
// The services read their environment with github.com/caarlos0/env, which
// applies the default of a variable that is not set. Defaults applies the
// same tags to a struct built in Go (tests, the local stack) and to a
// setting given as zero, where zero means "the default". A setting whose
// zero is a value of its own says so with a `zero:"…"` tag naming it
// (`zero:"never"`): Defaults leaves it alone, so that 0 in the environment
// and 0 in Go mean the same.
//
// Defaults are applied apart from validation: a constructor calls Defaults,
// then Validate.
package settings

import (
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// Defaults sets every field of the struct cfg points to that is zero, has
// an envDefault tag and no zero tag, to that default; it descends into
// nested structs. A default that does not parse as its field's type is a
// mistake in the declaration, and panics.
func Defaults(cfg any) {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("settings.Defaults: want a pointer to a struct, got %T", cfg))
	}
	defaults(v.Elem())
}

var durationType = reflect.TypeFor[time.Duration]()

func defaults(v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		def, ok := f.Tag.Lookup("envDefault")
		if !ok {
			if fv.Kind() == reflect.Struct {
				defaults(fv)
			}
			continue
		}
		if _, meaningful := f.Tag.Lookup("zero"); meaningful || !fv.IsZero() {
			continue
		}
		if err := set(fv, def); err != nil {
			panic(fmt.Sprintf("settings: %s.%s: envDefault %q: %v", t, f.Name, def, err))
		}
	}
}

// set parses s into v as github.com/caarlos0/env parses a variable.
func set(v reflect.Value, s string) error {
	if v.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return err
		}
		v.SetFloat(n)
	default:
		return fmt.Errorf("a %s setting cannot have a default here", v.Type())
	}
	return nil
}
