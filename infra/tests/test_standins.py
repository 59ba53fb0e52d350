"""Outside-API stand-ins: started before their service is deployed, their URL passed as a stack
parameter (unless overridden), stopped with the platform."""

from __future__ import annotations

import json
import shutil
import socketserver
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from rocket_infra import project
from rocket_infra.local import LocalPlatform
from rocket_infra.standins import StandinError, declared

FIXTURES = Path(__file__).parent / "fixtures"


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _stack_parameters(platform: LocalPlatform, service: str) -> dict[str, str]:
    stack = platform.client("cloudformation").describe_stacks(
        StackName=project.stack_name(platform.stage, service)
    )["Stacks"][0]
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def test_a_standin_serves_the_stack_that_declares_it_and_stops_with_the_platform(
    fresh_probe_repo: Path,
) -> None:
    repo = fresh_probe_repo
    shutil.copytree(FIXTURES / "standin_services" / "outside", repo / "services" / "outside")
    with LocalPlatform.start(
        port=0,
        stage="standins",
        services=["outside"],
        repo_root=repo,
        parameters={"outside": {"Greeting": "hi"}},
    ) as platform:
        [running] = platform.standins.running
        url = running.url
        assert url.startswith("http://127.0.0.1:")
        assert _stack_parameters(platform, "outside")["EchoBaseUrl"] == url
        assert platform.outputs("outside") == {"EchoBaseUrl": url, "Greeting": "hi"}
        ssm = platform.client("ssm")
        stored = ssm.get_parameter(Name="/rocket/standins/outside/echo-base-url")
        assert stored["Parameter"]["Value"] == url
        assert _get(f"{url}/series/1") == {"path": "/series/1"}

        # an override wins over the stand-in's URL; the stand-in is not started twice
        platform.deploy("outside", overrides={"EchoBaseUrl": "http://127.0.0.1:9"})
        assert _stack_parameters(platform, "outside")["EchoBaseUrl"] == "http://127.0.0.1:9"
        assert platform.standins.running == [running]

        # the platform's own handle on faults (one platform start serves both checks)
        # every call, so the platform client's own retries fail too
        platform.set_fault(service="ssm", operation="GetParameter", kind="error500")
        with pytest.raises(ClientError, match="InternalFailure"):
            ssm.get_parameter(Name="/rocket/standins/outside/echo-base-url")
        [fault] = platform.list_faults()
        assert fault["fired"] == 3  # the first try and rocket_infra.aws's two retries
        platform.clear_faults()
        assert platform.list_faults() == []
        assert ssm.get_parameter(Name="/rocket/standins/outside/echo-base-url")["Parameter"]
    server = running.server
    assert isinstance(server, socketserver.TCPServer)
    assert not running.thread.is_alive()
    assert server.socket.fileno() == -1  # closed: the port is free again
    with pytest.raises(urllib.error.URLError):
        _get(f"{url}/series/1")


def test_a_service_without_a_standins_file_declares_none(fresh_probe_repo: Path) -> None:
    probe = project.service(fresh_probe_repo, "probe")
    assert [d.parameter for d in declared(probe)] == ["EchoBaseUrl"]
    (probe.root / "standins.yaml").unlink()
    assert declared(probe) == []
    assert declared(project.service(fresh_probe_repo, project.PLATFORM)) == []


def test_a_malformed_declaration_names_what_is_missing(fresh_probe_repo: Path) -> None:
    repo = fresh_probe_repo
    (repo / "services" / "probe" / "standins.yaml").write_text(
        "standins:\n  - name: sgs\n    factory: x:y\n"
    )
    with pytest.raises(StandinError, match=r"standins\[0\] needs parameter"):
        declared(project.service(repo, "probe"))
