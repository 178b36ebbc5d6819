"""The container image, built from the real Dockerfile with podman and run in both roles.

One build per test run (module fixture), then compose.yaml brings up the dashboard and the worker as
it declares them (podman-compose), and every check runs against those two containers or the image:
health endpoints, the heartbeat on the shared volume as user 10001, the CLI, the read-only root
filesystem, the image's own health check, /chart, the UK tax through cgt-calc, no secret in any layer.

Where this machine differs from a Docker host it is said: the official base images are built from
Debian's packages when Docker Hub cannot be reached, and the containers use the host's network
(compose's port mapping needs bridge networking, which a sandbox may lack). Without podman the module
is skipped with the reason, except under CI (CI=true), where it fails: `make test` installs podman
(scripts/ensure-podman). `make test` runs this module in one process of its own (scripts/run-tests:
pytest-xdist's grouping does not hold under pytest 9); should several processes run it anyway, a lock
keeps the build to one at a time and each brings up its own compose project (a free port, its own name).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import REPO

pytestmark = [pytest.mark.image, pytest.mark.timeout(2400)]

PODMAN = REPO / "scripts" / "podman-test"
STANDIN = REPO / "scripts" / "podman-standin-base"
IMAGE = "localhost/papishares:test"
MEASURED = REPO / ".cache" / "podman" / "measured.json"
# Kept from growing without reason: raise these only with a reason in the README (Deployment).
SIZE_BUDGET_MB = 2000
HEALTHY_BUDGET_S = 90.0
SECRET_NAMES = ("T212_API_KEY", "T212_SECRET_KEY", "TELEGRAM_BOT_TOKEN", "PAPISHARES_DASHBOARD_PASSWORD",
                "PAPISHARES_API_TOKEN")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip with the reason on a developer machine; fail under CI, where podman must be there."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the image tests must run)")
    pytest.skip(reason)


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(PODMAN), *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert done.returncode == 0, f"podman {' '.join(args[:3])} ...: {done.stderr[-3000:]}"
    return done


def dockerfile_args() -> dict[str, str]:
    text = (REPO / "Dockerfile").read_text()
    return dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))


def pip_settings(tmp: Path) -> list[str]:
    """pip's index and CA on this machine, handed to the build as secrets (never a layer)."""
    config = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                            check=False).stdout
    found = dict(re.findall(r"^\S*?\.?([\w-]+)='(.*)'$", config, re.M))
    index = os.environ.get("PIP_INDEX_URL") or found.get("index-url")
    ca = os.environ.get("PIP_CERT") or found.get("cert") or "/etc/ssl/certs/ca-certificates.crt"
    lines = ["[global]", f"# canary {CANARY}"]
    args: list[str] = []
    if index:
        lines.append(f"index-url = {index}")
    if ca and Path(ca).is_file():
        lines.append("cert = /run/secrets/pip-ca.pem")
        args += ["--secret", f"id=pip-ca.pem,src={ca}"]
    conf = tmp / "pip.conf"
    conf.write_text("\n".join(lines) + "\n")
    return ["--secret", f"id=pip.conf,src={conf}", *args]


# Written into the build's pip.conf secret and searched for in the image. Fixed, so that the build's
# layer cache holds from one run to the next.
CANARY = "papishares-build-secret-canary-5d0c7a"


@dataclass
class Built:
    image: str
    bases: dict[str, str]
    notes: list[str] = field(default_factory=list)
    build_s: float = 0.0
    size_mb: float = 0.0


