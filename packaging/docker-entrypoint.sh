#!/bin/sh
# The image's entrypoint, as the common keepalived images have it: options alone run the
# daemon in the foreground (`docker run IMAGE -P -D`), a command runs that command
# (`docker run IMAGE keepalived -t -f /etc/keepalived/keepalived.conf`, `... sh`).
set -e
case "${1:-}" in
  '' ) set -- keepalived --dont-fork --log-console --use-file /etc/keepalived/keepalived.conf ;;
  -* ) set -- keepalived --dont-fork --log-console "$@" ;;
esac
exec "$@"
