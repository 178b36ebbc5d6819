"""The Helm chart: lint, render with several value sets, validate every object against the
Kubernetes schemas, and check the guarantees the app relies on (one pod, one claim, no plain secrets)."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.conftest import CHART

# A Kubernetes version kubernetes-validate ships schemas for.
K8S_VERSION = "1.33.0"
SECRETS = {
    "T212_API_KEY": "sekret-123",
    "T212_SECRET_KEY": "sekret-456",
    "TELEGRAM_BOT_TOKEN": "sekret-789:bot",
    "PAPISHARES_DASHBOARD_PASSWORD": "sekret-pw",
}
CUSTOM: dict[str, Any] = {
    "image": {"repository": "ghcr.io/example/papishares", "tag": "1.2.3"},
    "secrets": SECRETS,
    "config": {"T212_ENV": "demo", "TELEGRAM_CHAT_ID": -1001234567890, "RISK_PERCENTAGE": 0.5},
    "watchlist": ["RR.L", "AAPL"],
    "worker": {"extraArgs": ["--dry-run"], "readinessProbe": {"periodSeconds": 30}},
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
        "hosts": [{"host": "shares.example.org", "paths": [{"path": "/", "pathType": "Prefix"}]}],
        "tls": [{"secretName": "shares-tls", "hosts": ["shares.example.org"]}],
    },
}


def helm_run(
    helm: str, args: list[str], values: dict[str, Any] | None, tmp_path: Path
) -> subprocess.CompletedProcess:
    cmd = [helm, *args]
    if values is not None:
        values_file = tmp_path / "values.yaml"
        values_file.write_text(yaml.safe_dump(values))
        cmd += ["-f", str(values_file)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def render_text(helm: str, tmp_path: Path, values: dict[str, Any] | None = None) -> str:
    done = helm_run(helm, ["template", "rel", str(CHART), "--namespace", "shares"], values, tmp_path)
    assert done.returncode == 0, done.stderr
    return done.stdout


def render(helm: str, tmp_path: Path, values: dict[str, Any] | None = None) -> dict[str, dict]:
    """Rendered objects keyed by 'Kind/name'."""
    docs = [d for d in yaml.safe_load_all(render_text(helm, tmp_path, values)) if d]
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in docs}


def deployment(objects: dict[str, dict]) -> dict:
    [dep] = [o for o in objects.values() if o["kind"] == "Deployment"]
    return dep


def containers(objects: dict[str, dict]) -> dict[str, dict]:
    return {c["name"]: c for c in deployment(objects)["spec"]["template"]["spec"]["containers"]}


VALUE_SETS = {
    "default": None,
    "custom": CUSTOM,
    "existing": {"existingSecret": "my-creds", "persistence": {"existingClaim": "my-claim"}},
    "no-persistence": {"persistence": {"enabled": False}},
}


@pytest.mark.parametrize("name", VALUE_SETS)
def test_lint_is_clean(helm: str, tmp_path: Path, name: str) -> None:
    done = helm_run(helm, ["lint", "--strict", str(CHART)], VALUE_SETS[name], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_object_is_valid_kubernetes(helm: str, tmp_path: Path, name: str) -> None:
    objects = render(helm, tmp_path, VALUE_SETS[name])
    assert objects
    for key, obj in objects.items():
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{key} is not valid Kubernetes {K8S_VERSION}: {exc.message} at {list(exc.path)}")


def test_one_pod_recreated_never_rolled(helm: str, tmp_path: Path) -> None:
    spec = deployment(render(helm, tmp_path))["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize("count", [0, 2, 3])
def test_other_replica_counts_refuse_to_render(helm: str, tmp_path: Path, count: int) -> None:
    done = helm_run(helm, ["template", "rel", str(CHART)], {"replicaCount": count}, tmp_path)
    assert done.returncode != 0
    assert f"replicaCount must be 1 (got {count})" in done.stderr


def test_both_containers_mount_the_same_claim_at_data(helm: str, tmp_path: Path) -> None:
    objects = render(helm, tmp_path)
    [pvc] = [o for o in objects.values() if o["kind"] == "PersistentVolumeClaim"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    pod = deployment(objects)["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    by_container = containers(objects)
    assert set(by_container) == {"dashboard", "worker"}
    for c in by_container.values():
        [data] = [m for m in c["volumeMounts"] if m["mountPath"] == "/data"]
        assert volumes[data["name"]]["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert objects["ConfigMap/rel-papishares"]["data"]["DB_PATH"] == "/data/papishares.db"


def test_existing_claim_and_secret_are_used_not_created(helm: str, tmp_path: Path) -> None:
    objects = render(helm, tmp_path, VALUE_SETS["existing"])
    kinds = [o["kind"] for o in objects.values()]
    assert "PersistentVolumeClaim" not in kinds
    assert "Secret" not in kinds
    pod = deployment(objects)["spec"]["template"]["spec"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "my-claim"}} in pod["volumes"]
    for c in pod["containers"]:
        assert {"secretRef": {"name": "my-creds"}} in c["envFrom"]


def test_roles_and_probes(helm: str, tmp_path: Path) -> None:
    by_container = containers(render(helm, tmp_path))
    dash, worker = by_container["dashboard"], by_container["worker"]
    assert dash["args"][0] == "dashboard"
    assert worker["args"] == ["worker"]
    # `papishares dashboard` serves its own probes: /healthz while it runs, /readyz (with the reason
    # when not) once the configuration is valid and the database opens
    for probe in ("startupProbe", "livenessProbe"):
        assert dash[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert dash["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    for probe in ("startupProbe", "livenessProbe"):
        assert worker[probe]["exec"]["command"] == ["papishares", "health"]
    # Readiness gates the Service: by default a waiting worker must not hide the dashboard.
    assert "readinessProbe" not in worker
    assert dash["ports"] == [{"name": "http", "containerPort": 8501, "protocol": "TCP"}]
    for c in by_container.values():
        assert c["resources"]["requests"] and c["resources"]["limits"]


def test_non_root_read_only_and_writable_scratch(helm: str, tmp_path: Path) -> None:
    objects = render(helm, tmp_path)
    pod = deployment(objects)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's USER
    assert pod["securityContext"]["fsGroup"] == 10001
    assert pod["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    for c in pod["containers"]:
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        for scratch in ("/tmp", "/home/papishares"):
            assert "emptyDir" in volumes[mounts[scratch]]


def test_secret_values_only_base64_inside_the_secret(helm: str, tmp_path: Path) -> None:
    text = render_text(helm, tmp_path, CUSTOM)
    for value in SECRETS.values():
        assert value not in text, "a secret value appears in plain text"
    objects = {f"{d['kind']}/{d['metadata']['name']}": d for d in yaml.safe_load_all(text) if d}
    secret = objects["Secret/rel-papishares"]
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == SECRETS
    # The base64 forms appear nowhere but in the Secret (the checksum annotation is a hash).
    for key, obj in objects.items():
        if key == "Secret/rel-papishares":
            continue
        dumped = yaml.safe_dump(obj)
        for encoded in secret["data"].values():
            assert encoded not in dumped, f"{key} carries a secret"
    for c in containers(objects).values():
        assert {"secretRef": {"name": "rel-papishares"}} in c["envFrom"]
        for var in c.get("env", []):
            assert var["name"] not in SECRETS, f"{var['name']} given as a plain env value"
    assert not set(SECRETS) & set(objects["ConfigMap/rel-papishares"]["data"])


def test_no_credentials_means_an_empty_secret(helm: str, tmp_path: Path) -> None:
    assert render(helm, tmp_path)["Secret/rel-papishares"]["data"] == {}


def test_a_secret_in_config_is_refused(helm: str, tmp_path: Path) -> None:
    done = helm_run(
        helm, ["template", "rel", str(CHART)], {"config": {"T212_API_KEY": "sekret-123"}}, tmp_path
    )
    assert done.returncode != 0
    assert "config.T212_API_KEY is a secret" in done.stderr
    assert "sekret-123" not in done.stderr


def test_configmap_carries_settings_as_strings(helm: str, tmp_path: Path) -> None:
    objects = render(helm, tmp_path, CUSTOM)
    data = objects["ConfigMap/rel-papishares"]["data"]
    assert data["T212_ENV"] == "demo"
    assert data["TELEGRAM_CHAT_ID"] == "-1001234567890"  # not 1.001234567e+12
    assert data["RISK_PERCENTAGE"] == "0.5"
    assert data["PAPISHARES_WATCHLIST"] == "/etc/papishares/watchlist.txt"
    assert "T212_API_BASE" not in data  # empty values fall back to the app's defaults
    assert objects["ConfigMap/rel-papishares-watchlist"]["data"]["watchlist.txt"].split() == ["RR.L", "AAPL"]
    worker = containers(objects)["worker"]
    assert worker["args"] == ["worker", "--dry-run"]
    assert worker["readinessProbe"]["exec"]["command"] == ["papishares", "health"]


def test_changed_credentials_restart_the_pod(helm: str, tmp_path: Path) -> None:
    def annotations(values: dict[str, Any]) -> dict[str, str]:
        return deployment(render(helm, tmp_path, values))["spec"]["template"]["metadata"]["annotations"]

    one = annotations({"secrets": {"T212_API_KEY": "sekret-123"}})
    two = annotations({"secrets": {"T212_API_KEY": "sekret-124"}})
    assert one["checksum/secret"] != two["checksum/secret"]
    assert one["checksum/config"] == two["checksum/config"]


def test_ingress_with_tls_routes_to_the_service(helm: str, tmp_path: Path) -> None:
    objects = render(helm, tmp_path, CUSTOM)
    ingress = objects["Ingress/rel-papishares"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["shares.example.org"], "secretName": "shares-tls"}]
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "shares.example.org"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    service = objects["Service/rel-papishares"]
    assert backend == {"name": service["metadata"]["name"], "port": {"name": "http"}}
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert containers(objects)["dashboard"]["image"] == "ghcr.io/example/papishares:1.2.3"
    assert "Ingress" not in [o["kind"] for o in render(helm, tmp_path).values()]


def test_oidc_secrets_are_mounted_into_the_dashboard_only(helm: str, tmp_path: Path) -> None:
    objects = render(helm, tmp_path, {"authSecret": "papishares-auth",
                                      "config": {"PAPISHARES_ALLOWED_EMAILS": "alice@example.com"}})
    by_name = containers(objects)
    [mount] = [m for m in by_name["dashboard"]["volumeMounts"] if m["name"] == "auth"]
    assert mount == {"name": "auth", "mountPath": "/app/.streamlit/secrets.toml", "subPath": "secrets.toml",
                     "readOnly": True}
    assert all(m["name"] != "auth" for m in by_name["worker"]["volumeMounts"])
    [volume] = [v for v in deployment(objects)["spec"]["template"]["spec"]["volumes"] if v["name"] == "auth"]
    assert volume["secret"]["secretName"] == "papishares-auth"
    assert all(v["name"] != "auth" for v in deployment(render(helm, tmp_path))["spec"]["template"]["spec"]["volumes"])
