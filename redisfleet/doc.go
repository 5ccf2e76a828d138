// Package redisfleet shares one Debitura API key's request budget, tokens, link locks and
// webhook de-duplication across every replica that uses the key, on Redis.
//
// It is built on github.com/redis/go-redis/v9 and takes the caller's redis.UniversalClient, so
// a single node, Sentinel and Cluster all work. [Fleet.Options] plugs everything into the SDK at
// once (the adapters [Fleet.SDKBudget], [Fleet.SDKTokenCache], [Fleet.SDKLinkLocker]; and
// [Fleet.WebhookDeduper] for package webhook's handler):
//
//	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"redis:6379"}})
//	fleet, err := redisfleet.New(rdb, apiKey, redisfleet.WithSealingKey(sealingKey))
//	opts, err := fleet.Options(debitura.DefaultLimits())
//	c, err := debitura.New(apiKey, opts...)
//
// The primitives can be used on their own as well:
//
//	budget, err := fleet.Budget(redisfleet.DefaultLimits())
//	grant, err := budget.Take(ctx, redisfleet.Bulk)
//
// # Key layout
//
// Every key of one API key lives under one namespace, "debitura:{<digest>}:", where the digest
// is SHA-256 of the API key (domain-separated) truncated to 16 bytes, in hex. The braces make it
// the Redis Cluster hash tag: all keys of one API key hash to one slot, which the Lua scripts
// need (the tests run every primitive on a real three-master Redis Cluster and check that every
// key a fleet writes has that one slot; [WithPrefix] keeps it, as it may not contain a brace).
// The API key itself never reaches Redis, and neither do tenant ids, event ids, lock names
// or tokens: names are HMAC-SHA256 digests under a key derived from the API key, so a dump of
// Redis cannot be matched against guessed customer ids. The keys:
//
//	b:min         hash: sliding-window segment index → requests admitted in it
//	b:hour        hash: i = fixed-hour index, n = requests admitted in it
//	b:day         hash: i = fixed-day index, n = requests admitted in it
//	b:gate        the 429 gate: the instant (µs, Redis time) before which nothing is admitted
//	b:holders     sorted set: active holders of the budget (random id → active until, µs)
//	tok:<name>    a sealed cached value (token); tok:<name>:lease is its refresher's lease
//	lock:<name>   a named lock's lease
//	wh:<id>       a webhook event's de-dupe mark: "inflight" or "done"
//
// Every key expires: the window keys a segment past their window, the gate a second past its
// end, the holders a second past the last one's, tokens at their expiry minus the refresh margin, leases and marks at their lease or
// retention. [Fleet.Namespace] returns the prefix, for operators.
//
// # Windows
//
// [Budget] models Debitura's documented limits per API key (2,000 per minute, 20,000 per hour,
// 100,000 per day; [DefaultLimits]) in one Lua script that checks every window and the gate and,
// only if all have room for the lane, counts the request in each: all or nothing, atomically
// across the fleet. Its clock is Redis's TIME, never the replicas' clocks.
//
//   - The minute is a sliding window counted in 10-second segments: the requests of the current
//     segment and the five before it. When it is full, the next slot frees when the oldest
//     segment that still holds requests slides out (for the bulk lane: when enough of the oldest
//     segments slid out to bring the count under its share), as ASP.NET Core's
//     SlidingWindowRateLimiter, which Debitura runs, does. The segments are aligned to the Unix
//     epoch; the server's are aligned to when its limiter started, which nobody outside knows,
//     so the two can be out of phase by up to a segment; the shared 429 hold absorbs what this
//     costs (the SDK's in-memory budget also corrects its limits; the shared one does not).
//   - The hour is a fixed window that resets at the top of each hour, UTC.
//   - The day is a fixed window that resets at midnight UTC (one version of Debitura's page says
//     the day is anchored to the partition's first request instead; REFERENCE.md §4).
//
// [Limits] changes the numbers (for a partner whose limits were raised) and the time scale
// (segment, window lengths), which tests and benchmarks shrink. All replicas of one API key must
// use the same Limits.
//
// Two lanes: [Interactive] calls may fill each window to its limit; [Bulk] calls only to
// floor(limit × (1 − BulkReserve)), 80 % by default, so a backfill never takes the last slots
// that live signups need. Take never queues: it admits, or answers how long until a slot may
// free ([Grant.Wait]); interactive callers therefore never wait behind bulk ones.
//
// The 429 gate: [Budget.Hold] records that no slot of either lane is admitted before now+d
// (Redis time; of two holds, the later end wins), so a 429's retryAfter seen by one replica
// holds the whole fleet.
//
// # Sealing
//
// [TokenCache] values are bearer tokens, so they are sealed before they leave the process:
// AES-256-GCM under the 32-byte key of [WithSealingKey] (every replica needs the same key),
// with a fresh random 12-byte nonce per value and the value's Redis key name as additional
// data, so a value copied to another tenant's key does not open. A value that does not open
// (corrupt, another sealing key, moved) is a miss and is filled again. A value lives in Redis
// until its expiry minus the refresh margin. One replica at a time fills a missing value: it
// holds a lease (SET NX PX with a random value, released by compare-and-delete); the others
// poll for its result with a short backoff and fill themselves only if the lease ends without a
// value.
//
// # Leases
//
// [Locks] and the token cache's refresher use leases, not fences: a holder paused longer than
// its lease (a long GC pause, a stopped VM) can still be working when the next holder starts.
// That is harmless here, because the lock only saves budget and duplicate work: POST /clients
// is idempotent per externalTenantId, and a second token mint costs one request. Correctness
// never depends on the lock. A holder that dies loses the lock when its lease ends.
//
// [Deduper] mirrors the SDK's in-memory WebhookDeduper (Claimed, InProgress, Done; Complete and
// Release) with a processing lease, so a replica that dies mid-event blocks the id only until
// the lease ends, and a done-retention that outlasts Debitura's redeliveries.
//
// # Failure policy
//
// Every Redis operation runs under a short timeout ([WithOpTimeout], 100 ms by default). When
// Redis is unreachable, too slow or answers with an error, the call returns an error wrapping
// [ErrUnavailable] (the caller's own cancellation is returned as its ctx.Err() instead), never
// hangs and never panics. The timeout holds even when the go-redis client ignores context
// deadlines (its default): the call returns on time and the abandoned command ends in the
// background at the client's own read timeout. The SDK adapters react to ErrUnavailable by
// falling back to the in-process equivalent (the SDK's in-memory budget of the same limits, which
// also records every Hold; minting tokens themselves; no link lock; an in-memory de-dupe store),
// logging one Warn per Fleet at most every warn interval ([WithLogger], [WithFailover];
// [DefaultWarnInterval] 30 s), and letting one call try Redis again after the probe interval
// ([DefaultProbeInterval] 1 s); when it answers, every adapter of the Fleet goes back to it and an
// Info record says so. Redis coordination is an optimisation, never a dependency of a request's
// success.
//
// Clients configured with ContextTimeoutEnabled: true and a small DialerRetries free their
// connections soonest during an outage.
//
// The budget's fallback is a share, not the whole. If every replica fell back to an in-process
// budget of the fleet's full limits, N replicas would admit N times the windows while Redis is
// away, and the server would answer the excess with 429s (the fleet bench measured 45 % of all
// requests with 8 replicas). So while Redis answers, each SDKBudget renews its entry in
// b:holders once per segment (an entry lasts two sliding windows) and reads how many holders
// are active, and it counts its own admissions in an in-process budget of its share: every
// window's limit ÷ the active holders, rounded down (never below the fewest slots that leave
// the bulk lane one: 2 at the default reserve). That budget takes over when Redis goes away,
// continuing from what this replica took of the current windows, so the fleet's fallbacks
// together admit no more than the windows hold. When Redis answers again, each holder, at its
// first Take there, credits the shared windows (the minute's segments still in it, the hour,
// the day) with what its fallback admitted in them, or, when its heartbeat entry is gone
// because Redis restarted empty, with everything it admitted in them, so a fleet on a
// restarted Redis does not spend the windows twice.
//
// The excess that remains is bounded: a holder's share is rebuilt when the holder count
// changes, carrying over only its count of the current hour (all of it counted in the current
// segment, which is stricter for the minute; the day's earlier hours are lost); a holder that
// never reached Redis counts itself alone; holders idle for longer than two sliding windows are
// not counted; a holder's first Takes on the returned Redis are admitted on Redis's counts
// alone, until its credit lands (one round trip later: heartbeat and credit run in the
// background, so a Take never waits for them). The server's 429s cover these: a 429 holds the fallback for its
// retryAfter (Hold is recorded in it too), and the SDK retries an interactive call's 429s for
// as long as its waits fit in WithMaxRetryWait, so a 429 delays such a call rather than
// failing it.
package redisfleet
