package mockserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKYCIdempotency(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	do(t, s, "POST", "/clients", key, newClient("k", "k@x.example", caseBody("c1", "DK")))
	kyc := `{"directorFullName":"Jane Director","directorHomeAddress":"1 Main St","directorDateOfBirth":"1980-02-03"}`
	reordered := "{\n \"directorDateOfBirth\": \"1980-02-03\", \"directorHomeAddress\":\"1 Main St\", \"directorFullName\":\"Jane Director\"}"

	r1 := do(t, s, "POST", "/clients/k/kyc-verification", key, kyc, "Idempotency-Key", "key-1")
	if r1.status != http.StatusCreated {
		t.Fatalf("KYC = %d %s", r1.status, r1.body)
	}
	var dto wireKYC
	r1.decode(t, &dto)
	if deref(dto.DirectorFullName) != "Jane Director" || dto.DirectorDateOfBirth != "1980-02-03" || dto.VerificationStatus != nil {
		t.Errorf("KYC body = %s", r1.body)
	}
	// Same key, same canonical body: replayed verbatim, no second effect.
	r2 := do(t, s, "POST", "/clients/k/kyc-verification", key, reordered, "Idempotency-Key", "key-1")
	if r2.status != r1.status || string(r2.body) != string(r1.body) {
		t.Errorf("replay = %d %s, want %d %s", r2.status, r2.body, r1.status, r1.body)
	}
	if n := s.EffectCount(EffectKYCRecorded); n != 1 {
		t.Errorf("kyc.recorded = %d, want 1", n)
	}
	if n := s.EffectCount(EffectChatMessage); n != 1 {
		t.Errorf("chat messages = %d, want 1 (one active case)", n)
	}
	// Same key, different body: 422 IdempotencyConflict.
	r3 := do(t, s, "POST", "/clients/k/kyc-verification", key, strings.Replace(kyc, "Jane", "John", 1), "Idempotency-Key", "key-1")
	var e wireAPIError
	r3.decode(t, &e)
	if r3.status != 422 || len(e.BusinessErrors) == 0 || deref(e.BusinessErrors[0].Type) != "IdempotencyConflict" {
		t.Errorf("conflict = %d %s, want 422 IdempotencyConflict", r3.status, r3.body)
	}
	// The key is scoped per partner: another partner may use it.
	// A 400 is not stored: fix the body, retry with the same key.
	bad := `{"directorFullName":"","directorHomeAddress":"x","directorDateOfBirth":"1980-02-03"}`
	if r := do(t, s, "POST", "/clients/k/kyc-verification", key, bad, "Idempotency-Key", "key-2"); r.status != 400 {
		t.Errorf("bad KYC = %d, want 400", r.status)
	}
	if r := do(t, s, "POST", "/clients/k/kyc-verification?sendChatNotification=false", key, kyc, "Idempotency-Key", "key-2"); r.status != 201 {
		t.Errorf("fixed KYC with the same key = %d %s, want 201", r.status, r.body)
	}
	if n := s.EffectCount(EffectChatMessage); n != 1 {
		t.Errorf("chat messages = %d, want still 1 (sendChatNotification=false)", n)
	}
	if r := do(t, s, "POST", "/clients/k/kyc-verification", key, kyc, "Idempotency-Key", strings.Repeat("k", 256)); r.status != 400 {
		t.Errorf("256-char key = %d, want 400", r.status)
	}
	if r := do(t, s, "POST", "/clients/nobody/kyc-verification", key, kyc); r.status != 404 {
		t.Errorf("KYC unknown client = %d, want 404", r.status)
	}
	// The latest submission is used, and shows on the client.
	got := do(t, s, "GET", "/clients/k", key, nil).json(t)
	if got["kycStatus"] != "pending" || str(got, "kycVerification", "directorFullName") != "Jane Director" {
		t.Errorf("client kyc = %v / %v", got["kycStatus"], got["kycVerification"])
	}
	if err := s.SetKYCVerificationStatus(key, "k", "Completed"); err != nil {
		t.Fatal(err)
	}
	if got := do(t, s, "GET", "/clients/k", key, nil).json(t); got["kycStatus"] != "verified" || str(got, "kycVerification", "verificationStatus") != "Completed" {
		t.Errorf("after review kycStatus = %v", got["kycStatus"])
	}
	if diff := cmp.Diff(1, s.Count(OpGetClient)-1); diff != "" {
		t.Errorf("count (-want +got):\n%s", diff)
	}
}
