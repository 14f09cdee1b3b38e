package settingshttp_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/alertmail/alertmail/alerts"
	"github.com/alertmail/alertmail/alerts/settingshttp"
)

// A host mounts the handler behind its own authentication, which tells the
// handler the tenant; two clients save from the same version, and the
// second is told so.
func Example() {
	store := alerts.NewMemorySettingsStore(nil)
	h, err := settingshttp.New(settingshttp.Config{
		Store: store, // or the host's *alerts.Dispatcher, so that saves drop queued alerts
		Tenant: func(r *http.Request) (string, error) {
			return "acme", nil // the host's session says which tenant is signed in
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/alerts/", http.StripPrefix("/alerts", h)) // the page is /alerts/
	srv := httptest.NewServer(mux)
	defer srv.Close()

	call := func(method, body, ifMatch string) {
		req, _ := http.NewRequest(method, srv.URL+"/alerts/api/settings", strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		fmt.Printf("%s: %d, ETag %s\n%s", method, res.StatusCode, res.Header.Get("ETag"), b)
	}
	call("GET", "", "")
	call("PUT", `{"categories": {"threat": true}}`, `"0"`)
	call("PUT", `{"categories": {"configuration": true}}`, `"0"`) // a second client, from version 0
	// Output:
	// GET: 200, ETag "0"
	// {"tenant":"acme","version":0,"categories":{"active-threat":true,"configuration":false,"system-status":true,"threat":false},"recipients":[]}
	// PUT: 200, ETag "1"
	// {"tenant":"acme","version":1,"categories":{"active-threat":true,"configuration":false,"system-status":true,"threat":true},"recipients":[]}
	// PUT: 412, ETag "1"
	// {"type":"https://pkg.go.dev/github.com/alertmail/alertmail/alerts/settingshttp#ProblemConflict","title":"Changed by someone else","status":412,"detail":"The settings were saved by someone else since version 0 was loaded: version 1 is stored now. Load them again and re-apply the edit.","baseVersion":0,"currentVersion":1}
}
