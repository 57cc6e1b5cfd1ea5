package firestore

import (
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
)

// retryPolicyDoc stores a hookrun.RetryPolicy; zero fields mean "inherit".
type retryPolicyDoc struct {
	InitialDelayMS int64   `firestore:"initial_delay_ms,omitempty"`
	Multiplier     float64 `firestore:"multiplier,omitempty"`
	MaxDelayMS     int64   `firestore:"max_delay_ms,omitempty"`
	MaxAttempts    int     `firestore:"max_attempts,omitempty"`
	Jitter         float64 `firestore:"jitter,omitempty"`
}

func toPolicyDoc(p hookrun.RetryPolicy) retryPolicyDoc {
	return retryPolicyDoc{
		InitialDelayMS: time.Duration(p.InitialDelay).Milliseconds(),
		Multiplier:     p.Multiplier,
		MaxDelayMS:     time.Duration(p.MaxDelay).Milliseconds(),
		MaxAttempts:    p.MaxAttempts,
		Jitter:         p.Jitter,
	}
}

func (d retryPolicyDoc) policy() hookrun.RetryPolicy {
	return hookrun.RetryPolicy{
		InitialDelay: hookrun.Duration(time.Duration(d.InitialDelayMS) * time.Millisecond),
		Multiplier:   d.Multiplier,
		MaxDelay:     hookrun.Duration(time.Duration(d.MaxDelayMS) * time.Millisecond),
		MaxAttempts:  d.MaxAttempts,
		Jitter:       d.Jitter,
	}
}
