# SPDX-License-Identifier: GPL-3.0-or-later
"""armemu: a local Azure Resource Manager emulator for testing private endpoint connection playbooks offline.

Start it, point a playbook at it, read what the playbook sent:

  armemu serve --seed seed.yml --background     # returns once listening
  eval "$(armemu env)"                          # AZURE_* variables for the running emulator
  ansible-playbook --check site.yml
  armemu log                                    # one line per request
  armemu stop

Commands:
  serve         run the emulator (foreground, or --background); a bad seed exits 2 naming the key path
  reseed        replace the emulated world with another seed file
  fault         make the next matching request(s) fail (429, 5xx, dropped connection, failed operation...)
  clear-faults  remove every fault
  log           the requests received so far (a table, or --json)
  clear-log     forget the requests received so far
  state         the emulated world now, as JSON
  configure     change timing settings (op_duration=SECONDS, dequeued_polls=N, retry_after=SECONDS)
  env           print export lines that point azure-identity and the collection at the emulator
  stop          stop the running emulator

The commands after 'serve' find the running emulator through its info file: --info-file, else
$ARMEMU_INFO_FILE, else $XDG_RUNTIME_DIR/armemu/info.json, else ~/.cache/armemu/info.json (the directory is
created with mode 0700; the file, 0600, holds the emulator's URL, CA file, pid and seed file).
Exit codes: 0 success, 1 the emulator failed or is unreachable, 2 bad usage or a bad seed.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .client import EmulatorControl, EmulatorControlError
from .faults import ACTIONS
from .seedcheck import SeedError, check_seed

PACKAGE_DIR = Path(__file__).resolve().parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
WRITE_METHODS = ("PUT", "PATCH", "DELETE", "POST")
FAULT_EPILOG = """actions and their --param keys:
  status                 status, retry_after, retry_after_date, body, content_type, code, message:
                         answer this instead (a wrapped ARM error; 429 is SubscriptionRequestsThrottled)
  drop                   send the headers and half the body, then close the connection
  delay                  seconds (5): answer late
  html                   status (502), body, echo_headers: a proxy's HTML error page
  gzip                   gzip the answer even if the client did not ask
  operation_failed       code, message, details: the operation the PUT/DELETE starts ends Failed
  operation_canceled     code, message, details: ... ends Canceled
  operation_never_ends   the operation stays Dequeued forever
  token_error            status (400; managed identity 500), error, aadsts, message: the token endpoint refuses
  token_expired          expires_in (0): a token that ARM then rejects as expired
  token_echo             status (400), error, aadsts: the token endpoint's error quotes the whole request
  change_elsewhere       status (Approved), description, connection_id: after answering (default: a GET of
                         the connection), another administrator changes that connection (or connection_id)

examples:
  armemu fault status --param status=429 --param retry_after=5
  armemu fault status --method GET --param status=503 --times 2
  armemu fault operation_failed --method DELETE
"""


class CliError(Exception):
    """A failure to report as ``armemu: <message>`` with an exit code (no traceback)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# ---- files ----------------------------------------------------------------------------------------
def default_info_file() -> Path:
    if os.environ.get("ARMEMU_INFO_FILE"):
        return Path(os.environ["ARMEMU_INFO_FILE"])
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "armemu" if runtime else Path.home() / ".cache" / "armemu"
    return base / "info.json"


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(tmp, path)


def load_seed_file(path: str) -> Any:
    """Parse a YAML or JSON seed file (JSON by its .json suffix) and check it; CliError(code 2) if bad."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot read: {exc.strerror or exc}", 2) from None
    if path.lower().endswith(".json"):
        try:
            seed = json.loads(text)
        except ValueError as exc:
            raise CliError(f"{path}: not valid JSON: {exc}", 2) from None
    else:
        import yaml  # pylint: disable=import-outside-toplevel  # only serve/reseed/env need it

        try:
            seed = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            raise CliError(f"{path}: not valid YAML: {where}{getattr(exc, 'problem', None) or exc}", 2) from None
    try:
        check_seed(seed, path)
    except SeedError as exc:
        raise CliError(str(exc), 2) from None
    return seed or {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is not running
        return Path(f"/proc/{pid}/stat").read_text(encoding="ascii").split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _is_armemu(pid: int) -> bool:
    """Is ``pid`` an armemu process? (A stale info file may name a pid reused by something else.)"""
    try:
        return b"armemu" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return _pid_alive(pid)  # no /proc: trust the info file


def read_info(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"no running emulator found ({path} does not exist); start one with "
                       "'armemu serve --seed FILE --background' or pass --info-file") from None
    except (OSError, ValueError) as exc:
        raise CliError(f"{path}: cannot read the info file: {exc}") from None


def _running(path: Path) -> dict[str, Any] | None:
    """The info of a live emulator recorded in ``path``, or None."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = info.get("pid")
    return info if isinstance(pid, int) and _pid_alive(pid) and _is_armemu(pid) else None


