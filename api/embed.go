// Package api holds the API descriptions this module is built against and
// exports them as embedded bytes, so that tests (contract validation, the
// mock server) can load them without knowing where the repository lives.
//
// The files in this directory are byte-identical copies of the shared
// design documents (../shared/api relative to the repository root when that
// directory exists); TestCopiesMatchShared fails if they drift apart.
//
//   - openapi.yaml is the published Debitura Referral Partner API v1
//     (client-linking subset) in OpenAPI 3.0.
//   - guide-extension.openapi.yaml describes the legacy guide's extra
//     operations (update, profile, suspend, reactivate, rotate-token) that
//     the published API does not list.
//
// Both documents carry a top-level x-doc-derived-schemas extension holding
// shapes documented only in Debitura's guides; OpenAPI tooling ignores it.
package api

import _ "embed" // for go:embed

// OpenAPIFile is the file name of the published API description in this directory.
const OpenAPIFile = "openapi.yaml"

// GuideExtensionFile is the file name of the guide-extension description in this directory.
const GuideExtensionFile = "guide-extension.openapi.yaml"

// OpenAPI is the content of openapi.yaml: the published Debitura Referral
// Partner API v1 (client-linking subset). Treat it as read-only.
//
//go:embed openapi.yaml
var OpenAPI []byte

// GuideExtension is the content of guide-extension.openapi.yaml: the legacy
// guide's operations in the published API's conventions. Treat it as read-only.
//
//go:embed guide-extension.openapi.yaml
var GuideExtension []byte
