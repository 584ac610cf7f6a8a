#!/bin/sh
# reach-console postremove (deb postrm / rpm %postun): data is removed only on
# purge (dpkg -P / apt purge); rpm has no purge, so `rpm -e` keeps
# /var/lib/reach/console. The reach user goes when no Reach server data is left.
set -e
if [ "$1" = purge ]; then
	rm -rf /var/lib/reach/console
	rmdir /var/lib/reach 2>/dev/null || true
	rmdir /etc/reach 2>/dev/null || true
	if [ ! -d /var/lib/reach ] && getent passwd reach >/dev/null; then
		userdel reach 2>/dev/null || true
		getent group reach >/dev/null && groupdel reach 2>/dev/null || true
	fi
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
