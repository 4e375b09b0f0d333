# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared harness of the module tests: run a module's main() in-process with its commands
answered by the test and its binaries looked up in a fixed set, and return its JSON result."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


def reset_warnings(monkeypatch):
    """Warnings are kept per process; start every module run without earlier ones."""
    from ansible.module_utils.common import warnings
    for name in ('_global_warnings', '_global_deprecations'):
        if hasattr(warnings, name):
            monkeypatch.setattr(warnings, name, type(getattr(warnings, name))())


def warning_texts(result):
    """Warning messages of a result: plain strings, or WarningSummary dicts (ansible-core 2.19)."""
    texts = []
    for warning in result.get('warnings', []):
        if isinstance(warning, dict):
            warning = (warning.get('event') or {}).get('msg') or warning.get('msg') or json.dumps(warning)
        texts.append(warning)
    return texts


def run_main(monkeypatch, capsys, module, args, run_command, bins=None):
    """module.main() with AnsibleModule.run_command replaced by ``run_command(module, args, **kwargs)``.

    ``bins``: the binaries get_bin_path finds (as /usr/bin/<name>); None finds every binary.
    Returns the module's JSON result with its exit code as ``_rc``.
    """
    reset_warnings(monkeypatch)

    def answer(self, cmd, **kwargs):  # a method: run_command may be any callable
        return run_command(self, cmd, **kwargs)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', answer)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        if bins is None or name in bins:
            return '/usr/bin/' + name
        if required:
            self.fail_json(msg='Failed to find required executable "%s"' % name)
        return None
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    result = json.loads(capsys.readouterr().out)
    result['_rc'] = exc.value.code
    return result
