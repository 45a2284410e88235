#!/bin/bash
# Boots one python.org web server (Amazon Linux 2023). The contract it honours, every variable
# and where its value comes from: docs/app-contract.md. Nothing secret is in this file: the
# boot script reads the secrets named in the manifest, in this instance's own region.
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

install -d -m 0755 /etc/pythondotorg
cat > /etc/pythondotorg/manifest.json <<'JSON'
{{manifest}}
JSON
install -m 0755 /dev/stdin /usr/local/bin/pythondotorg-env <<'PY'
{{env_script}}
PY
install -m 0644 /dev/stdin /etc/pythondotorg/release.py <<'PY'
{{release_script}}
PY

# The release step (Procfile `release`): migrations, home region only, before the app serves.
cat > /etc/systemd/system/pythondotorg-release.service <<'UNIT'
[Unit]
Description=python.org release step: database migrations (home region only)
Wants=network-online.target
After=docker.service network-online.target
Requires=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecCondition=/usr/local/bin/pythondotorg-env --has-release
ExecStartPre=/usr/local/bin/pythondotorg-env
ExecStart=/usr/bin/docker run --rm --name pythondotorg-release --network host --env-file /run/pythondotorg/release.env -v {{ca_bundle}}:{{ca_bundle}}:ro -v /etc/pythondotorg/release.py:/etc/pythondotorg/release.py:ro {{image}} {{release_command}}
Restart=on-failure
RestartSec=15
TimeoutStartSec=1800
UNIT

# The web process (Procfile `web`): gunicorn on the app port, behind the load balancer.
cat > /etc/systemd/system/pythondotorg.service <<'UNIT'
[Unit]
Description=python.org web application
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
ExecStart=/usr/bin/docker run --rm --name pythondotorg --network host --env-file /run/pythondotorg/app.env -v {{ca_bundle}}:{{ca_bundle}}:ro {{image}} {{web_command}}
ExecStop=/usr/bin/docker stop pythondotorg

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable --now pythondotorg.service
