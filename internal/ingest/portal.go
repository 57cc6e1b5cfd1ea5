package ingest

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// The tenant portal: server-rendered pages under /portal/, served by
// ingest itself so that there is nothing else to deploy or run, and so
// that its actions call the very code the API handlers do. A SaaS company
// asks the API for a one-time link (portal-sessions); opening it starts a
// session cookie scoped to one tenant.

//go:embed portal
var portalFiles embed.FS

// portalPages are the page templates, each parsed with the layout.
var portalPages = map[string]*template.Template{
	"endpoints":   parsePortalPage("endpoints.html"),
	"endpoint":    parsePortalPage("endpoint.html"),
	"error":       parsePortalPage("error.html"),
	"events":      parsePortalPage("events.html"),
	"event":       parsePortalPage("event.html"),
	"deadletters": parsePortalPage("deadletters.html"),
	"replay":      parsePortalPage("replay.html"),
	"apikeys":     parsePortalPage("apikeys.html"),
	"eventtypes":  parsePortalPage("eventtypes.html"),
	"sources":     parsePortalPage("sources.html"),
	"metrics":     parsePortalPage("metrics.html"),
}

func parsePortalPage(name string) *template.Template {
	return template.Must(template.New(name).Funcs(portalFuncs).ParseFS(portalFiles, "portal/layout.html", "portal/"+name))
}

func (s *Service) portalSessionRoutes() []route {
	return []route{
		{"POST /v1/tenants/{tenant}/portal-sessions", s.createPortalSession},
	}
}

type createPortalSessionRequest struct {
	// TTL is how long the link may wait to be opened (default 1h, at most
	// 24h).
	TTL hookrun.Duration `json:"ttl"`
}

type createPortalSessionResponse struct {
	URL        string    `json:"url"`
	ExpireTime time.Time `json:"expire_time"`
}

// createPortalSession handles POST /v1/tenants/{tenant}/portal-sessions:
// a link that opens the tenant's portal once. The URL's origin is the one
// the request reached, so a link made through the local stack or the
// service's own URL points there.
func (s *Service) createPortalSession(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	var req createPortalSessionRequest
	if r.ContentLength != 0 {
		if err := httpapi.DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			return err
		}
	}
	path, link, err := s.newPortalLink(r.Context(), t, req.TTL)
	if err != nil {
		return err
	}
	scheme := "http"
	if isHTTPS(r) {
		scheme = "https"
	}
	httpapi.WriteJSON(w, http.StatusCreated, createPortalSessionResponse{
		URL:        scheme + "://" + r.Host + path,
		ExpireTime: link.ExpireTime,
	})
	return nil
}

// newPortalLink stores a one-time link into t's portal and returns its
// path (/portal/open?token=…): what POST …/portal-sessions and the
// console's "Open portal" both do. The token goes in the query, which the
// request log leaves out.
func (s *Service) newPortalLink(ctx context.Context, t hookrun.Tenant, ttl hookrun.Duration) (string, hookrun.PortalLink, error) {
	if t.Status == hookrun.TenantDeleting {
		return "", hookrun.PortalLink{}, errTenantDeleting(t.ID)
	}
	token, link, err := hookrun.NewPortalLink(t.ID, ttl, s.now())
	if err != nil {
		return "", hookrun.PortalLink{}, err
	}
	if err := s.store.CreatePortalLink(ctx, link); err != nil {
		return "", hookrun.PortalLink{}, err
	}
	return "/portal/open?token=" + token, link, nil
}

