package api

import (
	"net/http"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/kpi"
)

func (s *Server) kpis(w http.ResponseWriter, r *http.Request, _ *principal) error {
	q := query{r: r}
	kq := kpi.Query{Period: console.Period{From: q.time("from"), To: q.time("to")}, Bucket: kpi.Bucket(q.str("bucket", 10)),
		TimeZone: q.str("tz", 64), TechnicianID: q.int("technician_id"), TeamID: q.int("team_id"), Now: s.now()}
	if q.err != nil {
		return q.err
	}
	rep, err := kpi.Compute(r.Context(), s.store, kq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
