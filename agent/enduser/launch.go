package enduser

// NewLaunchURL arms a fresh one-time launch address and returns it; the
// previous one stops working. A long-running process (reach-agent ui)
// calls it each time it opens the browser for a new question.
func (s *Server) NewLaunchURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.launch = randomToken()
	return "http://" + s.addr + "/launch/" + s.launch
}
