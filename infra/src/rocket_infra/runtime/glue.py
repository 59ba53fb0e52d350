"""Glue job runs: the script of each run started on the emulator actually runs here.

moto records start_job_run and reports SUCCEEDED without running anything. The runtime picks up
every new run of the deployed jobs, resolves the job's ScriptLocation to the file in the
repository and runs it in a subprocess with Glue-style `--key value` arguments (the job's
DefaultArguments overridden by the run's Arguments, plus --JOB_NAME and --JOB_RUN_ID). Its exit
status, output and exception are the run's real state, log and error, kept here because moto
cannot record FAILED.

ScriptLocation mapping: for `s3://<bucket>/<key>` the script is the first existing file of
`<repo>/services/<key>` and `<repo>/<key>` (so `s3://<artifacts>/etl-layers/glue/job.py` is
`services/etl-layers/glue/job.py`); when neither exists the object is read from the emulator's
S3 instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from rocket_infra.runtime import log
from rocket_infra.runtime.records import GlueRun

_POLL = 0.5
_CONCURRENT_RUNS = 4
_SHIM = Path(__file__).parent / "glue_shim"
_INHERITED = ("PATH", "HOME", "LANG", "TZ", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")


def script_candidates(script_location: str, repo_root: Path) -> list[Path]:
    if not script_location.startswith("s3://"):
        return [Path(script_location)]
    key = script_location[len("s3://") :].partition("/")[2]
    return [repo_root / "services" / key, repo_root / key]


def glue_argv(job_name: str, run_id: str, arguments: dict[str, str]) -> list[str]:
    argv = ["--JOB_NAME", job_name, "--JOB_RUN_ID", run_id]
    for key, value in arguments.items():
        argv += [key if key.startswith("--") else f"--{key}", value]
    return argv


def last_error_line(output: str) -> str | None:
    """The exception line of a Python traceback (`ValueError: boom`), if the output has one."""
    lines = [line for line in output.splitlines() if line.strip()]
    if "Traceback (most recent call last):" not in output or not lines:
        return None
    return lines[-1].strip()


class GlueRunner:
    def __init__(
        self, *, clients: Any, endpoint_url: str, region: str, repo_root: Path, since: datetime
    ) -> None:
        self._glue = clients["glue"]
        self._s3 = clients["s3"]
        self._endpoint_url = endpoint_url
        self._region = region
        self._repo_root = repo_root
        self._since = since
        self._jobs: list[str] = []
        self._runs: dict[str, GlueRun] = {}
        self._processes: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="glue-runs", daemon=True)
        # Runs queue here beyond this many at once (each is a Python process on a small machine).
        self._pool = ThreadPoolExecutor(max_workers=_CONCURRENT_RUNS, thread_name_prefix="glue-run")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop watching and end the scripts still running (their runs stay FAILED)."""
        self._stop.set()
        self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            processes = list(self._processes)
        for process in processes:
            process.kill()

    def sync(self, jobs: list[str]) -> None:
        with self._lock:
            self._jobs = list(jobs)

    def runs(self, job_name: str) -> list[GlueRun]:
        with self._lock:
            mine = [replace(run) for run in self._runs.values() if run.job_name == job_name]
        return sorted(mine, key=lambda run: run.started_on)

    def is_idle(self) -> bool:
        self.scan()
        with self._lock:
            return all(run.state != "RUNNING" for run in self._runs.values())

    def _run(self) -> None:
        while not self._stop.wait(_POLL):
            try:
                self.scan()
            except Exception as exc:  # keep watching across emulator hiccups
                log.error("poll failed", source="glue", error=repr(exc))

    def scan(self) -> None:
        """Start every run of a deployed job that the runtime has not run yet."""
        with self._lock:
            jobs = list(self._jobs)
        for job_name in jobs:
            for emulated in self._job_runs(job_name):
                started = emulated.get("StartedOn")
                if isinstance(started, datetime) and started < self._since:
                    continue
                with self._lock:
                    if emulated["Id"] in self._runs:
                        continue
                    run = GlueRun(emulated["Id"], job_name, {}, "RUNNING", started_on=time.time())
                    self._runs[run.run_id] = run
                threading.Thread(
                    target=self._execute,
                    args=(run, emulated),
                    name=f"glue-{run.run_id}",
                    daemon=True,
                ).start()

    def _job_runs(self, job_name: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = []
        for page in self._glue.get_paginator("get_job_runs").paginate(JobName=job_name):
            runs.extend(page.get("JobRuns", []))
        return runs

    def _execute(self, run: GlueRun, emulated: dict[str, Any]) -> None:
        try:
            job = self._glue.get_job(JobName=run.job_name)["Job"]
            arguments = {**job.get("DefaultArguments", {}), **emulated.get("Arguments", {})}
            run.arguments = arguments
            log.info("glue run started", job=run.job_name, run_id=run.run_id, arguments=arguments)
            script = self._script(job["Command"]["ScriptLocation"])
            timeout = 60.0 * float(emulated.get("Timeout") or job.get("Timeout") or 2880)
            returncode, stdout = self._run_script(run, script, arguments, timeout)
            output = stdout.decode("utf-8", "replace")
            run.log = output
            if returncode == 0:
                run.state = "SUCCEEDED"
            else:
                run.state = "FAILED"
                run.error = last_error_line(output) or f"exit status {returncode}"
        except subprocess.TimeoutExpired as exc:
            run.state, run.error = "FAILED", f"Timeout: the run passed {exc.timeout:.0f} s"
        except Exception as exc:  # a run that cannot even start is a FAILED run, not a crash
            run.state, run.error = "FAILED", f"{type(exc).__name__}: {exc}"
        run.completed_on = time.time()
        log.info(
            "glue run finished",
            job=run.job_name,
            run_id=run.run_id,
            state=run.state,
            error=run.error,
        )

    def _run_script(
        self, run: GlueRun, script: Path, arguments: dict[str, str], timeout: float
    ) -> tuple[int, bytes]:
        process = subprocess.Popen(
            [sys.executable, str(script), *glue_argv(run.job_name, run.run_id, arguments)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self._environment(),
            cwd=self._repo_root,
            start_new_session=True,  # as the workers: Ctrl-C reaches `rocket up`, which stops it
        )
        with self._lock:
            self._processes.add(process)
        try:
            stdout, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
        finally:
            with self._lock:
                self._processes.discard(process)
        return process.returncode, stdout

    def _script(self, location: str) -> Path:
        for candidate in script_candidates(location, self._repo_root):
            if candidate.is_file():
                return candidate
        bucket, _, key = location[len("s3://") :].partition("/")
        body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        target = Path(tempfile.mkdtemp(prefix="rocket-glue-")) / Path(key).name
        target.write_bytes(body)
        return target

    def _environment(self) -> dict[str, str]:
        env = {key: os.environ[key] for key in _INHERITED if key in os.environ}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_SHIM), env.get("PYTHONPATH", "")) if p)
        env.update(
            {
                "AWS_ENDPOINT_URL": self._endpoint_url,
                "AWS_REGION": self._region,
                "AWS_DEFAULT_REGION": self._region,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env
