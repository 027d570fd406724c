# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Run the collection's modules inside the controller's worker process.

These modules only talk to Azure over HTTPS; the host they "run on" is nearly always the
controller itself (``hosts: localhost``, ``delegate_to: localhost``). Starting a module process
for that costs more than the module's own work: building and writing the AnsiballZ payload,
a new Python interpreter, importing ``ansible.module_utils.basic``, ``requests`` and
``azure.identity``, and signing in again. When the task's connection is the controller's own
(``local``), without ``become`` or ``async``, the action plugins of the modules therefore run the
same task (module_utils/_tasks.py) right here, with the same argument validation as
``AnsibleModule`` (the public ``ArgumentSpecValidator``, its warnings and deprecations carried into
the result) and the same result: options checked before any request, ``invocation``, no_log values
removed, every secret the run knows redacted, check and diff mode. Within one task, the items of a
loop share one token and one keep-alive connection. Unlike a module process, a long wait here shows
its progress while the task runs (module_utils/_progress.py).

Everything else (another host, ``become``, ``async``, a controller Python that cannot import ``requests`` or
``azure-identity``, or ``privatelink_azure_run_on_controller: false``) executes the module the
usual way.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.validation import check_type_bool
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.privatelink.azure.plugins.module_utils import _progress, _redact
from ansible_collections.privatelink.azure.plugins.module_utils._errors import CollectionError
from ansible_collections.privatelink.azure.plugins.module_utils._module import crash, execute, failure

# Imported here on purpose: the strategy loads this plugin's class in ansible-playbook's main
# process before it forks a worker for each task, so every task inherits these modules already
# imported instead of paying ~0.2 s for them. If they cannot be imported, for whatever reason (not
# installed, or broken: a library raising anything at import time), the module runs as a module
# process, whose own error names what is wrong.
try:
    import requests  # noqa: F401  # pylint: disable=unused-import
    from azure import identity  # noqa: F401  # pylint: disable=unused-import
except Exception as exc:  # pylint: disable=broad-exception-caught
    HAS_DEPENDENCIES = False
    DEPENDENCIES_ERROR: str | None = f"{type(exc).__name__}: {exc}"
else:
    HAS_DEPENDENCIES = True
    DEPENDENCIES_ERROR = None

display = Display()

# The variable that turns running on the controller off (docs/guarantees.md).
SWITCH = "privatelink_azure_run_on_controller"


