#!/bin/sh
# reach-relay postinstall (deb postinst "configure" / rpm %post 1|2): create
# the reach system user, give the config to group reach, enable the
# service, start it when configured, restart it on upgrade.
set -e
unit=reach-relay.service
conf=/etc/reach/relay.conf
keys=/etc/reach/console-keys.pem

case "$1" in
configure) if [ -z "$2" ]; then first=1; else first=0; fi ;;
1) first=1 ;;
2) first=0 ;;
*) exit 0 ;;
esac

getent group reach >/dev/null || groupadd --system reach
getent passwd reach >/dev/null || useradd --system --gid reach --home-dir /var/lib/reach \
	--no-create-home --shell /usr/sbin/nologin --comment "Reach services" reach
# systemd reads the config as root; the relay reads files it names as reach.
chown root:reach "$conf"
chmod 0640 "$conf"

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	systemctl enable "$unit" >/dev/null 2>&1
	if [ "$first" = 0 ]; then
		systemctl try-restart "$unit"
	elif [ -s "$keys" ]; then
		systemctl start "$unit"
	fi
fi
if [ "$first" = 1 ] && [ ! -s "$keys" ]; then
	echo "reach-relay: copy the console's public key to $keys, review $conf, then: systemctl start reach-relay"
fi
exit 0
