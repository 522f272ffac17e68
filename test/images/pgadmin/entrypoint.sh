#!/bin/sh
# Stand-in pgAdmin entrypoint: the steps of the official one that touch privileges and files.
if [ -z "$PGADMIN_DEFAULT_EMAIL" ] || [ -z "$PGADMIN_DEFAULT_PASSWORD" ]; then
  echo 'You need to define the PGADMIN_DEFAULT_EMAIL and PGADMIN_DEFAULT_PASSWORD environment variables.' >&2
  exit 1
fi
# First start: the official entrypoint writes its config into the image's root filesystem.
if [ ! -s /pgadmin4/config_distro.py ]; then
  echo "# written on first start by the stand-in entrypoint" > /pgadmin4/config_distro.py || exit 1
fi
if [ -z "$PGADMIN_DISABLE_POSTFIX" ]; then
  sudo /usr/local/sbin/postfix-start
fi
exec python3 /server.py
