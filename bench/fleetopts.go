package main

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/debitura-go/debitura"
	"github.com/debitura-go/debitura/mockserver"
	"github.com/debitura-go/debitura/redisfleet"
)

// limits are the SDK's Limits for the shape, with the bulk lane's reserve.
func (w windowShape) limits(reserve float64) debitura.Limits {
	return debitura.Limits{PerMinute: w.perMinute, PerHour: w.perHour, PerDay: w.perDay,
		Segment: w.segment, Minute: w.minute(), Hour: w.hour, Day: w.day, BulkReserve: reserve}
}

// coordinatedOptions are the Client options of a replica in the coordinated mode: the fleet's
// shared budget, token cache and link locker on Redis at cfg.RedisAddr (redisfleet's Options),
// with the scaled windows. The bulk lane sits through a whole scaled hour. The returned func
// closes the Redis client.
func coordinatedOptions(cfg replicaConfig) ([]debitura.Option, func(), error) {
	// go-redis logs every failed dial of its pool; while the third run stops redis-server that
	// floods the output. redisfleet's own Warn records (once per interval) still show.
	redis.SetLogger(quietRedis{})
	rdb := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
	fleet, err := redisfleet.New(rdb, mockserver.DefaultAPIKey, redisfleet.WithSealingKey(cfg.SealingKey))
	if err != nil {
		_ = rdb.Close()
		return nil, nil, err
	}
	opts, err := fleet.Options(cfg.Shape.shape().limits(cfg.Reserve))
	if err != nil {
		_ = rdb.Close()
		return nil, nil, err
	}
	opts = append(opts, debitura.WithBulkMaxWait(bulkMaxWait(cfg.Shape.shape())))
	return opts, func() { _ = rdb.Close() }, nil
}

// perProcessOptions are the Client options of a replica in the uncoordinated mode: every
// Client with its own in-memory budget of the same windows (each process believes it has the
// key's whole budget), its own token cache and no link lock.
func perProcessOptions(cfg replicaConfig) []debitura.Option {
	sh := cfg.Shape.shape()
	return []debitura.Option{debitura.WithLimits(sh.limits(cfg.Reserve)), debitura.WithBulkMaxWait(bulkMaxWait(sh))}
}

// bulkMaxWait is the longest single wait the bench's bulk lane sits through: a scaled hour.
func bulkMaxWait(w windowShape) time.Duration { return w.hour + w.segment }

// quietRedis drops go-redis's internal log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
