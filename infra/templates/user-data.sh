#!/bin/bash
# Boots one python.org instance (Amazon Linux 2023) for the Procfile process {{process}}. The
# contract it honours, every variable and where its value comes from: docs/app-contract.md.
# Nothing secret is in this file: the boot script reads the secrets named in the manifest, in
# this instance's own region.
set -euo pipefail

# Container logs to CloudWatch Logs: the awslogs driver as the Docker daemon's default, to the
# region's log group (which the program creates, hence awslogs-create-group false); non-blocking
# so that a slow CloudWatch never blocks the app's output. Options:
# docs.docker.com/engine/logging/drivers/awslogs/ and docs.docker.com/engine/logging/configure/
install -d -m 0755 /etc/docker
cat > /etc/docker/daemon.json <<'JSON'
{
  "log-driver": "awslogs",
  "log-opts": {
    "awslogs-region": "{{region}}",
    "awslogs-group": "{{app_log_group}}",
    "awslogs-create-group": "false",
    "tag": "{{.Name}}/{{.ID}}",
    "mode": "non-blocking",
    "max-buffer-size": "4m"
  }
}
JSON

dnf install -y docker
systemctl enable --now docker

install -d -m 0755 /etc/pythondotorg /etc/pythondotorg/python
cat > /etc/pythondotorg/manifest.json <<'JSON'
{{manifest}}
JSON
install -m 0755 /dev/stdin /usr/local/bin/pythondotorg-env <<'PY'
{{env_script}}
PY
install -m 0644 /dev/stdin /etc/pythondotorg/release.py <<'PY'
{{release_script}}
PY
install -m 0644 /dev/stdin /etc/pythondotorg/search_index.py <<'PY'
{{search_script}}
PY
install -m 0644 /dev/stdin /etc/pythondotorg/singleton.py <<'PY'
{{singleton_script}}
PY
install -m 0644 /dev/stdin /etc/pythondotorg/python/pythondotorg_infra_settings.py <<'PY'
{{overlay_settings}}
PY
install -m 0644 /dev/stdin /etc/pythondotorg/python/pythondotorg_infra_cache.py <<'PY'
{{overlay_cache}}
PY

# The release step (Procfile `release`): migrations, home region's web servers only, before the
# app serves.
cat > /etc/systemd/system/pythondotorg-release.service <<'UNIT'
[Unit]
Description=python.org release step: database migrations (home region only)
Wants=network-online.target
After=docker.service network-online.target
Requires=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecCondition=/usr/local/bin/pythondotorg-env --has release
ExecStartPre=/usr/local/bin/pythondotorg-env
ExecStart=/usr/bin/docker run --rm --name pythondotorg-release --network host --env-file /run/pythondotorg/release.env {{mounts}} {{image}} {{release_command}}
Restart=on-failure
RestartSec=15
TimeoutStartSec=1800
UNIT

# The process itself: {{process}}.
cat > /etc/systemd/system/pythondotorg.service <<'UNIT'
[Unit]
Description=python.org {{process}}
Wants=network-online.target pythondotorg-release.service
After=docker.service network-online.target pythondotorg-release.service
Requires=docker.service pythondotorg-release.service

[Service]
Restart=always
RestartSec=5
TimeoutStartSec=900
ExecStartPre=/usr/local/bin/pythondotorg-env
ExecStartPre=/usr/local/bin/pythondotorg-env --wait-for-database
ExecStartPre=-/usr/bin/docker rm -f pythondotorg
ExecStart=/usr/bin/docker run --rm --name pythondotorg --network host --env-file /run/pythondotorg/app.env {{mounts}} {{image}} {{command}}
ExecStop=/usr/bin/docker stop pythondotorg

[Install]
WantedBy=multi-user.target
UNIT

# The region's search indexer (web servers of every region; one at a time per region).
cat > /etc/systemd/system/pythondotorg-search.service <<'UNIT'
[Unit]
Description=python.org search index of this region
After=docker.service network-online.target
Requires=docker.service

[Service]
Type=oneshot
ExecCondition=/usr/local/bin/pythondotorg-env --has search
ExecStartPre=/usr/local/bin/pythondotorg-env
ExecStart=/usr/bin/docker run --rm --name pythondotorg-search --network host --env-file /run/pythondotorg/search.env {{mounts}} {{image}} {{search_command}}
TimeoutStartSec=3600
UNIT
cat > /etc/systemd/system/pythondotorg-search.timer <<'UNIT'
[Unit]
Description=python.org search index of this region, hourly

[Timer]
OnBootSec=10min
OnUnitActiveSec=1h
RandomizedDelaySec=5min

[Install]
WantedBy=timers.target
UNIT

systemctl daemon-reload
systemctl enable --now pythondotorg.service pythondotorg-search.timer
