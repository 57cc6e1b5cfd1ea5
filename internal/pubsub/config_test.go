package pubsub

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{ProjectID: "proj", Topic: "events"}
	testValidate(t, ok, (*Config).Validate, []validateCase[Config]{
		{"minimal", func(*Config) {}, ""},
		{"explicit settings", func(c *Config) { c.DelayThreshold, c.PublishTimeout = 5*time.Millisecond, time.Second }, ""},
		{"no project", func(c *Config) { c.ProjectID = "" }, "ProjectID"},
		{"no topic", func(c *Config) { c.Topic = "" }, "topic ID is empty"},
		{"resource name", func(c *Config) { c.Topic = "projects/p/topics/events" }, "not a resource name"},
		{"too short", func(c *Config) { c.Topic = "ev" }, "3-255"},
		{"starts with digit", func(c *Config) { c.Topic = "1events" }, "starting with a letter"},
		{"goog prefix", func(c *Config) { c.Topic = "google-events" }, "goog"},
		{"negative delay", func(c *Config) { c.DelayThreshold = -time.Millisecond }, "DelayThreshold"},
		{"negative timeout", func(c *Config) { c.PublishTimeout = -time.Second }, "PublishTimeout"},
	})
}

func TestConfigDefaults(t *testing.T) {
	got := Config{ProjectID: "p", Topic: "events"}.withDefaults()
	if got.DelayThreshold != DefaultDelayThreshold || got.PublishTimeout != DefaultPublishTimeout {
		t.Errorf("withDefaults() = %+v, want DelayThreshold %v and PublishTimeout %v", got, DefaultDelayThreshold, DefaultPublishTimeout)
	}
}

func TestPushSubscriptionValidate(t *testing.T) {
	ok := PushSubscription{ID: "events-push", Topic: "events", Endpoint: "http://127.0.0.1:8080/pubsub/push"}
	testValidate(t, ok, (*PushSubscription).Validate, []validateCase[PushSubscription]{
		{"minimal", func(*PushSubscription) {}, ""},
		{"https endpoint", func(s *PushSubscription) { s.Endpoint = "https://dispatcher.example/pubsub/push" }, ""},
		{"pull subscription", func(s *PushSubscription) { s.Endpoint = "" }, ""},
		{"dead letters with default attempts", func(s *PushSubscription) { s.DeadLetterTopic = "dead-letters" }, ""},
		{"max ack deadline", func(s *PushSubscription) { s.AckDeadline = 600 * time.Second }, ""},
		{"bad id", func(s *PushSubscription) { s.ID = "x" }, "subscription ID"},
		{"bad topic", func(s *PushSubscription) { s.Topic = "" }, "topic ID is empty"},
		{"relative endpoint", func(s *PushSubscription) { s.Endpoint = "/pubsub/push" }, "not an absolute"},
		{"ftp endpoint", func(s *PushSubscription) { s.Endpoint = "ftp://127.0.0.1/x" }, "not an absolute"},
		{"ack deadline too short", func(s *PushSubscription) { s.AckDeadline = 5 * time.Second }, "ack deadline"},
		{"ack deadline too long", func(s *PushSubscription) { s.AckDeadline = 11 * time.Minute }, "ack deadline"},
		{"ack deadline fraction", func(s *PushSubscription) { s.AckDeadline = 10500 * time.Millisecond }, "whole seconds"},
		{"bad dead-letter topic", func(s *PushSubscription) { s.DeadLetterTopic = "dl" }, "dead-letter topic"},
		{"too few attempts", func(s *PushSubscription) { s.DeadLetterTopic, s.MaxDeliveryAttempts = "dead-letters", 4 }, "max delivery attempts"},
		{"too many attempts", func(s *PushSubscription) { s.DeadLetterTopic, s.MaxDeliveryAttempts = "dead-letters", 101 }, "max delivery attempts"},
	})
}

// validateCase is a case of a Validate test: edit changes a valid config,
// after which Validate's error contains wantErr ("": is nil).
type validateCase[C any] struct {
	name    string
	edit    func(*C)
	wantErr string
}

// testValidate runs validate on ok as each case edits it.
func testValidate[C any](t *testing.T, ok C, validate func(*C) error, tests []validateCase[C]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			checkErr(t, validate(&c), tt.wantErr)
		})
	}
}

// checkErr fails t unless err matches wantErr: nil for "", else containing it.
func checkErr(t *testing.T, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("Validate() = %v, want nil", err)
	case wantErr != "" && err == nil:
		t.Errorf("Validate() = nil, want error containing %q", wantErr)
	case wantErr != "" && !strings.Contains(err.Error(), wantErr):
		t.Errorf("Validate() = %v, want error containing %q", err, wantErr)
	}
}
