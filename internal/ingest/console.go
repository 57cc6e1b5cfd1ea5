package ingest

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// The operator console: server-rendered pages under /console/, in the
// portal's style (its stylesheet, CSP, CSRF tokens and cookie signing),
// for whoever holds the admin token. Signing in exchanges the admin token
// for a signed, expiring session cookie; the token itself is never kept.
// Every action calls what the admin API's handlers call.

// consoleCookieName names the console's session cookie, scoped to
// /console/ so neither the API nor the portal ever receives it.
const consoleCookieName = "hookrun_console"

//go:embed console
var consoleFiles embed.FS

// consolePages are the console's templates, each parsed with its layout.
var consolePages = map[string]*template.Template{
	"signin":       parseConsolePage("signin.html"),
	"error":        parseConsolePage("error.html"),
	"tenants":      parseConsolePage("tenants.html"),
	"tenant":       parseConsolePage("tenant.html"),
	"rejected":     parseConsolePage("rejected.html"),
	"system":       parseConsolePage("system.html"),
	"producerkeys": parseConsolePage("producerkeys.html"),
}

func parseConsolePage(name string) *template.Template {
	return template.Must(template.New(name).Funcs(portalFuncs).ParseFS(consoleFiles, "console/layout.html", "console/"+name))
}

// consoleHandler serves /console/ behind the portal's headers and
// cross-origin protection.
func (s *Service) consoleHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/{$}", s.consoleHome)
	mux.HandleFunc("POST /console/sign-in", s.consoleSignIn)
	mux.HandleFunc("POST /console/sign-out", s.consolePage(s.consoleSignOut))
	mux.HandleFunc("GET /console/tenants", s.consolePage(s.consoleTenants))
	mux.HandleFunc("POST /console/tenants", s.consolePage(s.consoleCreateTenant))
	mux.HandleFunc("GET /console/tenants/{tenant}", s.consolePage(s.consoleTenant))
	mux.HandleFunc("POST /console/tenants/{tenant}/status", s.consolePage(s.consoleSetStatus))
	mux.HandleFunc("POST /console/tenants/{tenant}/limits", s.consolePage(s.consoleSetLimits))
	mux.HandleFunc("POST /console/tenants/{tenant}/portal", s.consolePage(s.consoleOpenPortal))
	mux.HandleFunc("GET /console/producer-keys", s.consolePage(s.consoleProducerKeys))
	mux.HandleFunc("POST /console/producer-keys", s.consolePage(s.consoleCreateProducerKey))
	mux.HandleFunc("GET /console/producer-keys/{key}/revoke", s.consolePage(s.consoleConfirmRevokeProducer))
	mux.HandleFunc("POST /console/producer-keys/{key}/revoke", s.consolePage(s.consoleRevokeProducer))
	mux.HandleFunc("GET /console/rejected-messages", s.consolePage(s.consoleRejected))
	mux.HandleFunc("GET /console/system", s.consolePage(s.consoleSystem))
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		s.consoleError(w, r, hookrun.Errorf(hookrun.CodeNotFound, "there is no such page in the console"))
	})
	return s.pageHandler(mux, s.consoleError)
}

// consoleRequest is what a console page gets once its session is checked.
type consoleRequest struct {
	session portalSession
	csrf    string
}

// consoleView is what every console page's layout reads.
type consoleView struct {
	Title string
	// CSRF is the session's token; empty when signed out (the layout then
	// shows no navigation).
	CSRF string
	// Error is why the last action was refused.
	Error string
}

// consoleSession returns the request's console session if it has a valid
// one. A portal session, signed for another purpose, is not one.
func (s *Service) consoleSession(r *http.Request) (portalSession, bool) {
	c, err := r.Cookie(consoleCookieName)
	if err != nil {
		return portalSession{}, false
	}
	return s.portal.openFor(consolePurpose, c.Value, s.now())
}

// consoleCookie carries sess (or, with maxAge < 0, deletes it): HttpOnly,
// SameSite=Strict (the console is never linked to or embedded from
// elsewhere), Secure unless the request came over plain http.
func (s *Service) consoleCookie(r *http.Request, sess portalSession, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name: consoleCookieName, Path: "/console/", MaxAge: maxAge,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteStrictMode,
	}
	if maxAge > 0 {
		c.Value, c.Expires = s.portal.sealFor(consolePurpose, sess), sess.Expire
	}
	return c
}

// consolePage checks a page's request before h runs: a valid console
// session (else the sign-in page, 401), and on POST the form's CSRF token.
func (s *Service) consolePage(h func(http.ResponseWriter, *http.Request, consoleRequest) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.consoleSession(r)
		if !ok {
			s.renderConsole(w, r, http.StatusUnauthorized, "signin", consoleView{Title: "Sign in"})
			return
		}
		httpapi.AddLogAttrs(r.Context(), slog.String("caller", "admin"))
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
			if !s.portal.checkCSRF(sess, r) {
				s.consoleError(w, r, errCrossOrigin)
				return
			}
		}
		if err := h(w, r, consoleRequest{session: sess, csrf: s.portal.csrfToken(sess)}); err != nil {
			s.consoleError(w, r, err)
		}
	}
}

// consoleHome handles GET /console/: the tenants when signed in, else the
// sign-in form.
func (s *Service) consoleHome(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.consoleSession(r); ok {
		http.Redirect(w, r, "/console/tenants", http.StatusSeeOther)
		return
	}
	s.renderConsole(w, r, http.StatusOK, "signin", consoleView{Title: "Sign in"})
}

// consoleSignIn handles the sign-in form: the admin token, checked as the
// API checks it (isAdmin, in constant time). A tenant's API key is not the
// admin token, so it is refused like any other wrong token.
func (s *Service) consoleSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if !s.isAdmin(strings.TrimSpace(r.PostFormValue("admin_token"))) {
		httpapi.AddLogAttrs(r.Context(), slog.String("error_status", string(hookrun.CodeUnauthenticated)))
		s.renderConsole(w, r, http.StatusUnauthorized, "signin", consoleView{Title: "Sign in", Error: "That is not the admin token."})
		return
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("caller", "admin"))
	sess := newPortalSession("", s.now())
	http.SetCookie(w, s.consoleCookie(r, sess, int(portalSessionLifetime.Seconds())))
	http.Redirect(w, r, "/console/tenants", http.StatusSeeOther)
}

// consoleSignOut ends the session in this browser. The cookie is signed,
// not stored, so a copy of it stays valid until it expires.
func (s *Service) consoleSignOut(w http.ResponseWriter, r *http.Request, _ consoleRequest) error {
	http.SetCookie(w, s.consoleCookie(r, portalSession{}, -1))
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
	return nil
}

// consoleError answers err as the console's error page, with the status
// the API would give it.
func (s *Service) consoleError(w http.ResponseWriter, r *http.Request, err error) {
	code := hookrun.ErrorCode(err)
	status := httpapi.Status(code)
	if status >= 500 {
		slog.ErrorContext(r.Context(), "console request failed", "error", err.Error(), "method", r.Method, "path", r.URL.Path)
	}
	httpapi.AddLogAttrs(r.Context(), slog.String("error_status", string(code)))
	v := consoleView{Title: http.StatusText(status), Error: hookrun.ErrorMessage(err)}
	if sess, ok := s.consoleSession(r); ok {
		v.CSRF = s.portal.csrfToken(sess)
	}
	s.renderConsole(w, r, status, "error", v)
}

// renderConsole renders a console page.
func (s *Service) renderConsole(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	renderPage(w, r, status, consolePages[page], data)
}
