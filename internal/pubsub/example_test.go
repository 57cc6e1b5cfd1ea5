package pubsub_test

import (
	"context"
	"fmt"
	"log"

	"cloud.google.com/go/pubsub/v2"
)

// Example_publishToHookrun is the README's "Publish from your own code
// against the local stack" example: a producer's own code publishing to
// hookrun's events topic with the Pub/Sub client, once with hookrun's
// attributes and once as a structured CloudEvent for a source binding to
// route. With PUBSUB_EMULATOR_HOST set (scripts/dev prints it), the client
// talks to the emulator and needs no credentials.
func Example_publishToHookrun() {
	ctx := context.Background()
	client, err := pubsub.NewClient(ctx, "hookrun-local") // the local stack's project
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	events := client.Publisher("events")
	defer events.Stop()

	// hookrun's own attributes: tenant, type and (for idempotency) id.
	res := events.Publish(ctx, &pubsub.Message{
		Data:       []byte(`{"user":"u_1"}`),
		Attributes: map[string]string{"tenant_id": "demo", "event_type": "user.created", "event_id": "u_1-created"},
	})
	// Get waits until Pub/Sub has the message.
	if _, err := res.Get(ctx); err != nil {
		log.Fatal(err)
	}

	// A structured CloudEvent: no tenant_id, a source binding of the
	// source https://billing.example.com names the tenant.
	res = events.Publish(ctx, &pubsub.Message{
		Data: []byte(`{"specversion":"1.0","id":"in_1-paid","source":"https://billing.example.com",` +
			`"type":"invoice.paid","datacontenttype":"application/json","data":{"invoice":"in_1"}}`),
		Attributes: map[string]string{"Content-Type": "application/cloudevents+json; charset=utf-8"},
	})
	id, err := res.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published", id)
}
