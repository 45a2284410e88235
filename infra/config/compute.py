"""python-org:web and python-org:workers: the instances that run the app."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from infra.config.catalog import ec2_instance_types, instance_architecture
from infra.config.reader import _Reader


class Architecture(enum.Enum):
    ARM64 = "arm64"
    X86_64 = "x86_64"


@dataclass(frozen=True, kw_only=True)
class WebConfig:
    instance_type: str
    architecture: Architecture
    min_size: int
    desired_capacity: int
    max_size: int
    health_check_path: str
    app_image: str
    app_port: int


@dataclass(frozen=True, kw_only=True)
class WorkersConfig:
    """Celery workers and the single beat scheduler, in the home region."""

    instance_type: str
    count: int  # celery worker instances (beat is always exactly one more)


_IMAGE_BY_DIGEST = r"[a-z0-9][a-z0-9./_-]*(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}"


def _web(top: _Reader) -> tuple[WebConfig | None, Architecture | None]:
    """The web tier, and its architecture (good even where another web key is bad: the workers'
    instance type is checked against it)."""
    s = top.section("web")
    if s is None:
        return None, None
    architecture = s.choice("architecture", Architecture, default=Architecture.ARM64)
    instance_type = _instance_type(s, architecture, "web")
    min_size = s.integer("minSize", 1, 100)
    desired = s.integer("desiredCapacity", 1, 100)
    max_size = s.integer("maxSize", 1, 100)
    if min_size is not None and desired is not None and min_size > desired:
        s.fail("minSize", min_size, f"must be <= web.desiredCapacity ({desired})")
        min_size = None
    if desired is not None and max_size is not None and desired > max_size:
        s.fail("desiredCapacity", desired, f"must be <= web.maxSize ({max_size})")
        desired = None
    path = s.string(
        "healthCheckPath", "/_health/", pattern=r"/[A-Za-z0-9._~/-]*", allowed="a URL path"
    )
    # By digest only: a moving tag never rolls out (the launch template does not change, so no
    # instance refresh starts), and a preview could not show what a deploy changes.
    image = s.string(
        "appImage", pattern=_IMAGE_BY_DIGEST,
        allowed="an image pinned by digest, such as ghcr.io/python/pythondotorg@sha256:<64 hex "
        "digits> (a tag alone moves under a deploy: refused)",
    )  # fmt: skip
    port = s.integer("appPort", 1024, 65535, default=8000)
    s.finish()
    values = (instance_type, architecture, min_size, desired, max_size, path, image, port)
    if any(v is None for v in values):
        return None, architecture
    assert instance_type
    assert architecture
    assert min_size
    assert desired
    assert max_size
    assert path
    assert image
    assert port
    web = WebConfig(
        instance_type=instance_type,
        architecture=architecture,
        min_size=min_size,
        desired_capacity=desired,
        max_size=max_size,
        health_check_path=path,
        app_image=image,
        app_port=port,
    )
    return web, architecture


def _workers(top: _Reader, architecture: Architecture | None) -> WorkersConfig | None:
    s = top.section("workers")
    if s is None:
        return None
    instance_type = _instance_type(s, architecture, "workers")
    count = s.integer("count", 1, 20)
    s.finish()
    if instance_type is None or count is None:
        return None
    return WorkersConfig(instance_type=instance_type, count=count)


def _instance_type(s: _Reader, architecture: Architecture | None, whose: str) -> str | None:
    """An EC2 instance type botocore knows, of web.architecture: the launch template's AMI and
    the app's image are of that architecture, for the web servers and the workers alike."""
    instance_type = s.member("instanceType", ec2_instance_types, "an EC2 instance type")
    if instance_type is None or architecture is None:
        return instance_type
    actual = instance_architecture(instance_type)
    if actual == architecture.value:
        return instance_type
    other = next((a for a in Architecture if a.value == actual), None)
    # Only the web tier's own type may suggest switching: the workers follow web.architecture.
    switch = f", or set web.architecture: {other.value}" if other and whose == "web" else ""
    arch = architecture.value
    why = (
        f"web.architecture is {arch} (the AMI and the app image are {arch})"
        if whose == "web"
        else f"the workers run web's {arch} AMI and image (web.architecture)"
    )
    s.fail(
        "instanceType",
        instance_type,
        f"is an {actual} instance type, but {why}: choose an {arch} type"
        f"{_same_family(instance_type, architecture)}{switch}",
    )
    return None


def _same_family(instance_type: str, architecture: Architecture) -> str:
    """' such as m7g.large' for m7i.large on arm64: the type of the same family, generation and
    size on the other processor, where botocore knows one."""
    match = re.fullmatch(r"([a-z]+)(\d+)[a-z]*(?:-[a-z0-9]+)?\.(\S+)", instance_type)
    if match is None:
        return ""
    family, generation, size = match.groups()
    processors = ("g",) if architecture is Architecture.ARM64 else ("i", "a", "")
    for processor in processors:
        candidate = f"{family}{generation}{processor}.{size}"
        known = candidate in ec2_instance_types()
        if known and instance_architecture(candidate) == architecture.value:
            return f" such as {candidate}"
    return ""