def plain(value: t.Any) -> t.Any:
    """The task's arguments as the module process would receive them: plain JSON types."""
    if isinstance(value, t.Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


@contextlib.contextmanager
def environment(variables: t.Mapping[str, t.Any]) -> t.Iterator[None]:
    """The task's ``environment`` keyword, as a module process would get it, for the time of the task.

    Only the task's own variables are set and then restored (or removed): the rest of the
    worker's environment is never rewritten.
    """
    values = {str(name): str(value) for name, value in (variables or {}).items()}
    saved = {name: os.environ.get(name) for name in values}
    try:
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class ProgressLines:
    """Turns progress events (module_utils/_progress.py) into lines for the person watching.

    At the default verbosity a wait says nothing for its first ``first`` seconds (most approvals
    end sooner), then prints one line and another about every ``every`` seconds. From -vv every
    poll prints a line; from -vvv with the poll's request id.
    """

    def __init__(self, verbosity: int, emit: t.Callable[[str], None], first: float = 3.0, every: float = 10.0) -> None:
        self._verbosity = verbosity
        self._emit = emit
        self._first = first
        self._every = every
        self._next = first
        self._last: tuple[str, int] | None = None

    def __call__(self, event: _progress.ProgressEvent) -> None:
        if self._last is None or event.action != self._last[0] or event.polls <= self._last[1]:
            self._next = self._first  # another operation (the next item of a loop): start again
        self._last = (event.action, event.polls)
        if self._verbosity < 2:
            if event.elapsed < self._next:
                return
            self._next = event.elapsed + self._every
        line = f"{event.action}: operation {event.status or 'running'}, waited {event.elapsed:.0f} s"
        if self._verbosity >= 2:
            line += f" (poll {event.polls})"
        if self._verbosity >= 3 and event.request_id:
            line += f", request id {event.request_id}"
        self._emit(_redact.redact_text(line))


class _LogToDisplay(logging.Handler):
    """Library log records (azure-identity's ``get_token failed: ...``), redacted, at -vvvv."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # pylint: disable=broad-exception-caught
            text = str(record.msg)
        display.vvvv(_redact.redact_text(f"{record.name}: {text}"))


@contextlib.contextmanager
def library_logs_to_display(names: t.Iterable[str] = ("azure", "msal")) -> t.Iterator[None]:
    """For the time of a task, send the libraries' log records through Display instead of stderr.

    A module process's stderr is not shown, but here Python's last-resort handler would write
    azure-identity's warnings (which quote the token endpoint's answer, however much of the request
    it echoes) straight to ansible-playbook's stderr.
    """
    handler = _LogToDisplay(logging.WARNING)
    loggers = [logging.getLogger(name) for name in names]
    saved = [logger.propagate for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, propagate in zip(loggers, saved):
            logger.removeHandler(handler)
            logger.propagate = propagate


def _validation_notes(validation: t.Any) -> dict[str, t.Any]:
    """The warnings and deprecations of argument validation, as a module process returns them.

    ``AnsibleModule`` reports them through module_utils' global warning list, which only a module
    process's ``exit_json`` reads; here they become the result's ``warnings`` and ``deprecations``.
    The messages are AnsibleModule's (ansible.module_utils.common.arg_spec.ModuleArgumentSpecValidator).
    """
    notes: dict[str, t.Any] = {}
    # Private attributes of the public result: the only place the validator keeps them.
    warnings = [f"Both option {w['option']} and its alias {w['alias']} are set."
                for w in getattr(validation, "_warnings", [])]
    deprecations = [{key: d[key] for key in ("msg", "version", "date", "collection_name") if d.get(key) is not None}
                    for d in getattr(validation, "_deprecations", []) if d.get("msg")]
    if warnings:
        notes["warnings"] = warnings
    if deprecations:
        notes["deprecations"] = deprecations
    return notes


def run_task(definition: t.Any, args: t.Mapping[str, t.Any], *, check_mode: bool, diff: bool) -> dict[str, t.Any]:
    """What the module would return for ``args``, computed in this process."""
    spec = definition.spec
    validator = ArgumentSpecValidator(
        spec["argument_spec"],
        mutually_exclusive=spec.get("mutually_exclusive"),
        required_together=spec.get("required_together"),
        required_one_of=spec.get("required_one_of"),
        required_if=spec.get("required_if"),
        required_by=spec.get("required_by"),
    )
    validation = validator.validate(plain(args))
    params = validation.validated_parameters
    no_log_values = validation._no_log_values  # pylint: disable=protected-access
    if validation.error_messages:
        # The same message as AnsibleModule's, which stops at the first kind of error.
        msg = validation.errors.msg
        if isinstance(validation.errors[0], UnsupportedError):
            msg = f"Unsupported parameters for ({definition.name}) module: {msg}"
        result = {"failed": True, "msg": msg}
    else:
        try:
            with library_logs_to_display(), _progress.listening(ProgressLines(display.verbosity, display.display)):
                result = execute(definition, params, check_mode=check_mode, diff=diff)
        except CollectionError as err:
            result = {"failed": True, **failure(err)}
        except Exception as err:  # pylint: disable=broad-exception-caught
            # A bug of ours: fail this task with the traceback, as the module process does (_module.run_module).
            result = {"failed": True, **crash(definition.name, err)}
    # In the order of a module process (_module.run_module, then AnsibleModule.exit_json): every
    # secret the run knows redacted; then the invocation and validation notes added, and the
    # no_log values and those secrets masked in all of it.
    result = _redact.redact(result)
    result.setdefault("invocation", {"module_args": params})
    result.update(_validation_notes(validation))
    return remove_values(result, no_log_values | _redact.secrets())


class ControllerModuleAction(ActionBase):
    """The action plugin of a module that may run on the controller (see the module docstring)."""

    _supports_check_mode = True
    _supports_async = True
    DEFINITION: t.Any = None  # set by each action plugin: a module_utils._tasks.ModuleDefinition

    def _runs_here(self, task_vars: dict[str, t.Any]) -> str | None:
        """None when the task can run in this process, or why it cannot."""
        if self._task.async_val:
            return "async"
        if getattr(self._connection, "transport", None) != "local":
            return f"the connection is {getattr(self._connection, 'transport', 'unknown')!r}, not local"
        if self._play_context.become:
            return "become"
        if not HAS_DEPENDENCIES:
            return f"requests or azure-identity cannot be imported on the controller ({DEPENDENCIES_ERROR})"
        switch = task_vars.get(SWITCH, True)
        if not check_type_bool(self._templar.template(switch)):
            return f"{SWITCH} is false"
        return None

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        reason = self._runs_here(task_vars)
        if reason is None:
            display.vvv(f"{self.DEFINITION.name}: running in the controller's process")
            variables: dict[str, t.Any] = {}
            self._compute_environment_string(variables)
            with environment(variables):
                result.update(run_task(self.DEFINITION, self._task.args,
                                       check_mode=bool(self._task.check_mode), diff=bool(self._task.diff)))
            return result

        display.vvv(f"{self.DEFINITION.name}: running as a module process ({reason})")
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result.update(self._execute_module(module_name=self.DEFINITION.name, task_vars=task_vars,
                                           wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result
