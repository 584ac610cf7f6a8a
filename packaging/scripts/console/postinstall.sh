#!/bin/sh
# reach-console postinstall (deb postinst "configure" / rpm %post 1|2):
# create the reach system user, give the config to group reach, enable and
# start the service (it runs on its embedded defaults), restart it on
# upgrade.
set -e
unit=reach-console.service
conf=/etc/reach/console.conf

case "$1" in
configure) if [ -z "$2" ]; then first=1; else first=0; fi ;;
1) first=1 ;;
2) first=0 ;;
*) exit 0 ;;
esac

getent group reach >/dev/null || groupadd --system reach
getent passwd reach >/dev/null || useradd --system --gid reach --home-dir /var/lib/reach \
	--no-create-home --shell /usr/sbin/nologin --comment "Reach services" reach
chown root:reach "$conf"
chmod 0640 "$conf"

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	systemctl enable "$unit" >/dev/null 2>&1
	if [ "$first" = 0 ]; then
		systemctl try-restart "$unit"
	else
		systemctl start "$unit" || true
		echo "reach-console: the first administrator's one-time password is in: journalctl -u reach-console"
	fi
fi
exit 0
