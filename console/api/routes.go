package api

import "net/http"

const (
	get   = http.MethodGet
	post  = http.MethodPost
	put   = http.MethodPut
	patch = http.MethodPatch
	del   = http.MethodDelete
)

// register declares every route: method, path, who may call it, handler.
func (s *Server) register() {
	// Operations.
	s.handle(get, "/healthz", Public, s.healthz)
	s.handle(get, "/metrics", Admin, s.serveMetrics)
	s.handle(get, "/.well-known/reach/keys", Public, s.keys)
	s.handle(get, "/api/v1/openapi.json", Public, s.openAPI)

	// Signing in and the caller's own credentials.
	s.handle(post, "/api/v1/auth/login", Public, s.login)
	s.handle(post, "/api/v1/auth/login/totp", MFAPending, s.loginTOTP)
	s.handle(post, "/api/v1/auth/logout", Interactive, s.logout)
	s.handle(get, "/api/v1/auth/me", SignedIn, s.me)
	s.handle(post, "/api/v1/auth/password", Interactive, s.changePassword)
	s.handle(post, "/api/v1/auth/totp/enroll", Interactive, s.totpEnroll)
	s.handle(post, "/api/v1/auth/totp/confirm", Interactive, s.totpConfirm)
	s.handle(post, "/api/v1/auth/totp/disable", Interactive, s.totpDisable)
	s.handle(get, "/api/v1/auth/tokens", SignedIn, s.listTokens)
	s.handle(post, "/api/v1/auth/tokens", Interactive, s.createToken)
	s.handle(del, "/api/v1/auth/tokens/{id}", SignedIn, s.deleteToken)

	// People.
	s.handle(get, "/api/v1/users", SignedIn, s.listUsers)
	s.handle(post, "/api/v1/users", Admin, s.createUser)
	s.handle(get, "/api/v1/users/{id}", SignedIn, s.getUser)
	s.handle(patch, "/api/v1/users/{id}", Admin, s.updateUser)
	s.handle(del, "/api/v1/users/{id}", Admin, s.deleteUser)
	s.handle(del, "/api/v1/users/{id}/totp", Admin, s.resetTOTP)
	s.handle(get, "/api/v1/teams", SignedIn, s.listTeams)
	s.handle(post, "/api/v1/teams", Admin, s.createTeam)
	s.handle(patch, "/api/v1/teams/{id}", Admin, s.renameTeam)
	s.handle(del, "/api/v1/teams/{id}", Admin, s.deleteByID(s.store.DeleteTeam))
	s.handle(get, "/api/v1/teams/{id}/members", SignedIn, s.listTeamMembers)
	s.handle(put, "/api/v1/teams/{id}/members/{user_id}", Admin, s.addTeamMember)
	s.handle(del, "/api/v1/teams/{id}/members/{user_id}", Admin, s.removeTeamMember)

	// Device groups, grants and enrollment.
	s.handle(get, "/api/v1/device-groups", SignedIn, s.listGroups)
	s.handle(post, "/api/v1/device-groups", Admin, s.createGroup)
	s.handle(patch, "/api/v1/device-groups/{id}", Admin, s.updateGroup)
	s.handle(del, "/api/v1/device-groups/{id}", Admin, s.deleteByID(s.store.DeleteDeviceGroup))
	s.handle(get, "/api/v1/device-groups/{id}/grants", Admin, s.listGrants)
	s.handle(put, "/api/v1/device-groups/{id}/grants", Admin, s.setGrant)
	s.handle(del, "/api/v1/device-groups/{id}/grants/users/{user_id}", Admin, s.deleteUserGrant)
	s.handle(del, "/api/v1/device-groups/{id}/grants/roles/{role}", Admin, s.deleteRoleGrant)
	s.handle(get, "/api/v1/enrollment-tokens", Admin, s.listEnrollmentTokens)
	s.handle(post, "/api/v1/enrollment-tokens", Admin, s.createEnrollmentToken)
	s.handle(post, "/api/v1/enrollment-tokens/{id}/revoke", Admin, s.revokeEnrollmentToken)

	// Tickets.
	s.handle(get, "/api/v1/tickets", SignedIn, s.listTickets)
	s.handle(post, "/api/v1/tickets", Technician, s.createTicket)
	s.handle(get, "/api/v1/tickets/{id}", SignedIn, s.getTicket)
	s.handle(patch, "/api/v1/tickets/{id}", Technician, s.updateTicket)
	s.handle(del, "/api/v1/tickets/{id}", Admin, s.deleteTicket)
	s.handle(post, "/api/v1/tickets/{id}/escalate", Technician, s.escalateTicket)
	s.handle(get, "/api/v1/tickets/{id}/history", SignedIn, s.ticketHistory)
	s.handle(get, "/api/v1/tickets/{id}/comments", SignedIn, s.listComments)
	s.handle(post, "/api/v1/tickets/{id}/comments", Technician, s.addComment)
	s.handle(get, "/api/v1/tickets/{id}/attachments", SignedIn, s.listAttachments)
	s.handle(post, "/api/v1/tickets/{id}/attachments", Technician, s.uploadAttachment)
	s.handle(get, "/api/v1/tickets/{id}/attachments/{aid}", SignedIn, s.downloadAttachment)
	s.handle(del, "/api/v1/tickets/{id}/attachments/{aid}", Technician, s.deleteAttachment)
	s.handle(put, "/api/v1/tickets/{id}/devices/{device_id}", Technician, s.linkDevice)
	s.handle(del, "/api/v1/tickets/{id}/devices/{device_id}", Technician, s.unlinkDevice)
	s.handle(post, "/api/v1/tickets/{id}/diagnostics/{result_id}", Technician, s.attachDiagnostics)
	s.handle(get, "/api/v1/tickets/{id}/sessions", SignedIn, s.ticketSessions)

	// SLA policies.
	s.handle(get, "/api/v1/sla-policies", SignedIn, s.listSLAPolicies)
	s.handle(post, "/api/v1/sla-policies", Admin, s.createSLAPolicy)
	s.handle(get, "/api/v1/sla-policies/{id}", SignedIn, s.getSLAPolicy)
	s.handle(put, "/api/v1/sla-policies/{id}", Admin, s.replaceSLAPolicy)
	s.handle(del, "/api/v1/sla-policies/{id}", Admin, s.deleteByID(s.store.DeleteSLAPolicy))

	// Escalation rules.
	s.handle(get, "/api/v1/escalation-rules", SignedIn, s.listEscalationRules)
	s.handle(post, "/api/v1/escalation-rules", Admin, s.createEscalationRule)
	s.handle(get, "/api/v1/escalation-rules/{id}", SignedIn, s.getEscalationRule)
	s.handle(put, "/api/v1/escalation-rules/{id}", Admin, s.replaceEscalationRule)
	s.handle(del, "/api/v1/escalation-rules/{id}", Admin, s.deleteByID(s.store.DeleteEscalationRule))

	// Devices.
	s.handle(get, "/api/v1/devices", SignedIn, s.listDevices)
	s.handle(get, "/api/v1/devices/{id}", SignedIn, s.getDevice)
	s.handle(patch, "/api/v1/devices/{id}", Admin, s.updateDevice)
	s.handle(del, "/api/v1/devices/{id}", Admin, s.deleteDevice)
	s.handle(get, "/api/v1/devices/{id}/key", SignedIn, s.deviceKey)
	s.handle(get, "/api/v1/devices/{id}/inventory", SignedIn, s.deviceInventory)
	s.handle(get, "/api/v1/devices/{id}/software", SignedIn, s.deviceSoftware)
	s.handle(get, "/api/v1/devices/{id}/snapshots", SignedIn, s.deviceSnapshots)
	s.handle(get, "/api/v1/devices/{id}/changes", SignedIn, s.deviceChanges)
	s.handle(get, "/api/v1/devices/{id}/diagnostics", SignedIn, s.deviceDiagnostics)
	s.handle(post, "/api/v1/devices/{id}/inventory/refresh", Technician, s.refreshInventory)
	s.handle(post, "/api/v1/devices/{id}/diagnostics", Technician, s.runDiagnostics)

	// Remote sessions.
	s.handle(get, "/api/v1/sessions", SignedIn, s.listSessions)
	s.handle(post, "/api/v1/sessions", Technician, s.createSession)
	s.handle(get, "/api/v1/sessions/{id}", SignedIn, s.getSession)
	s.handle(get, "/api/v1/sessions/{id}/events", SignedIn, s.listSessionEvents)
	s.handle(post, "/api/v1/sessions/{id}/events", Technician, s.addSessionEvents)
	s.handle(post, "/api/v1/sessions/{id}/relay", Technician, s.sessionRelay)
	s.handle(post, "/api/v1/sessions/{id}/grant", Technician, s.sessionGrant)
	s.handle(post, "/api/v1/sessions/{id}/end", Technician, s.endSession)
	s.handle(get, "/api/v1/sessions/{id}/device-key", Technician, s.sessionDeviceKey)
	s.handle(put, "/api/v1/sessions/{id}/recording", Technician, s.putRecording)
	s.handle(get, "/api/v1/sessions/{id}/recording", SignedIn, s.getRecording)
	s.handle(del, "/api/v1/sessions/{id}/recording", Admin, s.deleteRecording)

	// Webhooks.
	s.handle(get, "/api/v1/webhook-event-types", Admin, s.webhookEventTypes)
	s.handle(get, "/api/v1/webhooks", Admin, s.listWebhooks)
	s.handle(post, "/api/v1/webhooks", Admin, s.createWebhook)
	s.handle(get, "/api/v1/webhooks/{id}", Admin, s.getWebhook)
	s.handle(patch, "/api/v1/webhooks/{id}", Admin, s.updateWebhook)
	s.handle(del, "/api/v1/webhooks/{id}", Admin, s.deleteWebhook)
	s.handle(post, "/api/v1/webhooks/{id}/ping", Admin, s.pingWebhook)
	s.handle(get, "/api/v1/webhooks/{id}/deliveries", Admin, s.listDeliveries)
	s.handle(post, "/api/v1/webhooks/{id}/deliveries/{did}/redeliver", Admin, s.redeliver)

	// KPIs.
	s.handle(get, "/api/v1/kpis", SignedIn, s.kpis)
}