def _control(args: argparse.Namespace) -> EmulatorControl:
    info = read_info(args.info_file)
    return EmulatorControl(info["base_url"], info["ca_file"])


def _call(what: str, action: Callable[[], Any]) -> Any:
    try:
        return action()
    except EmulatorControlError as exc:
        raise CliError(f"{what} refused: {exc}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise CliError(f"cannot reach the emulator ({what}): {getattr(exc, 'reason', exc)}; is it running? "
                       "('armemu serve --background' starts it)") from None


def _parse_value(text: str) -> Any:
    """``k=v`` values: JSON when they parse (numbers, null, true, objects), else the plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _pairs(items: list[str], what: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"{what}: expected KEY=VALUE, got {item!r}", 2)
        result[key] = _parse_value(value)
    return result


# ---- serve ----------------------------------------------------------------------------------------
def _serve_argv(args: argparse.Namespace) -> list[str]:
    argv = [sys.executable, str(PACKAGE_DIR), "serve", "--info-file", str(args.info_file), "--host", args.host,
            "--port", str(args.port), "--op-duration", str(args.op_duration),
            "--dequeued-polls", str(args.dequeued_polls)]
    if args.seed:
        argv += ["--seed", str(Path(args.seed).resolve())]
    if args.retry_after is not None:
        argv += ["--retry-after", str(args.retry_after)]
    if args.state_dir:
        argv += ["--state-dir", str(Path(args.state_dir).resolve())]
    return argv


def _background(args: argparse.Namespace) -> int:
    log_path = args.info_file.with_name(f"{args.info_file.stem}.log")
    if not log_path.parent.exists():
        log_path.parent.mkdir(mode=0o700, parents=True)
    with open(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as log:
        # A new session: the emulator outlives this command and the shell's job control (so no `with`).
        child = subprocess.Popen(  # pylint: disable=consider-using-with
            _serve_argv(args), stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        info = _running(args.info_file)
        if info is not None and info.get("pid") == child.pid:
            break
        code = child.poll()
        if code is not None or time.monotonic() > deadline:
            if code is None:
                child.terminate()
                child.wait(STOP_TIMEOUT)
            output = log_path.read_text(encoding="utf-8", errors="replace").strip()
            sys.stderr.write(f"{output}\n" if output else "")
            raise CliError(f"the emulator did not start (see {log_path})", code or 1)
        time.sleep(0.05)
    print(f"armemu: listening on {info['base_url']} (pid {info['pid']}, info {args.info_file}, log {log_path})")
    print("armemu: next: eval \"$(armemu env)\"; ...; armemu log; armemu stop")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    seed = load_seed_file(args.seed) if args.seed else None
    running = _running(args.info_file)
    if running is not None:
        raise CliError(f"an emulator is already running (pid {running['pid']}, {running.get('base_url')}); "
                       f"stop it with 'armemu stop' or use another --info-file")
    if args.background:
        return _background(args)

    from .emulator import Emulator  # pylint: disable=import-outside-toplevel  # not needed by the clients

    retry_after: int | str | None = args.retry_after
    if isinstance(retry_after, str) and retry_after.isdigit():
        retry_after = int(retry_after)
    if args.state_dir:
        os.makedirs(args.state_dir, mode=0o700, exist_ok=True)
    try:
        emulator = Emulator(seed=seed, host=args.host, port=args.port, op_duration=args.op_duration,
                            dequeued_polls=args.dequeued_polls, retry_after=retry_after, state_dir=args.state_dir)
    except ValueError as exc:  # the emulator's own seed checks
        raise CliError(f"{args.seed}: {exc}", 2) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        emulator.start()
    except OSError as exc:
        emulator.stop()  # removes its certificate directory
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    info: dict[str, Any] = {**emulator.info(), "pid": os.getpid()}
    if args.seed:
        info["seed_file"] = str(Path(args.seed).resolve())
    try:
        _write_atomically(args.info_file, info)
        print(json.dumps(info), flush=True)
        print(f"armemu: listening on {info['base_url']} (info {args.info_file}); SIGTERM or Ctrl-C stops",
              file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        current = _read_json(args.info_file)
        if current is not None and current.get("pid") == os.getpid():
            args.info_file.unlink(missing_ok=True)
    return 0


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ---- client commands ------------------------------------------------------------------------------
def cmd_reseed(args: argparse.Namespace) -> int:
    seed = load_seed_file(args.seed)
    info = read_info(args.info_file)
    control = EmulatorControl(info["base_url"], info["ca_file"])
    _call("reseed", lambda: control.seed(seed))
    # `armemu env` reads the principals and subscriptions from the seed file in use.
    _write_atomically(args.info_file, {**info, "seed_file": str(Path(args.seed).resolve())})
    print(f"armemu: reseeded from {args.seed}")
    return 0


def cmd_fault(args: argparse.Namespace) -> int:
    rule: dict[str, Any] = _pairs(args.param, "--param")
    if args.kind is not None:
        rule["kind"] = None if args.kind == "any" else args.kind
    if args.method is not None:
        rule["method"] = None if args.method.lower() == "any" else args.method.upper()
    if args.path_contains is not None:
        rule["path_contains"] = args.path_contains
    if args.times is not None:
        if args.times == "forever":
            rule["times"] = None
        elif args.times.isdigit() and int(args.times) > 0:
            rule["times"] = int(args.times)
        else:
            raise CliError(f"--times: expected a positive number or 'forever', got {args.times!r}", 2)
    control = _control(args)
    fault_id = _call("fault", lambda: control.add_fault(args.action, **rule))
    print(fault_id)
    return 0


def cmd_clear_faults(args: argparse.Namespace) -> int:
    control = _control(args)
    _call("clear-faults", control.clear_faults)
    return 0


def _format_time(stamp: Any) -> str:
    try:
        return datetime.datetime.fromtimestamp(float(stamp), datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3]
    except (TypeError, ValueError):
        return "-"


def format_log(entries: list[dict[str, Any]]) -> str:
    """One line per request: seq, UTC time, kind, method, status, path, and the fault that fired."""
    lines = [f"{'SEQ':>4}  {'TIME (UTC)':<12}  {'KIND':<9}  {'METHOD':<6}  {'STATUS':<6}  PATH"]
    for entry in entries:
        fault = f"  [{entry['fault']}]" if entry.get("fault") else ""
        lines.append(f"{entry.get('seq', ''):>4}  {_format_time(entry.get('time')):<12}  {entry.get('kind', ''):<9}  "
                     f"{entry.get('method', ''):<6}  {entry.get('status', ''):<6}  {entry.get('path', '')}{fault}")
    return "\n".join(lines)


def is_write(entry: dict[str, Any]) -> bool:
    """An ARM request that may change something (a Resource Graph query is a POST that only reads)."""
    return (entry.get("kind") == "arm" and entry.get("method") in WRITE_METHODS
            and not str(entry.get("path", "")).lower().startswith("/providers/microsoft.resourcegraph/"))


def cmd_log(args: argparse.Namespace) -> int:
    control = _control(args)
    entries = _call("log", lambda: control.requests(args.kind))
    if args.writes:
        entries = [e for e in entries if is_write(e)]
    print(json.dumps(entries, indent=2) if args.json else format_log(entries))
    return 0


def cmd_clear_log(args: argparse.Namespace) -> int:
    control = _control(args)
    _call("clear-log", control.clear_requests)
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    control = _control(args)
    print(json.dumps(_call("state", control.state), indent=2))
    return 0


def cmd_configure(args: argparse.Namespace) -> int:
    settings = _pairs(args.settings, "configure")
    control = _control(args)
    _call("configure", lambda: control.configure(**settings))
    return 0


def environment(info: dict[str, Any], seed: dict[str, Any] | None) -> dict[str, str]:
    """The variables that point azure-identity and privatelink.azure at the emulator ``info`` describes."""
    env = {
        "AZURE_ARM_ENDPOINT": info["base_url"],
        "AZURE_AUTHORITY_HOST": info["base_url"],
        "AZURE_DISABLE_INSTANCE_DISCOVERY": "true",
        "REQUESTS_CA_BUNDLE": info["ca_file"],
    }
    seed = seed or {}
    subscriptions = seed.get("subscriptions") or sorted({
        item["subscription_id"] for key in ("accounts", "resources", "resource_groups")
        for item in seed.get(key) or []})
    if len(subscriptions) == 1:
        env["AZURE_SUBSCRIPTION_ID"] = subscriptions[0]
    principal = next((p for p in seed.get("principals") or [] if "secret" in p), None)
    if principal is not None:
        env.update(AZURE_CLIENT_ID=principal["client_id"], AZURE_SECRET=principal["secret"],
                   AZURE_TENANT=principal["tenant"])
    return env


def cmd_env(args: argparse.Namespace) -> int:
    info = read_info(args.info_file)
    seed_file = args.seed or info.get("seed_file")
    seed = load_seed_file(seed_file) if seed_file else None
    for name, value in environment(info, seed).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    info = _read_json(args.info_file)
    if info is None:
        print(f"armemu: not running (no {args.info_file})")
        return 0
    pid = info.get("pid")
    if not isinstance(pid, int) or not _pid_alive(pid) or not _is_armemu(pid):
        args.info_file.unlink(missing_ok=True)
        print(f"armemu: not running (removed the stale {args.info_file})")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    # The emulator removes its info file as its last act; a process we did not start may stay a zombie.
    while args.info_file.exists() and _pid_alive(pid):
        if time.monotonic() > deadline:
            raise CliError(f"the emulator (pid {pid}) did not stop within {args.timeout:g} s")
        time.sleep(0.05)
    print(f"armemu: stopped (pid {pid})")
    return 0


# ---- parser ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="armemu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--info-file", type=Path, default=None,
                        help="the running emulator's info file (default: $ARMEMU_INFO_FILE, "
                             "$XDG_RUNTIME_DIR/armemu/info.json or ~/.cache/armemu/info.json)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the emulator")
    serve.add_argument("--seed", help="the world to emulate: a YAML or JSON file (see docs/emulator.md)")
    serve.add_argument("--background", action="store_true",
                       help="start in the background and return once it listens (log next to the info file)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="default: a free port")
    serve.add_argument("--state-dir", help="directory for the CA and server certificate (default: a temp dir)")
    serve.add_argument("--op-duration", type=float, default=0.3, help="seconds a PUT/DELETE runs (0.3)")
    serve.add_argument("--dequeued-polls", type=int, default=1, help="'Dequeued' poll answers before the end (1)")
    serve.add_argument("--retry-after", default=None, help="Retry-After on 202s and polls (default: none)")
    serve.set_defaults(func=cmd_serve)

    reseed = sub.add_parser("reseed", parents=[common], help="replace the emulated world")
    reseed.add_argument("--seed", required=True, help="YAML or JSON seed file")
    reseed.set_defaults(func=cmd_reseed)

    fault = sub.add_parser("fault", parents=[common], help="make matching requests fail", epilog=FAULT_EPILOG,
                           description="Add a fault rule; prints its id (the log shows it next to the requests "
                                       "it hit).", formatter_class=argparse.RawDescriptionHelpFormatter)
    fault.add_argument("action", choices=sorted(ACTIONS), metavar="ACTION")
    fault.add_argument("--kind", help="arm, operation, token, msi or any (default: arm; token actions: any)")
    fault.add_argument("--method", help="HTTP method or any (default: PUT; token actions: any)")
    fault.add_argument("--path-contains", help="only requests whose path contains this text")
    fault.add_argument("--times", help="how many requests it hits: a number (default 1) or 'forever'")
    fault.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                       help="action parameter, e.g. status=429 retry_after=10 (JSON values allowed)")
    fault.set_defaults(func=cmd_fault)

    sub.add_parser("clear-faults", parents=[common], help="remove every fault").set_defaults(func=cmd_clear_faults)

    log = sub.add_parser("log", parents=[common], help="the requests received so far")
    log.add_argument("--kind", choices=["arm", "operation", "token", "msi", "discovery", "instance_discovery"],
                     help="only this kind of request (default: all)")
    log.add_argument("--writes", action="store_true",
                     help="only ARM writes (PUT, PATCH, DELETE, POST except Resource Graph queries)")
    log.add_argument("--json", action="store_true", help="the full entries as a JSON list")
    log.set_defaults(func=cmd_log)

    sub.add_parser("clear-log", parents=[common], help="forget the requests received so far").set_defaults(
        func=cmd_clear_log)
    sub.add_parser("state", parents=[common], help="the emulated world now (JSON)").set_defaults(func=cmd_state)

    configure = sub.add_parser("configure", parents=[common], help="change settings of the running emulator")
    configure.add_argument("settings", nargs="+", metavar="KEY=VALUE",
                           help="op_duration=SECONDS, dequeued_polls=N, retry_after=SECONDS|null")
    configure.set_defaults(func=cmd_configure)

    env = sub.add_parser("env", parents=[common], help="print export lines for the running emulator",
                         description="Prints AZURE_ARM_ENDPOINT, AZURE_AUTHORITY_HOST, "
                                     "AZURE_DISABLE_INSTANCE_DISCOVERY, REQUESTS_CA_BUNDLE, AZURE_SUBSCRIPTION_ID "
                                     "(when the seed has one subscription) and AZURE_CLIENT_ID/AZURE_SECRET/"
                                     "AZURE_TENANT of the seed's first principal with a secret. "
                                     "Use: eval \"$(armemu env)\"")
    env.add_argument("--seed", help="take the principal and subscription from this seed (default: the served one)")
    env.set_defaults(func=cmd_env)

    stop = sub.add_parser("stop", parents=[common], help="stop the running emulator")
    stop.add_argument("--timeout", type=float, default=STOP_TIMEOUT)
    stop.set_defaults(func=cmd_stop)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.info_file = (args.info_file or default_info_file()).absolute()
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"armemu: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:  # `armemu log | head`: the reader is gone, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