// portalHandler serves /portal/: every response carries the portal's
// security headers, and unsafe requests from another origin are refused
// (net/http's CrossOriginProtection, by Sec-Fetch-Site or Origin) before
// the per-session CSRF token is even checked.
func (s *Service) portalHandler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(portalFiles, "portal/static")
	mux.Handle("GET /portal/static/", http.StripPrefix("/portal/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /portal/open", s.openPortal)
	mux.HandleFunc("GET /portal/tenants/{tenant}/endpoints", s.portalPage(s.portalEndpoints))
	mux.HandleFunc("POST /portal/tenants/{tenant}/endpoints", s.portalPage(s.portalCreateEndpoint))
	mux.HandleFunc("POST /portal/tenants/{tenant}/endpoints/{endpoint}/enabled", s.portalPage(s.portalSetEnabled))
	mux.HandleFunc("GET /portal/tenants/{tenant}/events", s.portalPage(s.portalEvents))
	mux.HandleFunc("GET /portal/tenants/{tenant}/events/{event}", s.portalPage(s.portalEvent))
	mux.HandleFunc("POST /portal/tenants/{tenant}/events/{event}/redeliver", s.portalPage(s.portalRedeliver))
	mux.HandleFunc("GET /portal/tenants/{tenant}/dead-letters", s.portalPage(s.portalDeadLetters))
	mux.HandleFunc("POST /portal/tenants/{tenant}/dead-letters/replay", s.portalPage(s.portalReplayMatching))
	mux.HandleFunc("POST /portal/tenants/{tenant}/dead-letters/{id}/replay", s.portalPage(s.portalReplayDeadLetter))
	mux.HandleFunc("GET /portal/tenants/{tenant}/replays/{replay}", s.portalPage(s.portalReplay))
	mux.HandleFunc("GET /portal/tenants/{tenant}/api-keys", s.portalPage(s.portalAPIKeys))
	mux.HandleFunc("POST /portal/tenants/{tenant}/api-keys", s.portalPage(s.portalCreateAPIKey))
	mux.HandleFunc("GET /portal/tenants/{tenant}/api-keys/{key}/revoke", s.portalPage(s.portalConfirmRevoke))
	mux.HandleFunc("POST /portal/tenants/{tenant}/api-keys/{key}/revoke", s.portalPage(s.portalRevokeAPIKey))
	mux.HandleFunc("GET /portal/tenants/{tenant}/event-types", s.portalPage(s.portalCatalogue))
	mux.HandleFunc("POST /portal/tenants/{tenant}/event-types", s.portalPage(s.portalSetCatalogue))
	mux.HandleFunc("GET /portal/tenants/{tenant}/source-bindings", s.portalPage(s.portalSources))
	mux.HandleFunc("POST /portal/tenants/{tenant}/source-bindings", s.portalPage(s.portalCreateSource))
	mux.HandleFunc("GET /portal/tenants/{tenant}/source-bindings/{binding}/delete", s.portalPage(s.portalConfirmDeleteSource))
	mux.HandleFunc("POST /portal/tenants/{tenant}/source-bindings/{binding}/delete", s.portalPage(s.portalDeleteSource))
	mux.HandleFunc("GET /portal/tenants/{tenant}/endpoints/{endpoint}", s.portalPage(s.portalEndpoint))
	mux.HandleFunc("GET /portal/tenants/{tenant}/metrics", s.portalPage(s.portalMetrics))
	mux.HandleFunc("POST /portal/tenants/{tenant}/endpoints/{endpoint}/settings", s.portalPage(s.portalEditEndpoint))
	mux.HandleFunc("POST /portal/tenants/{tenant}/endpoints/{endpoint}/verify", s.portalPage(s.portalVerifyEndpoint))
	mux.HandleFunc("POST /portal/tenants/{tenant}/endpoints/{endpoint}/rotate", s.portalPage(s.portalRotateSecret))
	mux.HandleFunc("POST /portal/tenants/{tenant}/endpoints/{endpoint}/test", s.portalPage(s.portalTestEvent))
	mux.HandleFunc("/portal/", func(w http.ResponseWriter, r *http.Request) {
		s.portalError(w, r, hookrun.Errorf(hookrun.CodeNotFound, "there is no such page in the portal"))
	})
	return s.pageHandler(mux, s.portalError)
}

// pageHandler serves the pages of mux (the portal's or the console's)
// with their security headers, refusing cross-origin form posts with
// errCrossOrigin on a page fail renders.
func (s *Service) pageHandler(mux http.Handler, fail func(http.ResponseWriter, *http.Request, error)) http.Handler {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fail(w, r, errCrossOrigin) }))
	return s.portalHeaders(csrf.Handler(mux))
}

var errCrossOrigin = hookrun.Errorf(hookrun.CodePermissionDenied, "this form did not come from the portal itself: reload the page and try again")

