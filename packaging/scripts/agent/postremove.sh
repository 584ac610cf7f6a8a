#!/bin/sh
# reach-agent postremove (deb postrm / rpm %postun): the device identity and
# config are removed only on purge; rpm has no purge, so `rpm -e` keeps them
# (a reinstall then needs no new token).
set -e
if [ "$1" = purge ]; then
	rm -f /etc/reach/agent.conf
	rm -rf /var/lib/reach-agent
	rmdir /etc/reach 2>/dev/null || true
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
