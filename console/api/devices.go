package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/reachdesk/reach/console"
)

// presenceTimeout bounds how long a device list waits for the relay.
const presenceTimeout = 2 * time.Second

// online asks Presence about ids; nil means unknown.
func (s *Server) online(ctx context.Context, ids []int64) map[int64]bool {
	if s.opts.Presence == nil || len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, presenceTimeout)
	defer cancel()
	m, err := s.opts.Presence.Online(ctx, ids)
	if err != nil {
		s.log.DebugContext(ctx, "api: presence", "err", err)
		return nil
	}
	if m == nil {
		m = map[int64]bool{}
	}
	return m
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := query{r: r}
	f := console.DeviceFilter{Name: q.str("q", console.MaxNameLen), OS: q.str("os", console.MaxNameLen),
		DiskUsedAbove: q.float("disk_above"), SeenBefore: q.time("seen_before"), SeenAfter: q.time("seen_after"),
		Cursor: q.str("cursor", 1024), Limit: int(q.int("limit"))}
	group := q.int("group_id")
	software := q.str("software", console.MaxSoftwareNameLen+console.MaxVersionLen+8)
	withCount := q.bool("count")
	if q.err != nil {
		return q.err
	}
	if software != "" {
		sq, err := console.ParseSoftwareQuery(software)
		if err != nil {
			return err
		}
		f.Software = &sq
	}
	ctx := r.Context()
	a, err := s.permissions(ctx, p.user)
	if err != nil {
		return err
	}
	f.GroupIDs = a.viewable()
	if group != 0 {
		if !a.on(group).Has(console.PermView) {
			f.GroupIDs = []int64{}
		} else {
			f.GroupIDs = []int64{group}
		}
	}
	page, err := s.store.FindDevices(ctx, f)
	if err != nil {
		return err
	}
	ids := mapSlice(page.Devices, func(d *console.Device) int64 { return d.ID })
	on := s.online(ctx, ids)
	resp := struct {
		list[deviceJSON]
		Total *int `json:"total,omitempty"`
	}{list: newList(mapSlice(page.Devices, func(d *console.Device) deviceJSON { return toDevice(d, on) }), page.Next)}
	if withCount {
		n, err := s.store.CountDevices(ctx, f)
		if err != nil {
			return err
		}
		resp.Total = &n
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// viewDevice loads the device of the path's {id} that the caller may view.
func (s *Server) viewDevice(r *http.Request, p *principal, need console.Permissions) (*console.Device, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	d, _, err := s.device(r.Context(), p, id, need)
	return d, err
}

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDevice(d, s.online(r.Context(), []int64{d.ID})))
	return nil
}

