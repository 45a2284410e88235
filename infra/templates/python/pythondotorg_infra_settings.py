"""python.org's production settings, as this repository runs them (docs/app-contract.md).

Installed by the user data as /etc/pythondotorg/python/pythondotorg_infra_settings.py and named by
DJANGO_SETTINGS_MODULE. It takes the app's production settings whole and changes only what the
environment can't reach:

- CACHES: the production settings hard-code a database cache (`django_cache_table`); a region's
  database is a read-only replica, where Django's database cache fails on every cull, delete
  and expired read. Each region caches in its own Redis instead (PYTHONDOTORG_CACHE_URL), and
  no entry lives longer than PYTHONDOTORG_CACHE_MAX_TIMEOUT: the app invalidates some entries
  by deleting them (sponsors, the sitetree), which reaches only the home region's Redis, so
  every other region's copy expires by itself, no later than the edge's own HTML TTL.
- Sessions stay in the database (the app's default): they replicate to every region, so a
  signed-in user steered to another region stays signed in; logins and logouts are writes,
  which the edge sends to the home region.
- Media URLs: with AWS_QUERYSTRING_AUTH = False and no custom domain, django-storages builds
  bucket URLs, which a private bucket refuses. They point at the public hostname instead
  (PYTHONDOTORG_MEDIA_DOMAIN), where the edge routes /media/ to the home region's bucket.
- WhiteNoise's max-age: the real site's nginx sends "max-age=604800, public" on /static/
  (config/nginx.conf); WhiteNoise's default is 60 s. Files with a hash in their name keep
  WhiteNoise's immutable ten years.
"""

import os

from pydotorg.settings.cabotage import *  # noqa: F403

CACHES = {
    "default": {
        "BACKEND": "pythondotorg_infra_cache.BoundedRedisCache",
        "LOCATION": os.environ["PYTHONDOTORG_CACHE_URL"],
        "OPTIONS": {"max_timeout": int(os.environ["PYTHONDOTORG_CACHE_MAX_TIMEOUT"])},
    }
}

AWS_S3_CUSTOM_DOMAIN = os.environ["PYTHONDOTORG_MEDIA_DOMAIN"]
AWS_S3_URL_PROTOCOL = "https:"

WHITENOISE_MAX_AGE = 604800
