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
``AnsibleModule`` and the same result: options checked before any request, ``invocation``, no_log
values removed, check and diff mode. Within one task, the items of a loop share one token and one
keep-alive connection.

Everything else (another host, ``become``, ``async``, a controller Python without ``requests`` or
``azure-identity``, or ``privatelink_azure_run_on_controller: false``) executes the module the
usual way.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import traceback
import typing as t

from ansible.module_utils.common.arg_spec import ModuleArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.validation import check_type_bool
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.privatelink.azure.plugins.module_utils._errors import CollectionError
from ansible_collections.privatelink.azure.plugins.module_utils._module import execute, failure

# Imported here on purpose: the strategy loads this plugin's class in ansible-playbook's main
# process before it forks a worker for each task, so every task inherits these modules already
# imported instead of paying ~0.2 s for them. Without them the module runs as a module process,
# whose own error names what is missing.
try:
    import requests  # noqa: F401  # pylint: disable=unused-import
    from azure import identity  # noqa: F401  # pylint: disable=unused-import
except ImportError:
    HAS_DEPENDENCIES = False
else:
    HAS_DEPENDENCIES = True

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
    """The task's ``environment`` keyword, as a module process would get it, for the time of the task."""
    if not variables:
        yield
        return
    saved = dict(os.environ)
    try:
        os.environ.update({str(name): str(value) for name, value in variables.items()})
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_task(definition: t.Any, args: t.Mapping[str, t.Any], *, check_mode: bool, diff: bool) -> dict[str, t.Any]:
    """What the module would return for ``args``, computed in this process."""
    spec = definition.spec
    validator = ModuleArgumentSpecValidator(
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
            result = execute(definition, params, check_mode=check_mode, diff=diff)
        except CollectionError as err:
            result = {"failed": True, **failure(err)}
        except Exception as err:  # pylint: disable=broad-exception-caught
            # A bug of ours: fail this task with the traceback, as a crashed module process would.
            result = {"failed": True, "msg": f"{definition.name} failed unexpectedly: {type(err).__name__}: {err}",
                      "exception": traceback.format_exc()}
    result.setdefault("invocation", {"module_args": params})
    return remove_values(result, no_log_values)


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
            return "requests or azure-identity is missing on the controller"
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
