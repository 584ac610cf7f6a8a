#!/bin/sh
# reach-console preremove (deb prerm "remove" / rpm %preun 0): stop and
# disable the service; an upgrade keeps it running until postinstall
# restarts it.
set -e
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now reach-console.service >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
