package debitura

// TokensService mints and caches Customer API bearer tokens for linked clients.
type TokensService service
