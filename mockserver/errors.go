package mockserver

import (
	"encoding/json"
	"net/http"
)

// Error bodies. Every error the mock produces on the Referral Partner API is an
// ApiErrorResponseDto (the published spec's declared shape) except three documented ones: the
// 409 ConflictResponse of POST /clients, the 429 rate-limit body, and ASP.NET's
// ValidationProblemDetails for a body that is not valid JSON of the right shape.

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeRaw(w, status, "application/json; charset=utf-8", body)
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func apiErrorBody(typ, message string) wireAPIError {
	return wireAPIError{
		Error:          strp(message),
		Message:        strp(message),
		BusinessErrors: []wireBusinessError{{Type: strp(typ), Message: strp(message)}},
	}
}

// writeAPIError writes an ApiErrorResponseDto whose error and message carry message and whose
// businessErrors[0].type is typ.
func writeAPIError(w http.ResponseWriter, status int, typ, message string) {
	writeJSON(w, status, apiErrorBody(typ, message))
}

// writeValidation writes a 400 ApiErrorResponseDto for field-level validation errors: error and
// message carry the first message, businessErrors one entry (type "ValidationError") per message.
func writeValidation(w http.ResponseWriter, msgs []string) {
	body := wireAPIError{Error: strp(msgs[0]), Message: strp(msgs[0])}
	for _, m := range msgs {
		body.BusinessErrors = append(body.BusinessErrors, wireBusinessError{Type: strp("ValidationError"), Message: strp(m)})
	}
	writeJSON(w, http.StatusBadRequest, body)
}

// writeProblem writes ASP.NET's ValidationProblemDetails, which Debitura returns for malformed
// JSON, type mismatches and unknown members.
func writeProblem(w http.ResponseWriter, traceID string, errs map[string][]string) {
	body := wireProblem{
		Type:    "https://tools.ietf.org/html/rfc9110#section-15.5.1",
		Title:   "One or more validation errors occurred.",
		Status:  http.StatusBadRequest,
		Errors:  errs,
		TraceID: traceID,
	}
	b, _ := json.Marshal(body)
	writeRaw(w, http.StatusBadRequest, "application/problem+json; charset=utf-8", b)
}

func writeNotFound(w http.ResponseWriter, message string) {
	writeAPIError(w, http.StatusNotFound, "NotFound", message)
}

const msgNoActiveLink = "No active client link found for this externalTenantId"
