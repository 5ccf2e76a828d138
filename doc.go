// Package debitura is a typed client for Debitura's Referral Partner API: it links a SaaS
// platform's customers to Debitura's debt-collection network and mints Customer API tokens for
// them.
package debitura
