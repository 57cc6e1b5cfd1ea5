package ingest

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/hookrun/hookrun/internal/hookrun"
	"github.com/hookrun/hookrun/internal/httpapi"
)

// replayJSON is a replay as GET …/replays/{replay} shows it, shaped like
// Google's long-running operations: a resource name, and done once it
// will change no more (the delivered, retrying and dead counts go on
// following the retries of its chain).
type replayJSON struct {
	Name string `json:"name"`
	Done bool   `json:"done"`
	hookrun.Replay
}

func replayResource(rp hookrun.Replay) replayJSON {
	return replayJSON{Name: "tenants/" + rp.TenantID + "/replays/" + rp.ID, Done: rp.Done(), Replay: rp}
}

// getReplay handles GET /v1/tenants/{tenant}/replays/{replay}: the state
// and counts of a replay of dead letters. A tenant's key reads only its
// own replays: another tenant's ID is not found.
func (s *Service) getReplay(w http.ResponseWriter, r *http.Request) error {
	t, err := s.tenantRoute(r)
	if err != nil {
		return err
	}
	id := r.PathValue("replay")
	httpapi.AddLogAttrs(r.Context(), slog.String("replay_id", id))
	rp, err := s.store.GetReplay(r.Context(), t.ID, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, replayResource(rp))
	return nil
}

// failReplay records that replay rp failed for reason, whatever happens
// to the request; a record left running is a replay that never ends, so a
// failure to record it is logged.
func (s *Service) failReplay(r *http.Request, rp hookrun.Replay, reason string) {
	ctx := context.WithoutCancel(r.Context())
	now := s.now()
	_, err := s.store.UpdateReplay(ctx, rp.TenantID, rp.ID, func(rp hookrun.Replay) hookrun.Replay { return rp.Finished(now, reason) })
	if err != nil {
		slog.ErrorContext(ctx, "record a replay that will not run as failed", "tenant_id", rp.TenantID, "replay_id", rp.ID, "error", err.Error())
	}
}
