package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks that the OpenAPI document lists every
// route of the router, and nothing else, with the route's access.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Access      string `json:"x-reach-access"`
			Responses   map[string]any
		} `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	e := newEnv(t, nil)
	seen := map[string]bool{}
	for _, r := range e.srv.Routes() {
		op, ok := doc.Paths[r.Pattern][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", r.Method, r.Pattern)
			continue
		}
		if op.Access != r.Access.String() {
			t.Errorf("%s %s: openapi.json says access %q, the router %q", r.Method, r.Pattern, op.Access, r.Access)
		}
		if op.OperationID == "" || len(op.Responses) == 0 {
			t.Errorf("%s %s: no operationId or responses", r.Method, r.Pattern)
		}
		seen[strings.ToLower(r.Method)+" "+r.Pattern] = true
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !seen[m+" "+p] {
				t.Errorf("openapi.json lists %s %s, which the router does not serve", strings.ToUpper(m), p)
			}
		}
	}
	// The served document is the embedded one.
	r := e.anon().do("GET", "/api/v1/openapi.json", nil).want(t, "openapi.json", 200)
	if string(r.body) != string(OpenAPI()) || r.header.Get("Content-Type") != "application/json" {
		t.Error("served document differs from the embedded one")
	}
}
