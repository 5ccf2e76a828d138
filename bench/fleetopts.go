package main

import (
	"errors"

	"github.com/debitura-go/debitura"
)

// errNoFleetSDK is returned while the SDK has no fleet adapters to wire the coordinated mode to.
var errNoFleetSDK = errors.New("the coordinated mode needs redisfleet's (*Fleet).Options and the root package's budget layer (issue 11 items 1-3), which are not in this build")

// coordinatedOptions are the Client options of a replica in the coordinated mode: the fleet's
// shared budget, token cache and link locker on Redis at cfg.RedisAddr. The returned func
// closes the Redis client.
func coordinatedOptions(cfg replicaConfig) ([]debitura.Option, func(), error) {
	return nil, func() {}, errNoFleetSDK
}

// perProcessOptions are the Client options of a replica in the uncoordinated mode: today's
// per-process behaviour, every Client with its own in-memory rate-limit state.
func perProcessOptions(cfg replicaConfig) []debitura.Option {
	return nil
}
