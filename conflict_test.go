package debitura

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestConflictErrors(t *testing.T) {
	t.Parallel()
	const approval = "https://app.debitura.com/ReferralPartner/Approve?token=abc123"
	tests := []struct {
		name string
		req  func() *apiRequest
		body string
		// want is the *ConflictError (Err ignored); nil: a plain *APIError.
		want *ConflictError
		// kind is the specific type expected: "needsLinking", "otherPartner" or "".
		kind string
	}{
		{
			name: "ClientExistsNeedsLinking",
			req:  opCreate,
			body: `{"type":"ClientExistsNeedsLinking","message":"Client already exists in Debitura. Approval required to link to referral partner.","data":{"externalTenantId":"t-1","onboardingLinks":{"url":"` + approval + `"},"isAttributedClient":false}}`,
			want: &ConflictError{Type: ClientExistsNeedsLinking, Message: "Client already exists in Debitura. Approval required to link to referral partner.",
				ExternalTenantID: "t-1", ApprovalURL: approval,
				Data: json.RawMessage(`{"externalTenantId":"t-1","onboardingLinks":{"url":"` + approval + `"},"isAttributedClient":false}`)},
			kind: "needsLinking",
		},
		{
			name: "ClientAlreadyLinkedToAnotherPartner",
			req:  opCreate,
			body: `{"type":"ClientAlreadyLinkedToAnotherPartner","message":"Client is linked to another partner. Contact support.","data":{"externalTenantId":"t-1"}}`,
			want: &ConflictError{Type: ClientAlreadyLinkedToAnotherPartner, Message: "Client is linked to another partner. Contact support.",
				ExternalTenantID: "t-1", Data: json.RawMessage(`{"externalTenantId":"t-1"}`)},
			kind: "otherPartner",
		},
		{
			name: "AlreadyLinkedToAnotherPartner PascalCase without data",
			req:  opCreate,
			body: `{"Type":"AlreadyLinkedToAnotherPartner","Message":"Linked elsewhere"}`,
			want: &ConflictError{Type: AlreadyLinkedToAnotherPartner, Message: "Linked elsewhere"},
			kind: "otherPartner",
		},
		{
			name: "PascalCase data",
			req:  opCreate,
			body: `{"Type":"ClientExistsNeedsLinking","Message":"Approval required","Data":{"ExternalTenantId":"t-1","OnboardingLinks":{"Url":"` + approval + `"}}}`,
			want: &ConflictError{Type: ClientExistsNeedsLinking, Message: "Approval required", ExternalTenantID: "t-1", ApprovalURL: approval,
				Data: json.RawMessage(`{"ExternalTenantId":"t-1","OnboardingLinks":{"Url":"` + approval + `"}}`)},
			kind: "needsLinking",
		},
		{
			name: "InvalidClientType with null data",
			req:  opCreate,
			body: `{"type":"InvalidClientType","message":"The matched account is not a creditor","data":null}`,
			want: &ConflictError{Type: InvalidClientType, Message: "The matched account is not a creditor"},
		},
		{
			name: "unknown type kept verbatim",
			req:  opCreate,
			body: `{"type":"SomethingNew","message":"New conflict","data":{"x":1}}`,
			want: &ConflictError{Type: "SomethingNew", Message: "New conflict", Data: json.RawMessage(`{"x":1}`)},
		},
		{
			name: "wrapped conflictResponse",
			req:  opCreate,
			body: `{"conflictResponse":{"type":"ClientExistsNeedsLinking","message":"Approval required","data":{"externalTenantId":"t-1","onboardingLinks":{"url":"` + approval + `"}}}}`,
			want: &ConflictError{Type: ClientExistsNeedsLinking, Message: "Approval required", ExternalTenantID: "t-1", ApprovalURL: approval,
				Data: json.RawMessage(`{"externalTenantId":"t-1","onboardingLinks":{"url":"` + approval + `"}}`)},
			kind: "needsLinking",
		},
		{
			name: "legacy conflict_error",
			req:  opCreate,
			body: `{"error":{"type":"conflict_error","message":"Client exists","conflict_type":"existing_client","details":{"client_id":"c-1"}}}`,
			want: &ConflictError{Type: "existing_client", Message: "Client exists", Data: json.RawMessage(`{"client_id":"c-1"}`)},
		},
		{
			name: "withdraw 409 is not a link conflict",
			req:  opWithdraw,
			body: `{"error":"Client is not attributed","message":"Client is not attributed","businessErrors":null}`,
		},
		{
			name: "POST /clients 409 without a conflict body",
			req:  opCreate,
			body: `{"error":"Conflict","message":"Conflict"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, h := setup(t)
			h.script(status(409, tt.body))
			r := tt.req()
			_, err := c.do(t.Context(), r, nil)
			if r.op == "postClients" {
				err = linkConflict(err, testAPIKey) // what Clients.Create does with do's error
			}

			var apiErr *APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, ErrConflict) || apiErr.StatusCode != 409 {
				t.Fatalf("do() = %v, want an error reaching a 409 *APIError and ErrConflict", err)
			}
			var ce *ConflictError
			isConflict := errors.As(err, &ce)
			if tt.want == nil {
				if isConflict {
					t.Errorf("do() = %T, want a plain *APIError", err)
				}
				return
			}
			if !isConflict {
				t.Fatalf("do() = %T %v, want a *ConflictError", err, err)
			}
			if ce.Err != apiErr {
				t.Errorf("ConflictError.Err = %p, want the unwrapped *APIError %p", ce.Err, apiErr)
			}
			if diff := cmp.Diff(tt.want, ce, cmpopts.IgnoreFields(ConflictError{}, "Err")); diff != "" {
				t.Errorf("ConflictError (-want +got):\n%s", diff)
			}
			if err.Error() != apiErr.Error() {
				t.Errorf("Error() = %q, want the APIError's %q", err.Error(), apiErr.Error())
			}
			var nl *ClientExistsNeedsLinkingError
			var op *AlreadyLinkedToAnotherPartnerError
			gotKind := ""
			switch {
			case errors.As(err, &nl):
				gotKind = "needsLinking"
				if nl.ApprovalURL != tt.want.ApprovalURL || nl.ExternalTenantID != tt.want.ExternalTenantID || nl.Err != ce {
					t.Errorf("ClientExistsNeedsLinkingError = %+v, want URL %q, tenant %q", nl, tt.want.ApprovalURL, tt.want.ExternalTenantID)
				}
			case errors.As(err, &op):
				gotKind = "otherPartner"
				if op.ExternalTenantID != tt.want.ExternalTenantID || op.Err != ce {
					t.Errorf("AlreadyLinkedToAnotherPartnerError = %+v, want tenant %q", op, tt.want.ExternalTenantID)
				}
			}
			if gotKind != tt.kind {
				t.Errorf("specific error kind = %q, want %q", gotKind, tt.kind)
			}
		})
	}
}