func (s *Server) updateDevice(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	var req struct {
		Name    *string `json:"name"`
		GroupID *int64  `json:"group_id"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	nd, err := s.store.UpdateDevice(r.Context(), d.ID, console.DeviceUpdate{Name: req.Name, GroupID: req.GroupID})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toDevice(nd, nil))
	return nil
}

func (s *Server) deleteDevice(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDevice(r.Context(), d.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deviceKey serves the agent's Ed25519 public key, which the browser checks
// the agent's signed DTLS fingerprint against.
func (s *Server) deviceKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"public_key": base64.StdEncoding.EncodeToString(d.PublicKey)})
	return nil
}

func (s *Server) deviceInventory(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	inv, err := s.store.FindInventory(r.Context(), d.ID)
	if console.ErrorCode(err) == console.CodeNotFound {
		return errNotFound("inventory")
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		DeviceID      int64           `json:"device_id"`
		SchemaVersion int             `json:"schema_version"`
		CollectedAt   time.Time       `json:"collected_at,omitzero"`
		ReceivedAt    time.Time       `json:"received_at"`
		Inventory     json.RawMessage `json:"inventory"`
	}{inv.DeviceID, inv.SchemaVersion, inv.CollectedAt, inv.ReceivedAt, inv.Raw})
	return nil
}

type softwareJSON struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Publisher string `json:"publisher,omitempty"`
}

func (s *Server) deviceSoftware(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	sw, err := s.store.FindDeviceSoftware(r.Context(), d.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(sw, func(x console.Software) softwareJSON { return softwareJSON(x) }), ""))
	return nil
}

type snapshotJSON struct {
	ID         int64           `json:"id"`
	Section    string          `json:"section"`
	Hash       string          `json:"hash"`
	Data       json.RawMessage `json:"data"`
	ReceivedAt time.Time       `json:"received_at"`
}

func (s *Server) deviceSnapshots(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	q := query{r: r}
	f := console.SnapshotFilter{DeviceID: d.ID, Section: q.str("section", console.MaxSectionNameLen), Since: q.time("since")}
	if q.err != nil {
		return q.err
	}
	ss, err := s.store.FindInventorySnapshots(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(ss, func(x *console.InventorySnapshot) snapshotJSON {
		return snapshotJSON{ID: x.ID, Section: x.Section, Hash: x.Hash, Data: x.Data, ReceivedAt: x.ReceivedAt}
	}), ""))
	return nil
}

type inventoryChangeJSON struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Section string    `json:"section"`
	Op      string    `json:"op"`
	Key     string    `json:"key,omitempty"`
	Old     string    `json:"old,omitempty"`
	New     string    `json:"new,omitempty"`
}

func (s *Server) deviceChanges(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	q := query{r: r}
	f := console.ChangeFilter{DeviceID: d.ID, Section: q.str("section", console.MaxSectionNameLen), Since: q.time("since"),
		AfterID: q.int("after"), Limit: int(q.int("limit"))}
	if q.err != nil {
		return q.err
	}
	cs, err := s.store.FindInventoryChanges(r.Context(), f)
	if err != nil {
		return err
	}
	next := ""
	if len(cs) == console.PageLimit(f.Limit) {
		next = itoa(cs[len(cs)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(cs, func(c *console.InventoryChange) inventoryChangeJSON {
		return inventoryChangeJSON{ID: c.ID, At: c.At, Section: c.Section, Op: string(c.Op), Key: c.Key, Old: c.Old, New: c.New}
	}), next))
	return nil
}

type diagnosticJSON struct {
	ID          int64           `json:"id"`
	DeviceID    int64           `json:"device_id"`
	TicketID    int64           `json:"ticket_id,omitempty"`
	Check       string          `json:"check"`
	Status      string          `json:"status"`
	Output      json.RawMessage `json:"output,omitempty"`
	RequestedBy int64           `json:"requested_by,omitempty"`
	StartedAt   time.Time       `json:"started_at,omitzero"`
	FinishedAt  time.Time       `json:"finished_at,omitzero"`
	CreatedAt   time.Time       `json:"created_at"`
}

func toDiagnostic(d *console.DiagnosticResult) diagnosticJSON {
	out := json.RawMessage(d.Output)
	if len(out) > 0 && !json.Valid(out) {
		b, _ := json.Marshal(string(d.Output)) // not JSON: served as a string
		out = b
	}
	return diagnosticJSON{ID: d.ID, DeviceID: d.DeviceID, TicketID: d.TicketID, Check: d.Check, Status: string(d.Status),
		Output: out, RequestedBy: d.RequestedBy, StartedAt: d.StartedAt, FinishedAt: d.FinishedAt, CreatedAt: d.CreatedAt}
}

func (s *Server) deviceDiagnostics(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	q := query{r: r}
	limit := int(q.int("limit"))
	if q.err != nil {
		return q.err
	}
	rs, err := s.store.FindDiagnosticResults(r.Context(), console.DiagnosticFilter{DeviceID: d.ID, Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(rs, toDiagnostic), ""))
	return nil
}

func (s *Server) refreshInventory(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	if s.opts.Agents == nil {
		return errUnavailable("the agent API is not running on this console")
	}
	if err := s.opts.Agents.RequestInventory(r.Context(), d.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "requested"})
	return nil
}

func (s *Server) runDiagnostics(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := s.viewDevice(r, p, console.PermView)
	if err != nil {
		return err
	}
	var req struct {
		Checks []string `json:"checks"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	cmd := console.DeviceCommand{DeviceID: d.ID, Kind: console.CommandDiagnostics, Checks: req.Checks}
	if err := cmd.Validate(); err != nil {
		return err
	}
	if s.opts.Agents == nil {
		return errUnavailable("the agent API is not running on this console")
	}
	id, err := s.opts.Agents.RequestDiagnostics(r.Context(), d.ID, req.Checks)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]int64{"request_id": id})
	return nil
}