// portalHeaders sets the headers of every portal response: a strict CSP
// (scripts and styles from the portal's own static files only, never
// inline; forms post to the portal only),
// frame-ancestors from Config.PortalFrameAncestors, no referrer (a URL
// never leaks to a receiver's page), and no caching of tenant data.
func (s *Service) portalHeaders(next http.Handler) http.Handler {
	ancestors := "'none'"
	if len(s.frameAncestors) > 0 {
		ancestors = strings.Join(s.frameAncestors, " ")
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors " + ancestors
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		if len(s.frameAncestors) == 0 {
			h.Set("X-Frame-Options", "DENY") // for browsers older than frame-ancestors
		}
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// openPortal handles GET /portal/open?token=…: it claims the link, which
// works once, and exchanges it for a session cookie. A used or expired
// link is 410 Gone, an unknown one 404; neither starts a session.
func (s *Service) openPortal(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if !strings.HasPrefix(token, hookrun.PortalTokenPrefix) {
		s.portalError(w, r, errUnknownPortalLink)
		return
	}
	link, err := s.store.ClaimPortalLink(r.Context(), hookrun.HashPortalToken(token))
	if hookrun.ErrorCode(err) == hookrun.CodeNotFound {
		err = errUnknownPortalLink
	}
	if err != nil {
		s.portalError(w, r, err)
		return
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("tenant_id", link.TenantID))
	if err := link.Open(s.now()); err != nil {
		s.renderPortal(w, r, http.StatusGone, "error", portalErrorView{Title: "This link cannot be opened", Message: hookrun.ErrorMessage(err)})
		return
	}
	if _, err := s.tenant(r.Context(), link.TenantID); err != nil {
		s.portalError(w, r, err)
		return
	}
	http.SetCookie(w, s.sessionCookie(r, newPortalSession(link.TenantID, s.now())))
	http.Redirect(w, r, "/portal/tenants/"+link.TenantID+"/endpoints", http.StatusSeeOther)
}

var errUnknownPortalLink = hookrun.Errorf(hookrun.CodeNotFound, "this portal link is not known: check that it was copied whole, or ask for a new one")

// portalRequest is what a portal page gets once its session is checked.
type portalRequest struct {
	session portalSession
	tenant  hookrun.Tenant
	csrf    string
}

// portalPage checks a page's request before h runs: a valid session, for
// the tenant of the URL (another tenant's URL is 403, whatever the
// session), and on POST the form's CSRF token.
func (s *Service) portalPage(h func(http.ResponseWriter, *http.Request, portalRequest) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.requestSession(r)
		if !ok {
			s.portalError(w, r, errNoPortalSession)
			return
		}
		if sess.TenantID != r.PathValue("tenant") {
			s.portalError(w, r, hookrun.Errorf(hookrun.CodePermissionDenied, "this portal session is for another tenant: open that tenant's portal link instead"))
			return
		}
		httpapi.AddLogAttrs(r.Context(), slog.String("tenant_id", sess.TenantID))
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
			if !s.portal.checkCSRF(sess, r) {
				s.portalError(w, r, errCrossOrigin)
				return
			}
		}
		t, err := s.tenant(r.Context(), sess.TenantID)
		if err != nil {
			s.portalError(w, r, err)
			return
		}
		if err := h(w, r, portalRequest{session: sess, tenant: t, csrf: s.portal.csrfToken(sess)}); err != nil {
			s.portalError(w, r, err)
		}
	}
}

// portalErrorView is the error page's data.
type portalErrorView struct {
	Tenant         *hookrun.Tenant
	Title, Message string
}

// portalError answers err as an HTML page with the status the API would
// give it (httpapi.Status). Uncoded errors are logged and shown as a
// generic message, as the API does.
func (s *Service) portalError(w http.ResponseWriter, r *http.Request, err error) {
	code := hookrun.ErrorCode(err)
	status := httpapi.Status(code)
	if status >= 500 {
		slog.ErrorContext(r.Context(), "portal request failed", "error", err.Error(), "method", r.Method, "path", r.URL.Path)
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("error_status", string(code)))
	s.renderPortal(w, r, status, "error", portalErrorView{Title: http.StatusText(status), Message: hookrun.ErrorMessage(err)})
}

// renderPortal renders a page. The page is rendered to memory first, so a
// template failure is a clean 500 rather than half a page.
func (s *Service) renderPortal(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	renderPage(w, r, status, portalPages[page], data)
}

// renderPage renders a portal or console page's layout with data.
func renderPage(w http.ResponseWriter, r *http.Request, status int, page *template.Template, data any) {
	var b strings.Builder
	if err := page.ExecuteTemplate(&b, "layout", data); err != nil {
		slog.ErrorContext(r.Context(), "render page", "page", page.Name(), "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}
