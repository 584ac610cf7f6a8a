#!/bin/sh
# reach-agent preremove (deb prerm "remove" / rpm %preun 0): stop and
# disable the service.
set -e
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now reach-agent.service >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
