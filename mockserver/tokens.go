package mockserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// TokenTTL is the lifetime of a Customer API bearer token (expiresIn 1800).
const TokenTTL = 30 * time.Minute

// RotationGrace is how long tokens issued before a rotate-token call stay valid at most.
const RotationGrace = 24 * time.Hour

type jwtClaims struct {
	Iss string `json:"iss"`
	Aud string `json:"aud"`
	Sub string `json:"sub"` // creditor id
	Ext string `json:"ext"` // externalTenantId
	PID string `json:"pid"` // partner id
	LID string `json:"lid"` // link id
	Seq int64  `json:"seq"` // per-link token number (rotation cut-off)
	JTI string `json:"jti"`
	Iat int64  `json:"iat"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
}

var b64 = base64.RawURLEncoding

func signJWT(secret []byte, c jwtClaims) string {
	head := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, _ := json.Marshal(c)
	msg := head + "." + b64.EncodeToString(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(msg))
	return msg + "." + b64.EncodeToString(mac.Sum(nil))
}

// mintLocked issues a token for l.
func (b *Backend) mintLocked(l *linkRec, now time.Time) (string, time.Time) {
	l.TokenSeq++
	exp := now.Add(TokenTTL)
	tok := signJWT(b.st.TokenSecret, jwtClaims{
		Iss: "debitura-mock", Aud: "customer-api", Sub: l.CreditorID, Ext: l.ExternalTenantID, PID: l.PartnerID,
		LID: l.ID, Seq: l.TokenSeq, JTI: b.ids.uuid(), Iat: now.Unix(), Nbf: now.Unix(), Exp: exp.Unix(),
	})
	l.LastTokenExpiry = &exp
	return tok, exp
}

// tokenLinkLocked returns the caller's active link for ext with the documented refusals: 404
// when there is no active link or onboarding is not done, 403 when the client is suspended.
func (b *Backend) tokenLinkLocked(w http.ResponseWriter, p *partnerRec, ext string) *linkRec {
	l := b.activeLinkLocked(w, p, ext, "Client not found (no active client link found for externalTenantId)")
	if l == nil {
		return nil
	}
	if !b.st.onboardingDone(l.cred) {
		writeNotFound(w, "Client not found (the client has not completed onboarding; onboardingDone is false)")
		return nil
	}
	if l.Suspended {
		writeAPIError(w, http.StatusForbidden, "ClientSuspended", "The client is suspended; no Customer API tokens are issued for it.")
		return nil
	}
	return l
}

func (b *Backend) mintToken(w http.ResponseWriter, r *http.Request, ce *call) {
	var req reqToken
	if _, ok := b.readRequest(w, r, &req, "CreateAccessTokenRequest"); !ok {
		return
	}
	switch {
	case blank(req.ExternalTenantID):
		writeValidation(w, []string{required("ExternalTenantId")})
		return
	case len([]rune(*req.ExternalTenantID)) > 255:
		writeValidation(w, []string{tooLong("ExternalTenantId", 255)})
		return
	}
	if !b.lockCaller(w, ce) {
		return
	}
	defer b.mu.Unlock()
	l := b.tokenLinkLocked(w, ce.partner, *req.ExternalTenantID)
	if l == nil {
		return
	}
	tok, _ := b.mintLocked(l, b.now())
	ce.effect(EffectTokenMinted)
	writeJSON(w, http.StatusOK, wireAccessToken{
		AccessToken: strp(tok), ExpiresIn: int32(TokenTTL / time.Second), CreditorID: l.CreditorID,
		ExternalTenantID: strp(l.ExternalTenantID), TokenType: strp("Bearer"),
	})
}

func (b *Backend) rotateToken(w http.ResponseWriter, r *http.Request, ce *call) {
	raw, _ := readAll(r)
	if !b.lockCaller(w, ce) {
		return
	}
	defer b.mu.Unlock()
	b.idempotentLocked(w, r, ce, raw, func(w http.ResponseWriter) {
		l := b.tokenLinkLocked(w, ce.partner, r.PathValue("externalTenantId"))
		if l == nil {
			return
		}
		now := b.now()
		prev := now
		if l.LastTokenExpiry != nil && l.LastTokenExpiry.After(now) {
			prev = *l.LastTokenExpiry
		}
		if cap := now.Add(RotationGrace); prev.After(cap) {
			prev = cap
		}
		tok, _ := b.mintLocked(l, now)
		l.Rotations = append(l.Rotations, rotationRec{BeforeSeq: l.TokenSeq, NotAfter: now.Add(RotationGrace)})
		l.UpdatedAt = now
		ce.effect(EffectTokenRotated)
		writeJSON(w, http.StatusOK, wireRotate{
			AccessToken: tok, TokenType: "Bearer", ExpiresIn: int32(TokenTTL / time.Second), PreviousTokenExpiresAt: ts(prev),
		})
	})
}

// TokenStatus is the verdict of the mock Customer API on a bearer token.
type TokenStatus struct {
	// Valid is true when the Customer API would accept the token.
	Valid bool `json:"valid"`
	// HTTPStatus is what the Customer API answers: 200, 401 or 403 (suspended client).
	HTTPStatus int `json:"httpStatus"`
	// Reason is one of ok, missing, malformed, bad_signature, expired, revoked (cut off by a
	// rotation), link_archived (withdrawn, reset or never existed) and suspended.
	Reason           string    `json:"reason"`
	CreditorID       string    `json:"creditorId,omitempty"`
	ExternalTenantID string    `json:"externalTenantId,omitempty"`
	PartnerID        string    `json:"partnerId,omitempty"`
	ExpiresAt        time.Time `json:"expiresAt,omitzero"`
}

// CheckToken checks a Customer API bearer token the way the Customer API would: signature,
// expiry (on the mock clock), rotation cut-off, link still active, client not suspended.
func (b *Backend) CheckToken(token string) TokenStatus {
	if token == "" {
		return TokenStatus{HTTPStatus: http.StatusUnauthorized, Reason: "missing"}
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return TokenStatus{HTTPStatus: http.StatusUnauthorized, Reason: "malformed"}
	}
	head, err1 := b64.DecodeString(parts[0])
	payload, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	var c jwtClaims
	var h struct {
		Alg string `json:"alg"`
	}
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(head, &h) != nil || json.Unmarshal(payload, &c) != nil {
		return TokenStatus{HTTPStatus: http.StatusUnauthorized, Reason: "malformed"}
	}
	b.mu.Lock()
	defer b.mu.unlockUnchanged()
	mac := hmac.New(sha256.New, b.st.TokenSecret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if h.Alg != "HS256" || !hmac.Equal(sig, mac.Sum(nil)) {
		return TokenStatus{HTTPStatus: http.StatusUnauthorized, Reason: "bad_signature"}
	}
	now := b.now()
	exp := time.Unix(c.Exp, 0).UTC()
	st := TokenStatus{CreditorID: c.Sub, ExternalTenantID: c.Ext, PartnerID: c.PID, ExpiresAt: exp}
	if !now.Before(exp) {
		st.HTTPStatus, st.Reason = http.StatusUnauthorized, "expired"
		return st
	}
	l := b.st.Links[c.LID]
	if l == nil || l.Archived || l.cred == nil {
		st.HTTPStatus, st.Reason = http.StatusUnauthorized, "link_archived"
		return st
	}
	for _, rot := range l.Rotations {
		if c.Seq < rot.BeforeSeq && !now.Before(rot.NotAfter) {
			st.HTTPStatus, st.Reason = http.StatusUnauthorized, "revoked"
			return st
		}
	}
	if l.Suspended {
		st.HTTPStatus, st.Reason = http.StatusForbidden, "suspended"
		return st
	}
	st.Valid, st.HTTPStatus, st.Reason = true, http.StatusOK, "ok"
	return st
}

// whoami is the mock's stand-in for the Customer API: GET /customer-api/whoami with
// "Authorization: Bearer <accessToken>".
func (b *Backend) whoami(w http.ResponseWriter, r *http.Request, ce *call) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if h != "" && (!ok || !strings.EqualFold(scheme, "Bearer")) {
		tok = "x" // anything that is not a bearer token is malformed
	}
	st := b.CheckToken(strings.TrimSpace(tok))
	ce.partner = nil
	switch st.HTTPStatus {
	case http.StatusOK:
		writeJSON(w, http.StatusOK, map[string]string{"creditorId": st.CreditorID, "externalTenantId": st.ExternalTenantID})
	case http.StatusForbidden:
		writeAPIError(w, http.StatusForbidden, "ClientSuspended", "The client is suspended.")
	default:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+st.Reason+`"`)
		writeAPIError(w, http.StatusUnauthorized, "Unauthorized", "The bearer token is missing or invalid ("+st.Reason+").")
	}
}
