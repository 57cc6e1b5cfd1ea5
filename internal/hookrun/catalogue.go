package hookrun

import "slices"

// Catalogue is a tenant's optional list of the event types it sends. When
// it is not empty, events of other types are refused, and endpoints may
// only subscribe to patterns that match one of its types, so typos are
// caught when they are made rather than by silence.
type Catalogue []string

// NewCatalogue validates types and returns them sorted without duplicates.
func NewCatalogue(types []string) (Catalogue, error) {
	if len(types) > 1000 {
		return nil, Errorf(CodeInvalidArgument, "event_types: at most 1000")
	}
	for _, t := range types {
		if err := ValidateEventType(t); err != nil {
			return nil, Errorf(CodeInvalidArgument, "event_types: %s", ErrorMessage(err))
		}
		if IsOperational(t) {
			return nil, Errorf(CodeInvalidArgument, "event_types: %s", ErrorMessage(ErrReservedType(t)))
		}
	}
	c := slices.Clone(types)
	slices.Sort(c)
	return slices.Compact(c), nil
}

// AllowsType reports whether an event of type t may be sent.
func (c Catalogue) AllowsType(t string) bool {
	if len(c) == 0 {
		return true
	}
	_, found := slices.BinarySearch(c, t)
	return found
}

// CheckPatterns returns an error naming the first pattern that matches no
// type of the catalogue; operational types (OperationalTypes) are always
// there to subscribe to.
func (c Catalogue) CheckPatterns(ps Patterns) error {
	if len(c) == 0 {
		return nil
	}
	for _, p := range ps {
		if !slices.ContainsFunc(c, p.Match) && !slices.ContainsFunc(OperationalTypes, p.Match) {
			return Errorf(CodeInvalidArgument, "event_types: %q matches no type of the tenant's event catalogue", p.String())
		}
	}
	return nil
}
