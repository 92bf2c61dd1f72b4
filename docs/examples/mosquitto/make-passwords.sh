#!/usr/bin/env bash
# Makes mosquitto's password_file and one secret file per identity, with a random password
# each that never appears on a command line:
#   make-passwords.sh <out-dir> <identity>...
#   make-passwords.sh /etc/mosquitto/checkpoint crossing-north-lane-1 crossing-north-lane-2 central
# writes <out-dir>/password_file (hashed, for mosquitto) and <out-dir>/secrets/<identity>
# (mode 0600: the lane's MQTT_PASSWORD_FILE, central's MQTT_PASSWORD_FILE). Copy each secret to
# its host; give mosquitto's password_file to the broker's user (chown mosquitto, mode 0640).
# Running it again replaces every password.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 <out-dir> <identity>..." >&2; exit 2; }
out=$1; shift
umask 077
mkdir -p "$out/secrets"
plain=$(mktemp "$out/password_file.XXXXXX")
trap 'rm -f "$plain"' EXIT
for id in "$@"; do
  case $id in *:*|'') echo "$0: identity \"$id\" must not be empty or contain ':'" >&2; exit 2;; esac
  openssl rand -base64 24 | tr -d '\n' >"$out/secrets/$id"
  printf '%s:%s\n' "$id" "$(cat "$out/secrets/$id")" >>"$plain"
done
mosquitto_passwd -U "$plain"   # hashes every line in place
mv "$plain" "$out/password_file"
trap - EXIT
echo "wrote $out/password_file and $(($#)) secret(s) in $out/secrets/"
