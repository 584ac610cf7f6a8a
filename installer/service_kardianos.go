//go:build darwin || windows

package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kardianos/service"
)

// PlatformServices is this OS's service manager through
// github.com/kardianos/service: a launchd daemon on macOS, a service of the
// service control manager on Windows. The service runs
// `reach-agent service -config FILE`, which loads the config as its
// environment (what systemd's EnvironmentFile does on Linux) and runs serve.
func PlatformServices() (ServiceManager, error) { return kardianos{}, nil }

type kardianos struct{}

// nopProgram satisfies service.Interface for control operations; the
// running service uses agentProgram.
type nopProgram struct{}

func (nopProgram) Start(service.Service) error { return nil }
func (nopProgram) Stop(service.Service) error  { return nil }

func serviceConfig(l Layout) *service.Config {
	return &service.Config{
		Name:        ServiceName,
		DisplayName: "Reach remote support agent",
		Description: "Lets your help desk see and, with your consent, control this computer; reports inventory.",
		Executable:  l.Path(l.Binary),
		Arguments:   []string{"service", "-config", l.Config},
		Option: service.KeyValue{
			// launchd
			"KeepAlive": true, "RunAtLoad": true,
			// Windows: start at boot, restart 5 s after a failure.
			"StartType": "automatic", "OnFailure": "restart", "OnFailureDelayDuration": "5s",
		},
	}
}

func (kardianos) svc(l Layout) (service.Service, error) {
	return service.New(nopProgram{}, serviceConfig(l))
}

func (k kardianos) Install(ctx context.Context, l Layout) error {
	s, err := k.svc(l)
	if err != nil {
		return err
	}
	if _, err := s.Status(); !errors.Is(err, service.ErrNotInstalled) {
		// Replace the definition: the library has no update.
		s.Stop()
		if err := s.Uninstall(); err != nil {
			return fmt.Errorf("replace service: %w", err)
		}
	}
	return s.Install()
}

func (k kardianos) Remove(ctx context.Context, l Layout) error {
	s, err := k.svc(l)
	if err != nil {
		return err
	}
	if _, err := s.Status(); errors.Is(err, service.ErrNotInstalled) {
		return nil
	}
	s.Stop()
	return s.Uninstall()
}

func (k kardianos) control(action string) error {
	s, err := k.svc(DefaultLayout(""))
	if err != nil {
		return err
	}
	return service.Control(s, action)
}

func (k kardianos) Start(ctx context.Context) error   { return k.control("start") }
func (k kardianos) Restart(ctx context.Context) error { return k.control("restart") }

func (k kardianos) Stop(ctx context.Context) error {
	s, err := k.svc(DefaultLayout(""))
	if err != nil {
		return err
	}
	if st, err := s.Status(); err != nil || st != service.StatusRunning {
		return nil
	}
	return s.Stop()
}

// Status reports running or not; the library gives no PID.
func (k kardianos) Status(ctx context.Context) (ServiceStatus, error) {
	s, err := k.svc(DefaultLayout(""))
	if err != nil {
		return ServiceStatus{}, err
	}
	st, err := s.Status()
	if err != nil {
		return ServiceStatus{State: "unknown"}, err
	}
	switch st {
	case service.StatusRunning:
		return ServiceStatus{Active: true, State: "running"}, nil
	case service.StatusStopped:
		return ServiceStatus{State: "stopped"}, nil
	}
	return ServiceStatus{State: "unknown"}, nil
}

// agentProgram runs the agent under the service manager's protocol.
type agentProgram struct {
	run    func(ctx context.Context) error
	cancel context.CancelFunc
	done   chan error
}

func (p *agentProgram) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() { p.done <- p.run(ctx) }()
	return nil
}

func (p *agentProgram) Stop(service.Service) error {
	p.cancel()
	return <-p.done
}

// RunService runs run under the service manager (the Windows service
// protocol; on macOS until SIGTERM). When started from a terminal it runs
// until ctx ends or an interrupt.
func RunService(ctx context.Context, run func(ctx context.Context) error) error {
	if service.Interactive() {
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return run(ctx)
	}
	p := &agentProgram{run: run}
	s, err := service.New(p, serviceConfig(DefaultLayout("")))
	if err != nil {
		return err
	}
	return s.Run()
}
