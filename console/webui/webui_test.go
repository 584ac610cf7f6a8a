package webui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"assets/index.html":  {Data: []byte(`<!doctype html><link rel="stylesheet" href="console.css"><script type="module" src="console.js"></script>`)},
		"assets/console.js":  {Data: []byte(`console.log("reach")`)},
		"assets/console.css": {Data: []byte(`body{}`)},
	}
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestServe(t *testing.T) {
	s, err := newServer(testFS(), Options{RelayURL: "wss://relay.example.com:8443/v1/technician"})
	if err != nil {
		t.Fatal(err)
	}
	index := get(t, s, "GET", "/", nil).Body.String()
	m := regexp.MustCompile(`"/console\.js\?v=([0-9a-f]{16})"`).FindStringSubmatch(index)
	if m == nil || !strings.Contains(index, `"/console.css?v=`) {
		t.Fatalf("index does not reference hashed assets: %s", index)
	}
	tests := []struct {
		name, method, path string
		status             int
		ctype, cache, body string
	}{
		{"index", "GET", "/", 200, "text/html; charset=utf-8", "no-cache", "<!doctype html>"},
		{"app route", "GET", "/tickets/42", 200, "text/html; charset=utf-8", "no-cache", "<!doctype html>"},
		{"deep app route", "GET", "/admin/users", 200, "text/html; charset=utf-8", "no-cache", "<!doctype html>"},
		{"hashed asset", "GET", "/console.js?v=" + m[1], 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", `console.log`},
		{"unversioned asset", "GET", "/console.css", 200, "text/css; charset=utf-8", "no-cache", "body{}"},
		{"unknown file", "GET", "/secret.env", 404, "", "no-store", ""},
		{"api is not the app", "GET", "/api/v1/nothing", 404, "", "no-store", ""},
		{"agent api is not the app", "GET", "/agent/v1/x", 404, "", "no-store", ""},
		{"relay is not the app", "GET", "/v1/technician", 404, "", "no-store", ""},
		{"healthz is not the app", "GET", "/healthz", 404, "", "no-store", ""},
		{"post", "POST", "/", 405, "", "", ""},
		{"head", "HEAD", "/devices", 200, "text/html; charset=utf-8", "no-cache", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(t, s, tc.method, tc.path, nil)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.ctype != "" && rec.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("content type %q", rec.Header().Get("Content-Type"))
			}
			if tc.cache != "" && rec.Header().Get("Cache-Control") != tc.cache {
				t.Errorf("cache control %q, want %q", rec.Header().Get("Cache-Control"), tc.cache)
			}
			if !strings.HasPrefix(rec.Body.String(), tc.body) {
				t.Errorf("body %q", rec.Body.String())
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self';", "connect-src 'self' wss://relay.example.com:8443;", "frame-ancestors 'none'", "object-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows inline code or eval: %q", csp)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Errorf("missing nosniff or frame headers")
			}
		})
	}
}

func TestConditionalGet(t *testing.T) {
	s, err := newServer(testFS(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := get(t, s, "GET", "/console.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if rec := get(t, s, "GET", "/console.js", map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", rec.Code)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		ok   bool
	}{
		{Options{}, true},
		{Options{RelayURL: "ws://127.0.0.1:8080"}, true},
		{Options{RelayURL: "javascript:alert(1)"}, false},
		{Options{RelayURL: "wss://"}, false},
		{Options{ConnectSources: []string{"https://relay2.example"}}, true},
		{Options{ConnectSources: []string{"*"}}, false},
	} {
		if _, err := newServer(testFS(), tc.opts); (err == nil) != tc.ok {
			t.Errorf("%+v: err %v", tc.opts, err)
		}
	}
	broken := testFS()
	delete(broken, "assets/console.js")
	if _, err := newServer(broken, Options{}); err == nil {
		t.Error("a bundle without its script was accepted")
	}
}

// TestEmbeddedBundle checks the committed bundle: it loads and its page
// has no inline script or style for the CSP to refuse.
func TestEmbeddedBundle(t *testing.T) {
	h, err := Handler(Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(page) || strings.Contains(page, "<style") || strings.Contains(page, " style=") || strings.Contains(page, " on") && regexp.MustCompile(`\son[a-z]+=`).MatchString(page) {
		t.Errorf("index.html has inline script or style:\n%s", page)
	}
	for _, name := range []string{"console.js", "console.css"} {
		resp, err := http.Get(srv.URL + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 100 {
			t.Errorf("%s: %d, %d bytes", name, resp.StatusCode, n)
		}
	}
}
