#!/bin/bash
# Boots one python.org web server (Amazon Linux 2023): runs the site's container under systemd,
# with its settings fetched at start from Secrets Manager through the instance role.
set -euo pipefail

dnf install -y docker
systemctl enable --now docker

install -m 0755 /dev/stdin /usr/local/bin/pythondotorg-env <<'SCRIPT'
#!/bin/bash
# Writes /run/pythondotorg.env (mode 0600). Nothing secret is in the user data itself.
set -euo pipefail
umask 077
db=$(aws secretsmanager get-secret-value --region "{{db_secret_region}}" \
  --secret-id "{{db_secret_arn}}" --query SecretString --output text)
app=$(aws secretsmanager get-secret-value --region "{{region}}" \
  --secret-id "{{app_secret_arn}}" --query SecretString --output text)
python3 - "$db" "$app" > /run/pythondotorg.env <<'PY'
import json, sys, urllib.parse
db, app = json.loads(sys.argv[1]), json.loads(sys.argv[2])
user, password = urllib.parse.quote(db["username"]), urllib.parse.quote(db["password"])
print(f"DATABASE_URL=postgres://{user}:{password}@{{db_host}}:{{db_port}}/{{db_name}}?sslmode=verify-full")
print(f"SECRET_KEY={app['secret_key']}")
print(f"SENTRY_DSN={app.get('sentry_dsn', '')}")
print("DATABASE_READ_ONLY={{read_only}}")
print("AWS_REGION={{region}}")
print("AWS_STORAGE_BUCKET_NAME={{static_bucket}}")
print("AWS_MEDIA_BUCKET_NAME={{media_bucket}}")
print("ALLOWED_HOSTS={{hostnames}}")
PY
SCRIPT

cat > /etc/systemd/system/pythondotorg.service <<'UNIT'
[Unit]
Description=python.org web application
After=docker.service network-online.target
Requires=docker.service

[Service]
Restart=always
RestartSec=5
ExecStartPre=/usr/local/bin/pythondotorg-env
ExecStartPre=-/usr/bin/docker rm -f pythondotorg
ExecStart=/usr/bin/docker run --rm --name pythondotorg --env-file /run/pythondotorg.env -p {{app_port}}:{{app_port}} {{app_image}}
ExecStop=/usr/bin/docker stop pythondotorg

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable --now pythondotorg.service
