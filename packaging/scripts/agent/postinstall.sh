#!/bin/sh
# reach-agent postinstall (deb postinst "configure" / rpm %post 1|2): the
# service needs an enrolled device, so a first install only says how to
# enroll; an upgrade restarts an installed agent.
set -e
case "$1" in
configure | 1 | 2) ;;
*) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	if [ -e /etc/reach/agent.conf ]; then
		systemctl try-restart reach-agent.service
		exit 0
	fi
fi
echo "reach-agent: to enroll this device and start the service, run"
echo "  sudo reach-agent install -server https://CONSOLE -token-file FILE [-unattended consent|allow]"
exit 0
