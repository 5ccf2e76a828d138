package debitura_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"os"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/redisfleet"
	"github.com/debitura-go/debitura/webhook"
	"github.com/redis/go-redis/v9"
)

// Every replica of a service (and its batch jobs) shares one API key's budget, tokens, link
// locks and webhook de-duplication on Redis. It is compiled, not run: it needs a Redis server.
func Example_runningManyReplicas() {
	var _ = func(ctx context.Context) error {
		// The caller's go-redis client: single node, Sentinel or Cluster.
		rdb := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs:                 []string{"redis:6379"},
			ContextTimeoutEnabled: true, // frees connections soonest while Redis is away
		})
		defer rdb.Close()

		// 32 random bytes, the same on every replica (for example from a secret store).
		sealingKey, err := base64.StdEncoding.DecodeString(os.Getenv("DEBITURA_SEALING_KEY"))
		if err != nil {
			return err
		}
		apiKey := os.Getenv("DEBITURA_API_KEY")
		fleet, err := redisfleet.New(rdb, apiKey,
			redisfleet.WithSealingKey(sealingKey),
			redisfleet.WithLogger(slog.Default())) // one Warn per 30 s while Redis is away
		if err != nil {
			return err
		}

		// Debitura's windows (2,000/min sliding, 20,000/h, 100,000/day), 20 % kept for
		// interactive calls. Every replica must use the same Limits.
		opts, err := fleet.Options(debitura.DefaultLimits())
		if err != nil {
			return err
		}
		c, err := debitura.New(apiKey, opts...)
		if err != nil {
			return err
		}

		// Interactive lane (the default): a signup links its customer at once.
		if _, err := c.Clients.EnsureLinked(ctx, &debitura.ClientCreateRequest{ /* ... */ }); err != nil {
			return err
		}
		// Bulk lane: a back-fill never takes the slots live signups need.
		results, err := c.Clients.LinkMany(ctx, []*debitura.ClientCreateRequest{ /* ... */ }, nil)
		_ = results
		if err != nil {
			return err
		}
		// Webhook receivers on every replica handle a redelivered event once.
		dedupe, err := fleet.WebhookDeduper(redisfleet.DeduperConfig{})
		if err != nil {
			return err
		}
		http.Handle("/webhooks/debitura", webhook.Handler(os.Getenv("DEBITURA_WEBHOOK_SECRET"),
			func(ctx context.Context, ev *webhook.Event) error {
				return nil // handle the event
			}, webhook.WithDeduper(dedupe)))
		return nil
	}
}