def base_for(arg: str, official: str) -> tuple[str, str | None]:
    """The official base when it is here or can be pulled, else a stand-in built from Debian's packages."""
    if podman("image", "exists", official, check=False).returncode == 0:
        return official, None
    pulled = podman("pull", "--quiet", official, timeout=600, check=False)
    if pulled.returncode == 0:
        return official, None
    version = re.match(r"python:(3\.\d+)", official)
    assert version, f"{arg}={official}: no stand-in recipe for this base"
    made = subprocess.run([str(STANDIN), version.group(1)], capture_output=True, text=True, timeout=900, check=False)
    if made.returncode != 0:
        unavailable(f"{official} cannot be pulled here and no stand-in could be built: {made.stderr.strip()[-500:]}")
    tag = made.stdout.strip().splitlines()[-1]
    why = pulled.stderr.strip().splitlines()[-1][:200] if pulled.stderr.strip() else "pull failed"
    return tag, (f"{official} cannot be pulled here ({why}): built with the stand-in {tag}, the same layout "
                 f"(CPython in /usr/local on Debian bookworm) made from Debian's packages")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if shutil.which("podman") is None:
        unavailable("podman is not installed (scripts/ensure-podman, run by `make test`, installs it with apt-get)")
    info = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
    if info.returncode != 0:
        unavailable(f"podman cannot run here: {info.stderr.strip()[-300:]}")
    # One build at a time on the machine: xdist may still hand this module to several workers (pytest 9
    # ignores xdist_group's grouping), and the later ones then find every layer cached.
    MEASURED.parent.mkdir(parents=True, exist_ok=True)
    with open(MEASURED.parent / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return build(tmp_path_factory)


def build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    args = dockerfile_args()
    bases: dict[str, str] = {}
    notes: list[str] = []
    for arg in ("PYTHON_BASE", "CGT_PYTHON_BASE"):
        bases[arg], note = base_for(arg, args[arg])
        if note:
            notes.append(note)
            warnings.warn(note, stacklevel=1)
    tmp = tmp_path_factory.mktemp("image-build")
    before = podman("image", "inspect", "--format", "{{.Id}}", IMAGE, check=False).stdout.strip()
    started = time.monotonic()
    done = podman("build", "--format", "docker", "--tag", IMAGE,
                  *[f"--build-arg={k}={v}" for k, v in bases.items()], *pip_settings(tmp), str(REPO),
                  timeout=1800, check=False)
    build_s = time.monotonic() - started
    # A failing build is a failure, never a skip.
    assert done.returncode == 0, f"podman build failed:\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
    size, now = podman("image", "inspect", "--format", "{{.Size}} {{.Id}}", IMAGE).stdout.split()
    if before and before != now:  # the last run's image: its layers stay cached where still used
        podman("rmi", before, check=False)
    return Built(IMAGE, bases, notes, build_s, int(size) / 1e6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@dataclass
class Running:
    project: str
    port: int
    dashboard: str
    worker: str
    volume: str
    healthy_s: float


def compose_tool() -> str:
    # The project's pinned one (requirements-dev.txt): older ones (Debian's 1.0.3) misread compose.yaml's
    # optional env_file.
    found = Path(sys.executable).parent / "podman-compose"
    if not found.is_file():
        pytest.fail("podman-compose is not installed in the virtualenv (requirements-dev.txt)")
    return str(found)


@pytest.fixture(scope="module")
def running(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """compose.yaml's two services, as it declares them, plus the host's network and a free port.

    The compose file is copied into an empty directory, so a developer's .env (real keys) never
    reaches these containers: they run the built-in demo broker.
    """
    where = tmp_path_factory.mktemp("compose")
    shutil.copy(REPO / "compose.yaml", where / "compose.yaml")
    port = free_port()
    override = {"services": {
        "dashboard": {"network_mode": "host", "environment": {"STREAMLIT_SERVER_PORT": str(port)}},
        "worker": {"network_mode": "host"},
    }}
    (where / "compose.host-network.yaml").write_text(yaml.safe_dump(override))
    project = f"papishares-test-{os.getpid()}"
    cmd = [compose_tool(), "--podman-path", str(PODMAN), "-p", project,
           "-f", "compose.yaml", "-f", "compose.host-network.yaml"]
    env = {**os.environ, "PAPISHARES_IMAGE": built.image}
    for name in SECRET_NAMES:
        env.pop(name, None)

    def compose(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([*cmd, *args], cwd=where, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)

    started = time.monotonic()
    up = compose("up", "-d")
    try:
        assert up.returncode == 0, f"compose up failed: {up.stdout[-2000:]}\n{up.stderr[-2000:]}"
        healthy_s = None
        while time.monotonic() - started < 180:
            try:
                status, body = get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                if status == 200 and body.strip() == b"ok":
                    healthy_s = time.monotonic() - started
                    break
            except OSError:
                pass
            time.sleep(0.5)
        names = podman("ps", "--filter", f"label=io.podman.compose.project={project}",
                       "--format", "{{.Names}}").stdout.split()
        dashboard = next(n for n in names if "dashboard" in n)
        worker = next(n for n in names if "worker" in n)
        if healthy_s is None:
            logs = podman("logs", dashboard, check=False)
            pytest.fail(f"the dashboard never answered /_stcore/health: {logs.stdout[-2000:]}{logs.stderr[-2000:]}")
        yield Running(project, port, dashboard, worker, f"{project}_papishares-data", healthy_s)
    finally:
        compose("down", "-v", "-t", "10")


def exec_in(container: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return podman("exec", container, *args, timeout=timeout, check=False)


# --- the dashboard ------------------------------------------------------------------------------


def test_dashboard_answers_its_health_endpoint_soon_after_start(running: Running, built: Built) -> None:
    status, body = get(f"http://127.0.0.1:{running.port}/_stcore/health")
    assert (status, body.strip()) == (200, b"ok")
    assert running.healthy_s < HEALTHY_BUDGET_S, f"{running.healthy_s:.1f} s from compose up to a healthy dashboard"
    MEASURED.parent.mkdir(parents=True, exist_ok=True)
    MEASURED.write_text(json.dumps({"size_mb": round(built.size_mb), "build_s": round(built.build_s, 1),
                                    "healthy_s": round(running.healthy_s, 1), "bases": built.bases}, indent=1))


def test_json_api_health_endpoints_when_the_image_serves_them(running: Running) -> None:
    status, body = get(f"http://127.0.0.1:{running.port}/healthz")
    try:
        payload = json.loads(body)
    except ValueError:  # Streamlit answers any unknown path with its page (200, HTML)
        payload = None
    if status != 200 or payload is None:
        pytest.skip(f"the image's dashboard does not serve the JSON API's /healthz yet (HTTP {status}, "
                    f"{'JSON' if payload is not None else 'not JSON'}): /healthz and /readyz are asserted once it does")
    assert payload == {"status": "ok"}
    status, body = get(f"http://127.0.0.1:{running.port}/readyz")
    assert status == 200 and json.loads(body) == {"status": "ready"}, body


# --- the worker, the shared volume, user 10001 --------------------------------------------------


def test_worker_writes_its_heartbeat_to_the_shared_volume_as_user_10001(running: Running) -> None:
    assert exec_in(running.worker, "id", "-u").stdout.strip() == "10001"
    owners = exec_in(running.worker, "stat", "-c", "%u:%g", "/data", "/data/papishares.db")
    assert owners.stdout.split() == ["10001:10001", "10001:10001"], owners.stderr
    deadline = time.monotonic() + 90
    while True:  # the first cycle writes the heartbeat
        health = exec_in(running.dashboard, "papishares", "health")  # read from the other container
        if health.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert health.returncode == 0, health.stdout + health.stderr
    status = json.loads(health.stdout)
    assert status["healthy"] is True and status["environment"] == "demo-sim"


def test_health_command_in_a_fresh_container_on_the_volume_exits_0(running: Running, built: Built) -> None:
    exec_in(running.worker, "papishares", "health")  # the heartbeat is there (the test above waits for it)
    done = podman("run", "--rm", "--read-only", "-v", f"{running.volume}:/data", built.image, "health",
                  check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["healthy"] is True


def test_snapshot_json_in_the_image_prints_a_demo_snapshot(built: Built) -> None:
    done = podman("run", "--rm", "--read-only", "--tmpfs", "/tmp", "--tmpfs", "/home/papishares",
                  built.image, "snapshot", "--json", check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    snap = json.loads(done.stdout)
    assert snap["environment"] == "demo-sim" and snap["account"]["currency"] == "GBP"
    assert snap["positions"] and all(p["current_price"] > 0 for p in snap["positions"])
    assert "Traceback" not in done.stderr


# --- hardening and the image's health check -----------------------------------------------------


APP_HOME = """for p in /proc/[0-9]*; do
  [ "${p#/proc/}" = "$$" ] && continue
  if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q -e 'papishares worker' -e 'papishares dashboard' -e 'streamlit run'; then
    home=$(tr '\\0' '\\n' < $p/environ | sed -n 's/^HOME=//p'); touch "$home/.written" && echo "$home"; exit $?
  fi
done; exit 1"""


def test_root_filesystem_is_read_only_and_the_app_runs_on_it(running: Running) -> None:
    for name in (running.dashboard, running.worker):
        assert podman("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", name).stdout.strip() == "true"
        refused = exec_in(name, "sh", "-c", "touch /app/x || touch /x")
        assert refused.returncode != 0 and "Read-only file system" in refused.stderr
        assert exec_in(name, "touch", "/tmp/x").returncode == 0  # the tmpfs
        # The app's own home (its caches) is writable, whatever the runtime made of the home's tmpfs.
        home = exec_in(name, "sh", "-c", APP_HOME)
        assert home.returncode == 0 and home.stdout.strip().startswith("/"), home.stdout + home.stderr


def test_image_health_check_works_in_both_roles(running: Running, built: Built) -> None:
    check = json.loads(podman("image", "inspect", "--format", "{{json .HealthCheck}}", built.image).stdout)
    assert check["Test"] == ["CMD", "papishares-entrypoint", "healthcheck"]
    for name, says in ((running.dashboard, "/readyz ready"), (running.worker, '"healthy": true')):
        done = exec_in(name, "papishares-entrypoint", "healthcheck")  # the image's own command, role remembered
        assert done.returncode == 0 and says in done.stdout, done.stdout + done.stderr
        ran = podman("healthcheck", "run", name, check=False)  # compose's declared check
        assert ran.returncode == 0, ran.stdout + ran.stderr


def test_no_secret_in_any_layer_nor_in_the_files(built: Built) -> None:
    history = podman("history", "--no-trunc", "--format", "{{.CreatedBy}}", built.image).stdout
    assert CANARY not in history and "BEGIN CERTIFICATE" not in history
    config = podman("image", "inspect", built.image).stdout
    for name in SECRET_NAMES:
        assert not re.search(rf"{name}=\S", config + history), name
    root = podman("image", "mount", built.image, check=False)
    if root.returncode != 0:
        pytest.skip(f"the image's files cannot be mounted here to be searched: {root.stderr.strip()[-200:]}")
    top = Path(root.stdout.strip())
    try:
        assert not (top / "etc" / "pip.conf").exists()
        assert not [p for p in (top / "run" / "secrets").glob("*")] if (top / "run" / "secrets").is_dir() else True
        app = sorted(p.name for p in (top / "app").iterdir())
        assert set(app) <= {"__pycache__", "Home.py", "pages", "papishares", "deploy", ".streamlit", "requirements.txt",
                            "constraints.txt", "requirements-cgt.txt", "constraints-cgt.txt", "pyproject.toml"}, app
        leaked = subprocess.run(["grep", "-rlF", "--exclude-dir=proc", CANARY, str(top)], capture_output=True,
                                text=True, timeout=600, check=False)
        assert leaked.stdout == "", f"the build's pip.conf secret is in the image: {leaked.stdout}"
        found = [str(p.relative_to(top)) for p in top.glob("app/**/*") if p.name == ".env" or p.suffix == ".db"]
        assert not found
    finally:
        podman("image", "unmount", built.image, check=False)


# --- /chart and the UK tax inside the container -------------------------------------------------

# The worker's own /chart path: the composition root's service, the Streamlit-free figure, kaleido.
CHART_SNIPPET = """
import sys
from papishares.app.build import build
from papishares.charts.png import chart_png
service = build().service
snap = service.snapshot()
p = snap.positions[0]
png, problem = chart_png(service.bars_for(p.ticker, snap), p)
if png is None:
    raise SystemExit(f"not rendered: {problem}")
sys.stdout.buffer.write(png)
"""


def test_telegram_chart_renders_inside_the_container(running: Running) -> None:
    done = subprocess.run([str(PODMAN), "exec", running.worker, "python", "-c", CHART_SNIPPET],
                          capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(b"\x89PNG\r\n\x1a\n") and len(done.stdout) > 20_000


def test_history_tax_runs_cgt_calc_on_the_demo_report(running: Running) -> None:
    done = exec_in(running.worker, "papishares", "history", "tax", "--json", timeout=300)
    assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-1000:]
    years = json.loads(done.stdout)["years"]
    figures = [y["figures"] for y in years if y.get("figures")]
    assert figures and any(f["disposals"] > 0 and f["proceeds"] > 0 for f in figures), years


# --- size, compose and Helm agree ---------------------------------------------------------------


def test_image_size_stays_within_its_budget(built: Built) -> None:
    assert built.size_mb < SIZE_BUDGET_MB, f"the image is {built.size_mb:.0f} MB"


def test_compose_and_helm_run_the_same_image_and_commands(helm: str, tmp_path: Path) -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    rendered = subprocess.run([helm, "template", "rel", str(REPO / "deploy" / "helm" / "papishares")],
                              capture_output=True, text=True, timeout=120, check=True).stdout
    [deployment] = [d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "Deployment"]
    pods = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    assert set(pods) == set(compose)
    repositories = {c["image"].rsplit(":", 1)[0] for c in pods.values()}
    compose_images = {re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", s["image"]).rsplit(":", 1)[0] for s in compose.values()}
    assert repositories == compose_images == {"papishares"}
    for role in compose:
        assert pods[role]["args"][: len(compose[role]["command"])] == compose[role]["command"]
    assert pods["worker"]["livenessProbe"]["exec"]["command"] == compose["worker"]["healthcheck"]["test"][1:]

